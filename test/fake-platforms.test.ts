import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakePlatform, type FakePlatform, type FakePlatformOptions } from './support/fake-platforms.js';
import { waitFor } from './support/wait.js';

/**
 * The fake platforms check calls as docs/stock-sync.md says the real gateways do: each request here is
 * built by hand from the document's rules, so a client the fakes accept signs as the document says.
 * Ids beyond 2^53 travel as digits throughout.
 */

const SECRET = 'secret-4f1c9a';
const TOKEN = 'token-77d2e0';
const APP_KEY = '12345678';
const ITEM = '600000000000000001';
const SKU = '500000000000000001';

const fakes: FakePlatform[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(options: Partial<FakePlatformOptions> & Pick<FakePlatformOptions, 'platform'>) {
  const started = await startFakePlatform({
    credentials: { appKey: APP_KEY, appSecret: SECRET, accessToken: TOKEN },
    skus: [{ itemId: ITEM, skuId: SKU, quantity: 5 }],
    ...options,
  });
  fakes.push(started);
  return started;
}

/** The sign with its first character changed. */
const oneOff = (sign: string) => (sign[0] === 'A' ? 'B' : 'A') + sign.slice(1);

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const hmac = (algorithm: string, key: string, text: string) => createHmac(algorithm, key).update(text);

/** `yyyy-MM-dd HH:mm:ss` in GMT+8. */
const gmt8 = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

async function post(url: string, body: string, type: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type, ...headers } });
  return { status: res.status, text: await res.text() };
}

const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

describe('Taobao', () => {
  const signers: Record<string, (text: string) => string> = {
    md5: (text) => md5(SECRET + text + SECRET),
    hmac: (text) => hmac('md5', SECRET, text).digest('hex'),
    'hmac-sha256': (text) => hmac('sha256', SECRET, text).digest('hex'),
  };

  /** taobao.skus.quantity.update as a form, signed over every parameter sorted by name. */
  function skusUpdate(signMethod: string, quantities: string, timestamp = gmt8(Date.now())) {
    const params: Record<string, string> = {
      method: 'taobao.skus.quantity.update',
      app_key: APP_KEY,
      session: TOKEN,
      timestamp,
      v: '2.0',
      format: 'json',
      sign_method: signMethod,
      num_iid: ITEM,
      skuid_quantities: quantities,
      type: '1',
    };
    const sorted = Object.keys(params)
      .sort()
      .map((name) => name + params[name])
      .join('');
    return { ...params, sign: signers[signMethod](sorted).toUpperCase() };
  }

  it.each(['md5', 'hmac', 'hmac-sha256'])(
    'accepts a call signed with %s and refuses a sign one character off',
    async (method) => {
      const taobao = await fake({ platform: 'TAOBAO' });
      const good = skusUpdate(method, `${SKU}:7`);

      const refused = await post(
        taobao.baseUrl,
        new URLSearchParams({ ...good, sign: oneOff(good.sign) }).toString(),
        FORM,
      );
      expect(JSON.parse(refused.text)).toMatchObject({
        error_response: { code: 25, msg: 'Invalid signature' },
      });
      expect(taobao.quantity(SKU)).toBe(5);

      const accepted = await post(taobao.baseUrl, new URLSearchParams(good).toString(), FORM);
      expect(accepted.text).toContain(`"num_iid":${ITEM},`);
      expect(accepted.text).toContain(`"sku":[{"sku_id":${SKU},"quantity":7}]`);
      expect(taobao.quantity(SKU)).toBe(7);
      expect(taobao.writes()).toBe(1);
      expect(refused.text).not.toContain(SECRET);
      expect(refused.text).not.toContain(TOKEN);
    },
  );

  it('refuses a timestamp more than ten minutes off, and an unknown SKU, changing nothing', async () => {
    const taobao = await fake({ platform: 'TAOBAO' });
    const stale = skusUpdate('md5', `${SKU}:7`, gmt8(Date.now() - 11 * 60_000));
    const unknown = skusUpdate('md5', `${SKU}1:7`);

    const replies = await Promise.all(
      [stale, unknown].map((form) => post(taobao.baseUrl, new URLSearchParams(form).toString(), FORM)),
    );
    expect(JSON.parse(replies[0].text)).toMatchObject({
      error_response: { code: 31, msg: 'Invalid timestamp' },
    });
    expect(JSON.parse(replies[1].text)).toMatchObject({
      error_response: { code: 15, sub_code: 'isv.sku-not-exist' },
    });
    expect(taobao.history(SKU)).toEqual([5]);
    expect(taobao.calls.map((c) => c.accepted)).toEqual([false, false]);
  });
});

describe('Douyin', () => {
  /** sku.syncStock: the system parameters in the query, param_json (keys sorted, no spaces) as the body. */
  function syncStock(stock: number, token = TOKEN) {
    const paramJson = `{"incremental":false,"product_id":${ITEM},"sku_id":${SKU},"stock_num":${stock}}`;
    const timestamp = gmt8(Date.now());
    const signed = `${SECRET}app_key${APP_KEY}methodsku.syncStockparam_json${paramJson}timestamp${timestamp}v2${SECRET}`;
    const query = {
      app_key: APP_KEY,
      method: 'sku.syncStock',
      v: '2',
      timestamp,
      access_token: token,
      sign_method: 'hmac-sha256',
      sign: hmac('sha256', SECRET, signed).digest('hex'),
    };
    return { query, paramJson };
  }

  it('accepts a correctly signed sku.syncStock and refuses a sign one character off', async () => {
    const douyin = await fake({ platform: 'DOUYIN' });
    const { query, paramJson } = syncStock(9);
    const url = (q: Record<string, string>) => `${douyin.baseUrl}/sku/syncStock?${new URLSearchParams(q)}`;

    const refused = await post(url({ ...query, sign: oneOff(query.sign) }), paramJson, 'application/json');
    expect(JSON.parse(refused.text)).toMatchObject({ err_no: 30001 });
    const accepted = await post(url(query), paramJson, 'application/json');
    expect(JSON.parse(accepted.text)).toMatchObject({ err_no: 0, message: 'success' });
    expect(douyin.history(SKU)).toEqual([5, 9]);
  });

  it('refuses another access_token, which the sign does not cover', async () => {
    const douyin = await fake({ platform: 'DOUYIN' });
    const { query, paramJson } = syncStock(9, `${TOKEN}x`);

    const reply = await post(
      `${douyin.baseUrl}/sku/syncStock?${new URLSearchParams(query)}`,
      paramJson,
      'application/json',
    );
    expect(JSON.parse(reply.text)).toMatchObject({ err_no: 30002 });
    expect(douyin.history(SKU)).toEqual([5]);
  });
});

describe('Kuaishou', () => {
  /** A form signed over the seven system fields as k=v&… plus &signSecret=, HMAC-SHA256 in Base64. */
  function call(method: string, param: string) {
    const fields: Record<string, string> = {
      access_token: TOKEN,
      appkey: APP_KEY,
      method,
      param,
      signMethod: 'HMAC_SHA256',
      timestamp: String(Date.now()),
      version: '1',
    };
    const text = `${Object.keys(fields)
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&')}&signSecret=${SECRET}`;
    return { ...fields, sign: hmac('sha256', SECRET, text).digest('base64') };
  }
  const change = (changeType: 1 | 2, by: number) =>
    call(
      'open.item.sku.stock.update',
      `{"kwaiItemId":${ITEM},"skuId":${SKU},"skuChangeStock":${by},"changeType":${changeType}}`,
    );

  it('accepts a correctly signed change and refuses a sign one character off', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU' });
    const url = `${kuaishou.baseUrl}/open/item/sku/stock/update`;
    const good = change(1, 3);

    const refused = await post(
      url,
      new URLSearchParams({ ...good, sign: oneOff(good.sign) }).toString(),
      FORM,
    );
    expect(JSON.parse(refused.text)).toMatchObject({ result: 401 });
    const accepted = await post(url, new URLSearchParams(good).toString(), FORM);
    expect(JSON.parse(accepted.text)).toMatchObject({ result: 1, msg: 'success' });
    expect(kuaishou.quantity(SKU)).toBe(8);
  });

  it('refuses a subtraction below zero and changes nothing', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU' });
    const reply = await post(
      `${kuaishou.baseUrl}/open/item/sku/stock/update`,
      new URLSearchParams(change(2, 6)).toString(),
      FORM,
    );
    expect(JSON.parse(reply.text)).toMatchObject({ result: 500 });
    expect(kuaishou.history(SKU)).toEqual([5]);
  });

  it('applies a change whose reply is lost; reading the item shows it, and the history has every value', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU' });
    kuaishou.failNext('loseReply');
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

    await expect(
      post(`${kuaishou.baseUrl}/open/item/sku/stock/update`, form(change(2, 2)), FORM),
    ).rejects.toThrow();
    kuaishou.setQuantity(SKU, 10);
    const read = await post(
      `${kuaishou.baseUrl}/open/item/get`,
      form(call('open.item.get', `{"kwaiItemId":${ITEM}}`)),
      FORM,
    );

    expect(read.text).toBe(
      `{"result":1,"msg":"success","data":{"kwaiItemId":${ITEM},"skuList":[{"skuId":${SKU},"skuStock":10}]}}`,
    );
    expect(kuaishou.history(SKU)).toEqual([5, 3, 10]);
    expect(kuaishou.calls).toMatchObject([
      { method: 'open.item.sku.stock.update', write: true, accepted: true, fault: 'loseReply' },
      { method: 'open.item.get', write: false, accepted: true },
    ]);
    expect(kuaishou.writes()).toBe(1);
  });

  it('notes when each accepted write arrived and when it was applied, and what it did to the SKU', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU', latencyMs: 50 });
    const reply = await post(
      `${kuaishou.baseUrl}/open/item/sku/stock/update`,
      new URLSearchParams(change(2, 2)).toString(),
      FORM,
    );

    expect(JSON.parse(reply.text)).toMatchObject({ result: 1 });
    const [call] = kuaishou.calls;
    expect(call).toMatchObject({ accepted: true, changes: [{ skuId: SKU, before: 5, after: 3 }] });
    // Decided at the end of the platform's processing time, not when it arrived.
    expect(call.appliedAt! - call.arrivedAt).toBeGreaterThanOrEqual(49);
  });

  it('applyLate: no reply, and the change lands lateMs later, after the caller has given up', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU', lateMs: 300 });
    kuaishou.failNext('applyLate');

    await expect(
      fetch(`${kuaishou.baseUrl}/open/item/sku/stock/update`, {
        method: 'POST',
        body: new URLSearchParams(change(2, 2)).toString(),
        headers: { 'content-type': FORM },
        signal: AbortSignal.timeout(50),
      }),
    ).rejects.toThrow();
    await waitFor(() => kuaishou.quantity(SKU) === 3, 'the late change');
    expect(kuaishou.pendingLate()).toBe(0);

    expect(kuaishou.history(SKU)).toEqual([5, 3]);
    const [call] = kuaishou.calls;
    expect(call).toMatchObject({ fault: 'applyLate', write: true, accepted: true });
    expect(call.appliedAt! - call.arrivedAt).toBeGreaterThanOrEqual(299);
    expect(kuaishou.writes()).toBe(1);
  });

  it('applyLate: a caller that waits gets no reply, only a dropped connection once the change is applied', async () => {
    const kuaishou = await fake({ platform: 'KUAISHOU', lateMs: 100 });
    kuaishou.failNext('applyLate');

    await expect(
      post(
        `${kuaishou.baseUrl}/open/item/sku/stock/update`,
        new URLSearchParams(change(1, 4)).toString(),
        FORM,
      ),
    ).rejects.toThrow();

    // Applied before the socket dropped.
    expect(kuaishou.quantity(SKU)).toBe(9);
    expect(kuaishou.calls).toMatchObject([{ fault: 'applyLate', accepted: true }]);
  });
});

describe('Shopify', () => {
  const ITEM_GID = 'gid://shopify/InventoryItem/1';
  const LOCATION = 'gid://shopify/Location/1';
  const MUTATION = `mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code field message } }
  }`;
  const set = (quantity: number, changeFromQuantity: number | null) => ({
    name: 'available',
    reason: 'correction',
    referenceDocumentUri: 'gid://order-hub/StockSync/1',
    quantities: [{ inventoryItemId: ITEM_GID, locationId: LOCATION, quantity, changeFromQuantity }],
  });

  it('refuses a stale changeFromQuantity, and answers a repeated key with its first result', async () => {
    const shop = await fake({
      platform: 'SHOPIFY',
      credentials: { accessToken: TOKEN },
      skus: [{ itemId: ITEM_GID, skuId: ITEM_GID, locationId: LOCATION, quantity: 5 }],
    });
    const graphql = (variables: object) =>
      post(
        `${shop.baseUrl}/admin/api/2026-04/graphql.json`,
        JSON.stringify({ query: MUTATION, variables }),
        'application/json',
        {
          'x-shopify-access-token': TOKEN,
        },
      ).then((r) => JSON.parse(r.text));

    const stale = await graphql({ input: set(8, 4), key: 'a' });
    expect(stale.data.inventorySetQuantities.userErrors).toEqual([
      expect.objectContaining({
        code: 'CHANGE_FROM_QUANTITY_STALE',
        field: ['input', 'quantities', '0', 'changeFromQuantity'],
      }),
    ]);
    const first = await graphql({ input: set(8, 5), key: 'b' });
    shop.setQuantity(ITEM_GID, 6, LOCATION);
    const again = await graphql({ input: set(8, 5), key: 'b' });

    expect(first.data).toEqual({ inventorySetQuantities: { userErrors: [] } });
    expect(again.data).toEqual(first.data);
    expect(first.extensions.cost.throttleStatus).toEqual({
      maximumAvailable: 1000,
      currentlyAvailable: expect.any(Number),
      restoreRate: 50,
    });
    expect(shop.history(ITEM_GID, LOCATION)).toEqual([5, 8, 6]);
  });
});
