import { describe, expect, it } from 'vitest';
import { idValue, jsonText, JsonDigits } from '../services/stock-sync/platforms/common.js';
import {
  douyinSign,
  gmt8Timestamp,
  kuaishouSign,
  topSign,
  topSortedConcat,
} from '../services/stock-sync/platforms/signing.js';

/**
 * The platforms' stock clients. The signatures against values worked out by hand (with another md5/hmac than
 * Node's) from docs/stock-sync.md.
 */

describe('signing', () => {
  const secret = 's3cret';
  const taobao = {
    method: 'taobao.skus.quantity.update',
    app_key: '12345',
    session: 'tok',
    timestamp: '2026-01-02 00:30:05',
    v: '2.0',
    format: 'json',
    sign_method: 'md5',
    num_iid: '6001',
    skuid_quantities: '7001:5;7002:0',
    type: '1',
  };

  it('TOP concatenates every parameter but sign as name and value, sorted by name', () => {
    expect(topSortedConcat({ ...taobao, sign: 'ignored' })).toBe(
      'app_key12345formatjsonmethodtaobao.skus.quantity.updatenum_iid6001sessiontoksign_methodmd5' +
        'skuid_quantities7001:5;7002:0timestamp2026-01-02 00:30:05type1v2.0',
    );
  });

  it('TOP signs with md5(secret + sorted + secret), hmac-md5 or hmac-sha256, in upper-case hex', () => {
    expect(topSign(taobao, secret, 'md5')).toBe('37D40358AFA4C394985748B05A4556DF');
    expect(topSign(taobao, secret, 'hmac')).toBe('9D9CD65FF173871C548681EEE2AC61F7');
    expect(topSign(taobao, secret, 'hmac-sha256')).toBe(
      '692D4901CE96C2AD583AFD1ADF1C670121063E7006B2DF4C0DE5BA2B81AF1417',
    );
  });

  it('Douyin signs secret, app_key, method, param_json, timestamp, v=2 and secret with hmac-sha256, lower-case', () => {
    const paramJson = '{"incremental":false,"product_id":3001,"sku_id":4001,"stock_num":7}';
    expect(
      douyinSign(
        { appKey: 'ak', method: 'sku.syncStock', paramJson, timestamp: '2026-01-02 00:30:05' },
        secret,
      ),
    ).toBe('db7a4068b91e6033d6c579948fe7311a562812ce8fc98ee960089befbb7e8ac2');
  });

  it('Kuaishou signs k=v&k=v sorted plus &signSecret: md5 in hex, hmac-sha256 in Base64', () => {
    const params = {
      appkey: 'ks1',
      method: 'open.item.get',
      version: '1',
      param: '{"kwaiItemId":9001}',
      access_token: 'tok',
      timestamp: '1767371405000',
    };
    expect(kuaishouSign({ ...params, signMethod: 'MD5' }, secret, 'MD5')).toBe(
      '5d7a65cb6f231083865117fca07f574f',
    );
    expect(kuaishouSign({ ...params, signMethod: 'HMAC_SHA256' }, secret, 'HMAC_SHA256')).toBe(
      'm6V3DK4NKM1YQpa8hW3P7aueGHEeBaBZsxYipVvJxj0=',
    );
  });

  it('timestamps are yyyy-MM-dd HH:mm:ss in GMT+8 whatever the zone', () => {
    expect(gmt8Timestamp(Date.UTC(2026, 0, 1, 16, 30, 5))).toBe('2026-01-02 00:30:05');
    expect(gmt8Timestamp(Date.UTC(2026, 11, 31, 15, 59, 59))).toBe('2026-12-31 23:59:59');
  });

  it('JSON keeps ids past 2^53 digit for digit, and sorts keys at every level when asked', () => {
    const id = '12345678901234567891';
    expect(jsonText({ b: 1, a: { d: idValue(id), c: [idValue('x7')] } }, true)).toBe(
      `{"a":{"c":["x7"],"d":${id}},"b":1}`,
    );
    expect(jsonText({ skuId: 'j1', stockNum: 3 })).toBe('{"skuId":"j1","stockNum":3}');
    expect(idValue('007')).toBe('007');
    expect(idValue('42')).toEqual(new JsonDigits('42'));
  });
});
