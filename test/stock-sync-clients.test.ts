import { afterEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { PlatformClients, PlatformRequestError } from '../services/platform-client.js';
import {
  PlatformRejectedError,
  PlatformThrottledError,
  type ChannelApi,
  type Listing,
  type SetResult,
  type StockClient,
  type StockClientOptions,
  type StockSet,
} from '../services/stock-sync/platform-api.js';
import { idValue, jsonText, JsonDigits } from '../services/stock-sync/platforms/common.js';
import { defaultBaseUrl, stockClientFor } from '../services/stock-sync/platforms/index.js';
import {
  douyinSign,
  gmt8Timestamp,
  kuaishouSign,
  topSign,
  topSortedConcat,
} from '../services/stock-sync/platforms/signing.js';
import {
  startFakePlatform,
  type FakeCredentials,
  type FakePlatform,
  type FakePlatformName,
  type FakePlatformOptions,
  type FakeSku,
} from './support/fake-platforms.js';

/**
 * The platforms' stock clients. First their signatures, against values worked out by hand (with another
 * md5/hmac than Node's) from docs/stock-sync.md; then each client against the fake platform of its dialect,
 * which checks every call as the real gateway does (signature, token, parameters) and keeps its own stock.
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

// ---- against the fake platforms ----

/** 2^53 + 1 and 2^54 + 1: a double would turn them into other ids. */
const BIG_ITEM = '9007199254740993';
const BIG_SKU = '18014398509481985';

interface Case {
  credentials: FakeCredentials;
  /** The fake's SKU; Shopify's skuId is the inventory item. */
  sku: FakeSku;
  listing: Listing;
}

const CASES: Record<FakePlatformName, Case> = {
  TAOBAO: {
    credentials: { appKey: 'tb-app', appSecret: 'tb-secret-1f2e', accessToken: 'tb-session-9a8b' },
    sku: { itemId: BIG_ITEM, skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-tb', platformItemId: BIG_ITEM, platformSkuId: BIG_SKU, locationId: null },
  },
  JD: {
    credentials: { appKey: 'jd-app', appSecret: 'jd-secret-1f2e', accessToken: 'jd-token-9a8b' },
    sku: { itemId: 'jd-ware', skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-jd', platformItemId: null, platformSkuId: BIG_SKU, locationId: null },
  },
  PINDUODUO: {
    credentials: { appKey: 'pdd-client', appSecret: 'pdd-secret-1f2e', accessToken: 'pdd-token-9a8b' },
    sku: { itemId: BIG_ITEM, skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-pdd', platformItemId: BIG_ITEM, platformSkuId: BIG_SKU, locationId: null },
  },
  DOUYIN: {
    credentials: { appKey: 'dy-app', appSecret: 'dy-secret-1f2e', accessToken: 'dy-token-9a8b' },
    sku: { itemId: BIG_ITEM, skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-dy', platformItemId: BIG_ITEM, platformSkuId: BIG_SKU, locationId: null },
  },
  KUAISHOU: {
    credentials: { appKey: 'ks-app', appSecret: 'ks-secret-1f2e', accessToken: 'ks-token-9a8b' },
    sku: { itemId: BIG_ITEM, skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-ks', platformItemId: BIG_ITEM, platformSkuId: BIG_SKU, locationId: null },
  },
  YOUZAN: {
    credentials: { appKey: 'yz-client', appSecret: 'yz-secret-1f2e', shopId: '55667788' },
    sku: { itemId: BIG_ITEM, skuId: BIG_SKU, quantity: 3 },
    listing: { listingId: 'L-yz', platformItemId: BIG_ITEM, platformSkuId: BIG_SKU, locationId: null },
  },
  SHOPIFY: {
    credentials: { accessToken: 'shpat_token_9a8b' },
    sku: {
      itemId: 'gid://shopify/Product/1',
      skuId: `gid://shopify/InventoryItem/${BIG_SKU}`,
      locationId: 'gid://shopify/Location/1',
      quantity: 3,
    },
    listing: {
      listingId: 'L-sh',
      platformItemId: `gid://shopify/InventoryItem/${BIG_SKU}`,
      platformSkuId: 'shopify-variant-1',
      locationId: 'gid://shopify/Location/1',
    },
  },
};

const PLATFORMS = Object.keys(CASES) as FakePlatformName[];
/** Where a write is a change rather than a set, or goes through a token or a read, the tests say so. */
const ABSOLUTE: FakePlatformName[] = ['TAOBAO', 'JD', 'PINDUODUO', 'DOUYIN', 'YOUZAN'];

const fakes: FakePlatform[] = [];
const clientSets: PlatformClients[] = [];

afterEach(async () => {
  for (const made of clientSets.splice(0)) made.close();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

const running = new AbortController().signal;

interface Setup {
  /** The fake's SKUs; the case's one by default. */
  skus?: FakeSku[];
  fake?: Partial<FakePlatformOptions>;
  client?: Partial<StockClientOptions>;
  /** What the hub sends, where it differs from what the fake accepts. */
  api?: Partial<ChannelApi>;
}

/** A fake platform and the hub's client for it, with quick timeouts and backoff and a breaker that stays shut. */
async function setup(platform: FakePlatformName, options: Setup = {}) {
  const { credentials, sku, listing } = CASES[platform];
  const fake = await startFakePlatform({
    platform,
    credentials,
    skus: options.skus ?? [sku],
    ...options.fake,
  });
  fakes.push(fake);
  const http = new PlatformClients({
    timeoutMs: 500,
    retries: 2,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    breaker: { volumeThreshold: 1_000 },
  });
  clientSets.push(http);
  const client = stockClientFor(Platform[platform], { http, ...options.client }) as StockClient;
  const api: ChannelApi = {
    channelId: `channel-${platform}`,
    channelCode: platform.toLowerCase(),
    platform: Platform[platform],
    baseUrl: fake.baseUrl,
    appKey: credentials.appKey ?? null,
    appSecret: credentials.appSecret ?? null,
    accessToken: credentials.accessToken ?? null,
    shopId: credentials.shopId ?? null,
    signMethod: credentials.signMethod ?? null,
    ...options.api,
  };
  const set = (sets: StockSet[]) => client.set(api, sets, running);
  return { fake, client, api, listing, sku, set };
}

function stockSet(
  listing: Listing,
  target: number,
  confirmed: number | null = 3,
  uncertain = false,
): StockSet {
  return { ...listing, target, confirmed, uncertain };
}

/** The fake's stock for the case's SKU (at its location for Shopify). */
const shown = (fake: FakePlatform, sku: FakeSku) => fake.quantity(sku.skuId, sku.locationId);
const historyOf = (fake: FakePlatform, sku: FakeSku) => fake.history(sku.skuId, sku.locationId);

async function failure(promise: Promise<SetResult>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err as Error,
  );
}

describe.each(PLATFORMS)('%s', (platform) => {
  it('sets the target: the fake accepts the call (signature, token, ids digit for digit) and shows it', async () => {
    const { fake, listing, sku, set } = await setup(platform);
    const { results } = await set([stockSet(listing, 7)]);
    expect(results).toEqual(new Map([[listing.listingId, { kind: 'set', quantity: 7 }]]));
    expect(shown(fake, sku)).toBe(7);
    expect(fake.calls.every((c) => c.accepted)).toBe(true);
    expect(fake.writes()).toBe(1);

    await set([stockSet(listing, 0, 7)]);
    expect(historyOf(fake, sku)).toEqual([3, 7, 0]);
  });

  it('refuses a wrong secret (Shopify: token) for the whole call, without the credentials in the message', async () => {
    const wrong =
      platform === 'SHOPIFY' ? { accessToken: 'shpat_wrong_5c5c' } : { appSecret: 'wrong-secret-5c5c' };
    const { fake, listing, sku, set } = await setup(platform, { api: wrong });
    const err = await failure(set([stockSet(listing, 7)]));
    expect(err).toBeInstanceOf(PlatformRejectedError);
    const { credentials } = CASES[platform];
    for (const secret of [...Object.values(wrong), credentials.appSecret, credentials.accessToken]) {
      if (secret) expect(`${String(err)} ${err.stack}`).not.toContain(secret);
    }
    expect(shown(fake, sku)).toBe(3);
  });

  // Kuaishou's changes are never sent twice: its own tests below.
  it.skipIf(platform === 'KUAISHOU')('retries after HTTP 5xx and then sets the target once', async () => {
    const { fake, listing, sku, set } = await setup(platform);
    fake.failNext('error5xx', 2);
    const { results } = await set([stockSet(listing, 7)]);
    expect(results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 7 });
    expect(historyOf(fake, sku)).toEqual([3, 7]);
    expect(fake.writes()).toBe(1);
  });

  it('gives up after its retries with a retryable error, nothing applied', async () => {
    const { fake, listing, sku, set } = await setup(platform);
    fake.failNext('error5xx', 10);
    const err = await failure(set([stockSet(listing, 7)]));
    expect(err).toBeInstanceOf(PlatformRequestError);
    expect((err as PlatformRequestError).retryable).toBe(true);
    expect(historyOf(fake, sku)).toEqual([3]);
  });

  it('answers a refused reduction (a promotion) as a failed listing, not a failed call', async () => {
    const { fake, listing, sku, set } = await setup(platform);
    fake.refuseReductions(sku.skuId, true, sku.locationId);
    const { results } = await set([stockSet(listing, 1)]);
    expect(results.get(listing.listingId)).toMatchObject({ kind: 'failed' });
    expect(shown(fake, sku)).toBe(3);

    const raised = await set([stockSet(listing, 9)]);
    expect(raised.results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 9 });
  });

  it('answers a SKU the platform does not know as a failed listing', async () => {
    const { listing, set } = await setup(platform);
    const unknown = platform === 'SHOPIFY' ? 'gid://shopify/InventoryItem/404' : '404404';
    const missing =
      platform === 'SHOPIFY'
        ? { ...listing, listingId: 'L-404', platformItemId: unknown }
        : { ...listing, listingId: 'L-404', platformSkuId: unknown };
    const { results } = await set([stockSet(missing, 5)]);
    expect(results.get('L-404')).toMatchObject({ kind: 'failed' });
  });
});

describe('throttling', () => {
  it.each<[FakePlatformName, Setup, number]>([
    ['TAOBAO', { fake: { throttleSeconds: 7 } }, 7_000],
    ['JD', {}, 1_000],
    ['PINDUODUO', { client: { throttleWaitMs: 1_234 } }, 1_234],
    ['DOUYIN', {}, 1_000],
    ['KUAISHOU', {}, 1_000],
    ['YOUZAN', {}, 30_000],
    // The budget is drained: an 11-point call restoring 50 points a second.
    ['SHOPIFY', {}, 220],
  ])(
    '%s: a throttled reply is PlatformThrottledError with the wait it announces',
    async (platform, options, waitMs) => {
      const { fake, listing, sku, set } = await setup(platform, options);
      fake.failNext('throttle');
      const err = await failure(set([stockSet(listing, 7)]));
      expect(err).toBeInstanceOf(PlatformThrottledError);
      expect((err as PlatformThrottledError).waitMs).toBe(waitMs);
      expect(shown(fake, sku)).toBe(3);
    },
  );
});

describe('batching', () => {
  const skusOf = (itemId: string, n: number, prefix: string): FakeSku[] =>
    Array.from({ length: n }, (_, i) => ({ itemId, skuId: `${prefix}${i + 1}`, quantity: 3 }));

  it('Taobao sets up to 20 SKUs of one item per call, keyed by num_iid', async () => {
    const skus = skusOf('6001', 45, '70');
    const { fake, client, set } = await setup('TAOBAO', { skus });
    const listings = skus.map((s, i) => ({
      listingId: `L${i}`,
      platformItemId: s.itemId,
      platformSkuId: s.skuId,
      locationId: null,
    }));
    expect(client.maxBatch).toBe(20);
    expect(new Set(listings.map((l) => client.batchKey(l)))).toEqual(new Set(['6001']));
    const { results } = await set(listings.map((l, i) => stockSet(l, i)));
    expect([...results.values()]).toEqual(listings.map((_, i) => ({ kind: 'set', quantity: i })));
    expect(skus.map((s) => fake.quantity(s.skuId))).toEqual(listings.map((_, i) => i));
    expect(fake.calls.map((c) => [c.method, c.skus.length])).toEqual([
      ['taobao.skus.quantity.update', 20],
      ['taobao.skus.quantity.update', 20],
      ['taobao.skus.quantity.update', 5],
    ]);
  });

  it('Taobao sends a refused batch again one SKU at a time, so one unknown SKU fails alone', async () => {
    const skus = skusOf('6001', 2, '70');
    const { fake, set } = await setup('TAOBAO', { skus });
    const listings = ['701', '702', '799'].map((skuId) => ({
      listingId: `L${skuId}`,
      platformItemId: '6001',
      platformSkuId: skuId,
      locationId: null,
    }));
    const { results } = await set(listings.map((l) => stockSet(l, 8)));
    expect(results.get('L701')).toEqual({ kind: 'set', quantity: 8 });
    expect(results.get('L702')).toEqual({ kind: 'set', quantity: 8 });
    expect(results.get('L799')).toMatchObject({ kind: 'failed', code: '15' });
    expect((results.get('L799') as { message: string }).message).toContain('isv.sku-not-exist');
    expect(fake.calls.map((c) => [c.skus.length, c.accepted])).toEqual([
      [3, false],
      [1, true],
      [1, true],
      [1, false],
    ]);
  });

  it('Douyin sets several SKUs of one product in one syncStockBatch call', async () => {
    const skus = skusOf(BIG_ITEM, 3, '880');
    const { fake, client, set } = await setup('DOUYIN', { skus });
    const listings = skus.map((s) => ({
      listingId: `L${s.skuId}`,
      platformItemId: s.itemId,
      platformSkuId: s.skuId,
      locationId: null,
    }));
    expect(client.batchKey(listings[0])).toBe(BIG_ITEM);
    await set(listings.map((l) => stockSet(l, 6)));
    expect(skus.map((s) => fake.quantity(s.skuId))).toEqual([6, 6, 6]);
    expect(fake.calls.map((c) => [c.method, c.skus.length, c.accepted])).toEqual([
      ['sku.syncStockBatch', 3, true],
    ]);
  });

  it('Shopify sets up to 250 levels of the store in one mutation', async () => {
    const location = 'gid://shopify/Location/1';
    const skus = Array.from({ length: 120 }, (_, i) => ({
      itemId: 'gid://shopify/Product/1',
      skuId: `gid://shopify/InventoryItem/${i + 1}`,
      locationId: location,
      quantity: 3,
    }));
    const { fake, client, set } = await setup('SHOPIFY', { skus });
    const listings = skus.map((s) => ({
      listingId: `L${s.skuId}`,
      platformItemId: s.skuId,
      platformSkuId: `v${s.skuId}`,
      locationId: location,
    }));
    expect([client.maxBatch, client.batchKey(listings[0])]).toEqual([250, 'store']);
    const { results } = await set(listings.map((l) => stockSet(l, 11)));
    expect([...results.values()].every((r) => r.kind === 'set' && r.quantity === 11)).toBe(true);
    expect(fake.calls.map((c) => [c.method, c.skus.length])).toEqual([['inventorySetQuantities', 120]]);
  });

  it('the others send one listing per call', () => {
    const http = new PlatformClients();
    clientSets.push(http);
    for (const platform of ['JD', 'PINDUODUO', 'KUAISHOU', 'YOUZAN'] as const) {
      const client = stockClientFor(Platform[platform], { http }) as StockClient;
      expect([client.maxBatch, client.batchKey(CASES[platform].listing)]).toEqual([
        1,
        CASES[platform].listing.listingId,
      ]);
    }
  });
});

describe('Kuaishou (changes only)', () => {
  it('sends the difference to what the platform holds now, after a sale there', async () => {
    const { fake, listing, sku, set } = await setup('KUAISHOU');
    fake.setQuantity(sku.skuId, 5);
    await set([stockSet(listing, 8, 3)]);
    expect(historyOf(fake, sku)).toEqual([3, 5, 8]);
    expect(fake.calls.map((c) => c.method)).toEqual(['open.item.get', 'open.item.sku.stock.update']);
  });

  it('writes nothing when the platform already holds the target', async () => {
    const { fake, listing, set } = await setup('KUAISHOU');
    const { results } = await set([stockSet(listing, 3, null, true)]);
    expect(results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 3 });
    expect(fake.writes()).toBe(0);
  });

  it('after a lost reply sends nothing again: the next push (unsure) reads back and finds it done', async () => {
    const { fake, listing, sku, set } = await setup('KUAISHOU');
    fake.failNext('loseReply');
    const err = await failure(set([stockSet(listing, 7)]));
    expect((err as PlatformRequestError).retryable).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual(['open.item.get', 'open.item.sku.stock.update']);
    const { results } = await set([stockSet(listing, 7, 3, true)]);
    expect(results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 7 });
    expect(historyOf(fake, sku)).toEqual([3, 7]);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'open.item.get',
      'open.item.sku.stock.update',
      'open.item.get',
    ]);
  });

  it('after HTTP 5xx on a change sends nothing again in the same push', async () => {
    const { fake, listing, sku, set } = await setup('KUAISHOU');
    fake.failNext('error5xx');
    const err = await failure(set([stockSet(listing, 7)]));
    expect((err as PlatformRequestError).retryable).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual(['open.item.get', 'open.item.sku.stock.update']);
    expect(historyOf(fake, sku)).toEqual([3]);
  });

  it('after a timeout reads back before sending anything again', async () => {
    const { fake, listing, sku, set } = await setup('KUAISHOU');
    fake.failNext('hang');
    expect(await failure(set([stockSet(listing, 1)]))).toBeInstanceOf(PlatformRequestError);
    await set([stockSet(listing, 1, 3, true)]);
    expect(historyOf(fake, sku)).toEqual([3, 1]);
    expect(fake.calls.map((c) => [c.method, c.accepted])).toEqual([
      ['open.item.get', true],
      ['open.item.sku.stock.update', false],
      ['open.item.get', true],
      ['open.item.sku.stock.update', true],
    ]);
  });

  it('never shows a value that was not a target, whatever replies are lost', async () => {
    const random = seeded(12);
    const { fake, listing, sku, set } = await setup('KUAISHOU', {
      fake: { faults: { rate: 0.5, kinds: ['loseReply', 'error5xx', 'loseReply'] }, random },
    });
    const targets = [7, 2, 9, 4, 4, 10, 0, 6];
    let confirmed: number | null = 3;
    let uncertain = false;
    for (const target of targets) {
      // As the sync would: again after a transient failure, now unsure of the outcome.
      for (;;) {
        try {
          await set([stockSet(listing, target, confirmed, uncertain)]);
          [confirmed, uncertain] = [target, false];
          break;
        } catch (err) {
          if (!(err instanceof PlatformRequestError && err.retryable)) throw err;
          uncertain = true;
        }
      }
      expect(shown(fake, sku)).toBe(target);
    }
    expect(fake.calls.some((c) => c.fault === 'loseReply')).toBe(true);
    for (const value of historyOf(fake, sku).slice(1)) expect(targets).toContain(value);
  });
});

describe('Shopify (compare and set)', () => {
  it('reads a level that changed behind the hub (stale), then sets it with a new key', async () => {
    const { fake, listing, sku, set } = await setup('SHOPIFY');
    fake.setQuantity(sku.skuId, 5, sku.locationId);
    const { results } = await set([stockSet(listing, 7, 3)]);
    expect(results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 7 });
    expect(historyOf(fake, sku)).toEqual([3, 5, 7]);
    expect(fake.calls.map((c) => [c.method, c.accepted])).toEqual([
      ['inventorySetQuantities', false],
      ['inventoryItem', true],
      ['inventorySetQuantities', true],
    ]);
  });

  it('retries a lost reply with the same idempotency key: Shopify answers it without applying it again', async () => {
    const { fake, listing, sku, set } = await setup('SHOPIFY');
    fake.failNext('loseReply');
    const { results } = await set([stockSet(listing, 7, 3)]);
    expect(results.get(listing.listingId)).toEqual({ kind: 'set', quantity: 7 });
    expect(historyOf(fake, sku)).toEqual([3, 7]);
    expect(fake.calls.map((c) => c.method)).toEqual(['inventorySetQuantities', 'inventorySetQuantities']);
  });

  it('reads the level first when the last outcome is unknown or nothing was confirmed', async () => {
    const { fake, listing, set } = await setup('SHOPIFY');
    await set([stockSet(listing, 7, 3, true)]);
    await set([stockSet(listing, 4, null)]);
    expect(fake.calls.map((c) => [c.method, c.accepted])).toEqual([
      ['inventoryItem', true],
      ['inventorySetQuantities', true],
      ['inventoryItem', true],
      ['inventorySetQuantities', true],
    ]);
  });

  it('leaves a level that keeps moving after three stale answers without a result (tried later, no failure)', async () => {
    const { fake, listing, sku, set } = await setup('SHOPIFY');
    // A sale before the hub's first write, and another after each of its reads (the fake records a
    // call as it answers it).
    fake.setQuantity(sku.skuId, 20, sku.locationId);
    const record = fake.calls.push.bind(fake.calls);
    fake.calls.push = (...calls) => {
      const count = record(...calls);
      if (calls.some((c) => c.method === 'inventoryItem'))
        fake.setQuantity(sku.skuId, 20 + count, sku.locationId);
      return count;
    };
    const { results } = await set([stockSet(listing, 7, 3)]);
    expect(results.has(listing.listingId)).toBe(false);
    expect(fake.calls.filter((c) => c.method === 'inventorySetQuantities')).toHaveLength(3);
    expect(historyOf(fake, sku)).not.toContain(7);
  });

  it('says how long to wait when the budget will not cover the next call', async () => {
    const { listing, set } = await setup('SHOPIFY', {
      fake: { shopifyBudget: { maximum: 25, restorePerSecond: 10 } },
    });
    expect((await set([stockSet(listing, 7, 3)])).nextCallDelayMs).toBeUndefined();
    // 25 − 11 − 11 = 3 points left, 11 needed at 10 a second.
    const second = await set([stockSet(listing, 8, 7)]);
    expect(second.nextCallDelayMs).toBeGreaterThan(0);
    expect(second.nextCallDelayMs).toBeLessThanOrEqual(800);
  });

  it('answers HTTP 401 for a bad token as a rejected call', async () => {
    const { listing, set } = await setup('SHOPIFY', { api: { accessToken: 'shpat_other' } });
    const err = await failure(set([stockSet(listing, 7)]));
    expect(err).toMatchObject({ name: 'PlatformRejectedError', code: 'HTTP_401' });
  });
});

describe('Youzan (token)', () => {
  it('fetches a token once and keeps it for the next calls', async () => {
    const { fake, listing, set } = await setup('YOUZAN');
    await set([stockSet(listing, 7)]);
    await set([stockSet(listing, 8, 7)]);
    expect(fake.calls.map((c) => c.method)).toEqual([
      'auth/token',
      'youzan.item.quantity.update',
      'youzan.item.quantity.update',
    ]);
  });

  it('fetches a new token 5 minutes before the old one expires', async () => {
    let now = Date.now();
    const { fake, listing, set } = await setup('YOUZAN', {
      fake: { youzanTokenTtlMs: 60 * 60_000, now: () => now },
      client: { now: () => now },
    });
    await set([stockSet(listing, 7)]);
    now += 56 * 60_000;
    await set([stockSet(listing, 8, 7)]);
    expect(fake.calls.map((c) => [c.method, c.accepted])).toEqual([
      ['auth/token', true],
      ['youzan.item.quantity.update', true],
      ['auth/token', true],
      ['youzan.item.quantity.update', true],
    ]);
  });

  it('fetches a new token once when the platform says the token expired', async () => {
    let platformNow = Date.now();
    const { fake, listing, sku, set } = await setup('YOUZAN', {
      fake: { youzanTokenTtlMs: 60 * 60_000, now: () => platformNow },
    });
    await set([stockSet(listing, 7)]);
    // The platform's clock is ahead of the hub's: the token it gave has expired there.
    platformNow += 61 * 60_000;
    await set([stockSet(listing, 8, 7)]);
    expect(shown(fake, sku)).toBe(8);
    expect(fake.calls.slice(2).map((c) => [c.method, c.error])).toEqual([
      ['youzan.item.quantity.update', '4203 access_token 已过期'],
      ['auth/token', undefined],
      ['youzan.item.quantity.update', undefined],
    ]);
  });

  it('rejects the call when even a fresh token is refused', async () => {
    const { fake, listing, set } = await setup('YOUZAN', { fake: { youzanTokenTtlMs: 0 } });
    const err = await failure(set([stockSet(listing, 7)]));
    expect(err).toMatchObject({ name: 'PlatformRejectedError', code: '4203' });
    expect(fake.calls.map((c) => c.method)).toEqual([
      'auth/token',
      'youzan.item.quantity.update',
      'auth/token',
      'youzan.item.quantity.update',
    ]);
  });
});

describe('requests', () => {
  it.each(['md5', 'hmac', 'hmac-sha256'])(
    'Taobao signs with %s when the channel says so',
    async (signMethod) => {
      const { fake, listing, set } = await setup('TAOBAO', {
        fake: { credentials: { ...CASES.TAOBAO.credentials, signMethod } },
        api: { signMethod },
      });
      await set([stockSet(listing, 7)]);
      expect(fake.calls.map((c) => c.accepted)).toEqual([true]);
    },
  );

  it.each(['MD5', 'HMAC_SHA256'])('Kuaishou signs with %s when the channel says so', async (signMethod) => {
    const { fake, listing, set } = await setup('KUAISHOU', {
      fake: { credentials: { ...CASES.KUAISHOU.credentials, signMethod } },
      api: { signMethod },
    });
    await set([stockSet(listing, 7)]);
    expect(fake.calls.map((c) => c.accepted)).toEqual([true, true]);
  });

  it('timestamps come from options.now: a clock 11 minutes off is refused (Taobao: code 31)', async () => {
    const { fake, listing, set } = await setup('TAOBAO', { client: { now: () => Date.now() - 11 * 60_000 } });
    const err = await failure(set([stockSet(listing, 7)]));
    expect(err).toMatchObject({ name: 'PlatformRejectedError', code: '31' });
    expect(fake.calls.map((c) => c.error)).toEqual(['31 Invalid timestamp']);
  });

  it('a reply that never comes is given up at the deadline and the absolute set sent again', async () => {
    const { fake, listing, sku, set } = await setup('JD');
    fake.failNext('hang');
    await set([stockSet(listing, 7)]);
    expect(historyOf(fake, sku)).toEqual([3, 7]);
    expect(fake.calls.map((c) => c.accepted)).toEqual([false, true]);
  });

  it.each(ABSOLUTE)('%s: an absolute set repeated after a lost reply leaves the target', async (platform) => {
    const { fake, listing, sku, set } = await setup(platform);
    fake.failNext('loseReply');
    await set([stockSet(listing, 7)]);
    expect(historyOf(fake, sku)).toEqual([3, 7]);
  });
});

describe('listings and gateways', () => {
  const http = () => {
    const made = new PlatformClients();
    clientSets.push(made);
    return made;
  };
  const bare: Listing = { listingId: 'L', platformSkuId: 's1', platformItemId: null, locationId: null };

  it('says what a listing lacks for its platform', () => {
    const problem = (platform: Platform, listing: Listing) =>
      (stockClientFor(platform, { http: http() }) as StockClient).listingProblem(listing);
    for (const platform of [
      Platform.TAOBAO,
      Platform.PINDUODUO,
      Platform.DOUYIN,
      Platform.KUAISHOU,
      Platform.YOUZAN,
    ]) {
      expect(problem(platform, bare)).toMatch(/platformItemId/);
      expect(problem(platform, { ...bare, platformItemId: 'i1' })).toBeNull();
    }
    expect(problem(Platform.JD, bare)).toBeNull();
    expect(problem(Platform.SHOPIFY, { ...bare, platformItemId: 'i1' })).toMatch(/locationId/);
    expect(problem(Platform.SHOPIFY, { ...bare, platformItemId: 'i1', locationId: 'l1' })).toBeNull();
  });

  it('has no client for the storefront, which reads its stock from the hub', () => {
    expect(stockClientFor(Platform.STOREFRONT, { http: http() })).toBeNull();
  });

  it('knows each platform’s real gateway', () => {
    expect(defaultBaseUrl(Platform.TAOBAO, null)).toBe('https://eco.taobao.com/router/rest');
    expect(defaultBaseUrl(Platform.JD, null)).toBe('https://api.jd.com/routerjson');
    expect(defaultBaseUrl(Platform.PINDUODUO, null)).toBe('https://gw-api.pinduoduo.com/api/router');
    expect(defaultBaseUrl(Platform.DOUYIN, null)).toBe('https://openapi-fxg.jinritemai.com');
    expect(defaultBaseUrl(Platform.KUAISHOU, null)).toBe('https://openapi.kwaixiaodian.com');
    expect(defaultBaseUrl(Platform.YOUZAN, '123')).toBe('https://open.youzanyun.com');
    expect(defaultBaseUrl(Platform.SHOPIFY, 'my-shop')).toBe('https://my-shop.myshopify.com');
    expect(defaultBaseUrl(Platform.SHOPIFY, 'my-shop.myshopify.com')).toBe('https://my-shop.myshopify.com');
    expect(() => defaultBaseUrl(Platform.SHOPIFY, null)).toThrow(/shopId/);
  });
});

/** A small deterministic PRNG (mulberry32), so a run with random faults can be repeated. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
