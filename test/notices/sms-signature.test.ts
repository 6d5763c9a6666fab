import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  percentEncode,
  rpcSignature,
  sendSmsParams,
  smsVerdict,
} from '../../services/notices/sms.js';

// Alibaba Cloud's RPC signature (version 1.0), checked against the worked example of its signature
// documentation (copied from the reference notes on the SMS API).

const EXAMPLE = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Timestamp: '2016-02-23T12:46:24Z',
  Version: '2014-05-26',
};

describe('SMS signature', () => {
  it('signs the documented example to its documented signature', () => {
    expect(rpcSignature('GET', EXAMPLE, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('percent-encodes as RFC 3986: unreserved kept, space %20, * %2A, ~ kept', () => {
    expect(percentEncode("a b*c~d-e_f.g!'()")).toBe('a%20b%2Ac~d-e_f.g%21%27%28%29');
    expect(percentEncode('/')).toBe('%2F');
    expect(percentEncode('已发货')).toBe('%E5%B7%B2%E5%8F%91%E8%B4%A7');
    expect(percentEncode('a+b=c&d')).toBe('a%2Bb%3Dc%26d');
  });

  it('sorts the canonical query by name', () => {
    expect(canonicalQuery({ b: '2', a: '1 1', C: '3' })).toBe('C=3&a=1%201&b=2');
  });

  it("makes SendSms's common parameters and signs them", () => {
    const params = sendSmsParams(
      { accessKeyId: 'id', accessKeySecret: 'secret', signName: '小店' },
      { phone: '13800001234', templateCode: 'SMS_1', params: { order: 'A-1' }, outId: '7' },
      new Date('2026-12-03T10:00:00.123Z'),
      'nonce-1',
    );
    const { Signature, ...signed } = params;
    expect(signed).toMatchObject({
      Action: 'SendSms',
      Format: 'JSON',
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: 'nonce-1',
      Timestamp: '2026-12-03T10:00:00Z',
      Version: '2017-05-25',
      PhoneNumbers: '13800001234',
      TemplateParam: '{"order":"A-1"}',
      OutId: '7',
    });
    expect(Signature).toBe(rpcSignature('POST', signed, 'secret'));
  });

  it('tells a throttle and a per-number limit from a refusal', () => {
    expect(smsVerdict({ Code: 'OK', BizId: 'b1' })).toEqual({ kind: 'sent', messageId: 'b1' });
    expect(smsVerdict({ Code: 'Throttling.User', Message: 'flow control' })).toMatchObject({
      kind: 'throttled',
      perNumber: false,
    });
    expect(smsVerdict({ Code: 'isv.BUSINESS_LIMIT_CONTROL' })).toMatchObject({
      kind: 'throttled',
      perNumber: true,
    });
    expect(smsVerdict({ Code: 'SignatureDoesNotMatch' }).kind).toBe('refused');
  });
});
