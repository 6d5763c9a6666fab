import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { SecretBox } from '../services/secret-box.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { TEST_SECRET_KEY } from './support/hub-process.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { feed, type Feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

// The API of the stock sync: credentials (write-only), the switch, caps, listings and their targets, manual
// pushes and the listing feed. No worker runs here: states are set in SQL where a push would set them.

const APP_SECRET = 'app-secret-9f2c71d4e8b3';
const ACCESS_TOKEN = 'access-token-5a0e6b19c7d2';
const NEW_TOKEN = 'access-token-rotated-33c1f0';
const WRONG_TYPED_SECRET = 'app-secret-in-a-bad-input-ab12cd';
const SECRETS = [APP_SECRET, ACCESS_TOKEN, NEW_TOKEN, WRONG_TYPED_SECRET];

const SET_API = `mutation($code: String!, $input: ChannelApiInput!) {
  setChannelApi(channelCode: $code, input: $input) { code }
}`;
const CHANNEL_API = `query($code: String!) {
  channel(code: $code) {
    code
    api { baseUrl defaultGateway appKey shopId signMethod requestsPerSecond pushDelayMs hasAppSecret hasAccessToken updatedAt }
  }
}`;
const STOCK_SYNC = `query($code: String!) {
  channel(code: $code) { stockSync { enabled listings pending failed oldestPendingSeconds } }
}`;
const SET_SYNC = `mutation($code: String!, $enabled: Boolean!) {
  setChannelStockSync(channelCode: $code, enabled: $enabled) { code }
}`;
const CHANNEL_STOCK = `query($code: String!) {
  product(productCode: $code) {
    channelStock {
      channel { code } productCode platformSkuId platformItemId locationId target confirmed confirmedAt state lastError cap
    }
  }
}`;
const MAP = `mutation($channel: String!, $sku: String!, $product: String!, $item: String, $location: String) {
  mapChannelSku(channelCode: $channel, platformSkuId: $sku, productCode: $product, platformItemId: $item, locationId: $location)
}`;
const SET_CAP = `mutation($channel: String!, $product: String!, $cap: Int) {
  setChannelStockCap(channelCode: $channel, productCode: $product, cap: $cap) { channel { code } productCode target cap }
}`;
const SYNC = `mutation($channel: String!, $products: [String!]) {
  syncStock(channelCode: $channel, productCodes: $products)
}`;
const LISTING_FEED = `subscription($channel: String) {
  channelStockChanged(channelCode: $channel) { channel { code } productCode platformSkuId state lastError confirmed target }
}`;

interface Listing {
  channel: { code: string };
  productCode: string;
  platformSkuId: string;
  platformItemId: string | null;
  locationId: string | null;
  target: number;
  confirmed: number | null;
  confirmedAt: string | null;
  state: string;
  lastError: string | null;
  cap: number | null;
}

describe('the stock sync API', () => {
  let hub: TestHub;
  const logLines: string[] = [];
  const statements: string[] = [];
  let counting = false;
  const keys: Record<string, string> = {};

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    hub.orm.em.fork().getConnection().execute<T[]>(query, params);
  const listingsOf = async (productCode: string, key?: string) => {
    const response = await hub.gql<{ product: { channelStock: Listing[] } }>(
      CHANNEL_STOCK,
      { code: productCode },
      key,
    );
    expect(response.errors).toBeUndefined();
    return response.data!.product.channelStock;
  };
  const listing = async (productCode: string, channelCode: string) =>
    (await listingsOf(productCode)).find((l) => l.channel.code === channelCode)!;
  const map = async (
    channel: string,
    sku: string,
    product: string,
    item?: string | null,
    location?: string,
  ) => {
    const response = await hub.gql(MAP, { channel, sku, product, item, location });
    expect(response.errors).toBeUndefined();
  };

  beforeAll(async () => {
    hub = await startTestHub('stock-sync-admin', {
      logLines,
      ormOverrides: {
        debug: ['query'],
        logger: (message: string) => {
          if (counting) statements.push(message);
        },
      },
    });
    await seedChannel(hub.orm, 'tmall-main', Platform.TAOBAO);
    await seedChannel(hub.orm, 'jd-core', Platform.JD, { isCore: true });
    await seedChannel(hub.orm, 'web-shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'yz-shop', Platform.YOUZAN);
    await seedChannel(hub.orm, 'shopify-eu', Platform.SHOPIFY);
    await seedChannel(hub.orm, 'pdd-live', Platform.PINDUODUO);
    await seedProduct(hub.orm, 'OPEN-1', 10);
    await seedProduct(hub.orm, 'LOW-1', 4);
    await seedProduct(hub.orm, 'CAP-1', 10);
    for (const role of ['OPS', 'ANALYST']) keys[role] = await hub.apiKey(role);
    keys.STOREFRONT = await hub.apiKey('STOREFRONT', 'web-shop');
    keys.CONNECTOR_TMALL = await hub.apiKey('CONNECTOR', 'tmall-main');
    keys.STOREFRONT_JD = await hub.apiKey('STOREFRONT', 'jd-core');
    for (const product of ['OPEN-1', 'LOW-1', 'CAP-1']) {
      await map('tmall-main', `tm-${product}`, product, `num-${product}`);
      await map('jd-core', `jd-${product}`, product, `ware-${product}`);
    }
    // Below its safety stock: closed on non-core channels (tmall-main), open on the core one (jd-core).
    const closed = await hub.gql(
      `mutation { setSafetyStock(productCode: "LOW-1", safetyStock: 5) { productCode } }`,
    );
    expect(closed.errors).toBeUndefined();
  });

  afterAll(() => hub?.close());

  describe('setChannelApi', () => {
    const taobaoApi = { appKey: '12345678', appSecret: APP_SECRET, accessToken: ACCESS_TOKEN };

    it('is for ADMIN keys only', async () => {
      for (const key of [keys.OPS, keys.ANALYST, keys.STOREFRONT, keys.CONNECTOR_TMALL]) {
        const refused = await hub.gql(SET_API, { code: 'tmall-main', input: taobaoApi }, key);
        expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
      }
      const [row] = await sql(`select count(*)::int as n from channel_api`);
      expect(row.n).toBe(0);
    });

    it('stores the secrets sealed with the hub key and never returns them', async () => {
      const set = await hub.gql(SET_API, { code: 'tmall-main', input: { ...taobaoApi, signMethod: 'md5' } });
      expect(set.errors).toBeUndefined();
      const read = await hub.gql<{ channel: { api: Record<string, unknown> } }>(CHANNEL_API, {
        code: 'tmall-main',
      });
      expect(read.data!.channel.api).toMatchObject({
        appKey: '12345678',
        signMethod: 'md5',
        shopId: null,
        requestsPerSecond: null,
        pushDelayMs: 1000,
        hasAppSecret: true,
        hasAccessToken: true,
      });
      for (const secret of SECRETS) expect(JSON.stringify(read)).not.toContain(secret);

      const [row] = await sql<{ app_secret_sealed: string; access_token_sealed: string }>(
        `select a.app_secret_sealed, a.access_token_sealed from channel_api a join channel c on c.id = a.channel_id
          where c.code = 'tmall-main'`,
      );
      expect(row.app_secret_sealed).not.toContain(APP_SECRET);
      expect(row.access_token_sealed).not.toContain(ACCESS_TOKEN);
      const box = new SecretBox(Buffer.from(TEST_SECRET_KEY, 'hex'));
      expect(box.open(row.app_secret_sealed)).toBe(APP_SECRET);
      expect(box.open(row.access_token_sealed)).toBe(ACCESS_TOKEN);
    });

    it("shows the platform's real gateway when no baseUrl is set, and the one set otherwise", async () => {
      const taobao = await hub.gql<{ channel: { api: { baseUrl: string; defaultGateway: boolean } } }>(
        CHANNEL_API,
        {
          code: 'tmall-main',
        },
      );
      expect(taobao.data!.channel.api).toMatchObject({
        baseUrl: 'https://eco.taobao.com/router/rest',
        defaultGateway: true,
      });

      const shopify = await hub.gql(SET_API, {
        code: 'shopify-eu',
        input: { accessToken: ACCESS_TOKEN, shopId: 'tea-house' },
      });
      expect(shopify.errors).toBeUndefined();
      const read = await hub.gql<{ channel: { api: { baseUrl: string } } }>(CHANNEL_API, {
        code: 'shopify-eu',
      });
      expect(read.data!.channel.api.baseUrl).toBe('https://tea-house.myshopify.com');

      const local = await hub.gql(SET_API, { code: 'shopify-eu', input: { baseUrl: 'http://127.0.0.1:9/' } });
      expect(local.errors).toBeUndefined();
      const again = await hub.gql<{ channel: { api: { baseUrl: string; defaultGateway: boolean } } }>(
        CHANNEL_API,
        {
          code: 'shopify-eu',
        },
      );
      expect(again.data!.channel.api).toMatchObject({ baseUrl: 'http://127.0.0.1:9', defaultGateway: false });
    });

    it('keeps what a new call leaves out, so a token can be replaced alone', async () => {
      const before = await sql<{ app_secret_sealed: string; access_token_sealed: string }>(
        `select a.app_secret_sealed, a.access_token_sealed from channel_api a join channel c on c.id = a.channel_id
          where c.code = 'tmall-main'`,
      );
      const set = await hub.gql(SET_API, { code: 'tmall-main', input: { accessToken: NEW_TOKEN } });
      expect(set.errors).toBeUndefined();
      const [after] = await sql<{ app_secret_sealed: string; access_token_sealed: string; app_key: string }>(
        `select a.app_secret_sealed, a.access_token_sealed, a.app_key from channel_api a
           join channel c on c.id = a.channel_id where c.code = 'tmall-main'`,
      );
      expect(after.app_secret_sealed).toBe(before[0].app_secret_sealed);
      expect(after.app_key).toBe('12345678');
      expect(new SecretBox(Buffer.from(TEST_SECRET_KEY, 'hex')).open(after.access_token_sealed)).toBe(
        NEW_TOKEN,
      );
    });

    it('refuses a credential the platform needs, naming the field and never a value', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['pdd-live', { appKey: 'client-1', appSecret: APP_SECRET }, 'accessToken'],
        ['pdd-live', { appSecret: APP_SECRET, accessToken: ACCESS_TOKEN }, 'appKey'],
        ['yz-shop', { appKey: 'client-1', appSecret: APP_SECRET }, 'shopId'],
        [
          'yz-shop',
          { appKey: 'client-1', appSecret: APP_SECRET, shopId: '1', accessToken: ACCESS_TOKEN },
          'accessToken',
        ],
        ['pdd-live', { ...taobaoApi, signMethod: 'md5' }, 'signMethod'],
        ['pdd-live', { ...taobaoApi, baseUrl: 'ftp://gateway.example' }, 'baseUrl'],
        ['pdd-live', { ...taobaoApi, appKey: '  ' }, 'appKey'],
        ['pdd-live', { ...taobaoApi, requestsPerSecond: 0 }, 'requestsPerSecond'],
        ['pdd-live', { ...taobaoApi, requestsPerSecond: 1000.5 }, 'requestsPerSecond'],
        ['pdd-live', { ...taobaoApi, pushDelayMs: 60_001 }, 'pushDelayMs'],
        ['pdd-live', { ...taobaoApi, pushDelayMs: -1 }, 'pushDelayMs'],
      ];
      for (const [code, input, field] of cases) {
        const refused = await hub.gql(SET_API, { code, input });
        expect(errorCodes(refused), `${code} ${field}`).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].extensions!.field).toBe(field);
        for (const secret of SECRETS) expect(JSON.stringify(refused)).not.toContain(secret);
      }
      const [row] =
        await sql(`select count(*)::int as n from channel_api a join channel c on c.id = a.channel_id
                                where c.code in ('pdd-live', 'yz-shop')`);
      expect(row.n).toBe(0);
    });

    it('refuses a STOREFRONT channel, which has no platform API', async () => {
      const refused = await hub.gql(SET_API, { code: 'web-shop', input: taobaoApi });
      expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    });

    it('says NOT_FOUND for an unknown channel', async () => {
      expect(errorCodes(await hub.gql(SET_API, { code: 'nowhere', input: taobaoApi }))).toEqual([
        'NOT_FOUND',
      ]);
    });

    it('shows Channel.api to ADMIN keys only, and null where none is set', async () => {
      for (const key of [keys.OPS, keys.ANALYST]) {
        const read = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: 'tmall-main' }, key);
        expect(read.errors).toBeUndefined();
        expect(read.data!.channel.api).toBeNull();
      }
      const unset = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: 'jd-core' });
      expect(unset.data!.channel.api).toBeNull();
    });

    it('clearChannelApi forgets the credentials (ADMIN only)', async () => {
      const clear = `mutation($code: String!) { clearChannelApi(channelCode: $code) { code } }`;
      expect(errorCodes(await hub.gql(clear, { code: 'shopify-eu' }, keys.OPS))).toEqual(['FORBIDDEN']);
      expect((await hub.gql(clear, { code: 'shopify-eu' })).errors).toBeUndefined();
      const read = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: 'shopify-eu' });
      expect(read.data!.channel.api).toBeNull();
    });
  });

  describe('the stock sync switch', () => {
    it('is off for a new channel', async () => {
      const created = await hub.gql<{ upsertChannel: { code: string; stockSync: { enabled: boolean } } }>(
        `mutation { upsertChannel(input: { code: "dy-new", platform: DOUYIN, name: "Douyin" }) { code stockSync { enabled } } }`,
      );
      expect(created.data!.upsertChannel.stockSync.enabled).toBe(false);
    });

    it('only ADMIN keys turn it on', async () => {
      expect(errorCodes(await hub.gql(SET_SYNC, { code: 'tmall-main', enabled: true }, keys.OPS))).toEqual([
        'FORBIDDEN',
      ]);
      const byInput = await hub.gql(
        `mutation { upsertChannel(input: { code: "tmall-main", platform: TAOBAO, name: "Tmall", stockSync: true }) { code } }`,
        {},
        keys.OPS,
      );
      expect(errorCodes(byInput)).toEqual(['FORBIDDEN']);
      const read = await hub.gql<{ channel: { stockSync: { enabled: boolean } } }>(STOCK_SYNC, {
        code: 'tmall-main',
      });
      expect(read.data!.channel.stockSync.enabled).toBe(false);

      expect((await hub.gql(SET_SYNC, { code: 'tmall-main', enabled: true })).errors).toBeUndefined();
      const on = await hub.gql(
        `mutation { upsertChannel(input: { code: "jd-core", platform: JD, name: "JD", isCore: true, stockSync: true }) { code } }`,
      );
      expect(on.errors).toBeUndefined();
      const [row] = await sql(`select count(*)::int as n from channel where stock_sync`);
      expect(row.n).toBe(2);
    });

    it('refuses to turn it on for a STOREFRONT channel', async () => {
      expect(errorCodes(await hub.gql(SET_SYNC, { code: 'web-shop', enabled: true }))).toEqual([
        'BAD_USER_INPUT',
      ]);
    });
  });

  describe('Product.channelStock', () => {
    it('shows each listing with the number its channel should show', async () => {
      const open = await listingsOf('OPEN-1');
      expect(open.map((l) => [l.channel.code, l.platformSkuId, l.platformItemId, l.target])).toEqual([
        ['jd-core', 'jd-OPEN-1', 'ware-OPEN-1', 10],
        ['tmall-main', 'tm-OPEN-1', 'num-OPEN-1', 10],
      ]);
      expect(open.every((l) => l.state === 'PENDING' && l.confirmed === null && l.cap === null)).toBe(true);
    });

    it('shows 0 where safety stock closed the product (non-core), available on a core channel', async () => {
      expect((await listing('LOW-1', 'tmall-main')).target).toBe(0);
      expect((await listing('LOW-1', 'jd-core')).target).toBe(4);
    });

    it("shows 0 while the channel's sales are closed", async () => {
      const closeSales = `mutation($open: Boolean!) { setChannelSalesOpen(code: "jd-core", open: $open) { code } }`;
      expect((await hub.gql(closeSales, { open: false })).errors).toBeUndefined();
      try {
        expect((await listing('OPEN-1', 'jd-core')).target).toBe(0);
      } finally {
        await hub.gql(closeSales, { open: true });
      }
      expect((await listing('OPEN-1', 'jd-core')).target).toBe(10);
    });

    it('never shows more than the cap; null lifts it (OPS and ADMIN)', async () => {
      expect(
        errorCodes(await hub.gql(SET_CAP, { channel: 'tmall-main', product: 'CAP-1', cap: 3 }, keys.ANALYST)),
      ).toEqual(['FORBIDDEN']);
      const capped = await hub.gql<{ setChannelStockCap: Listing }>(
        SET_CAP,
        { channel: 'tmall-main', product: 'CAP-1', cap: 3 },
        keys.OPS,
      );
      expect(capped.data!.setChannelStockCap).toEqual({
        channel: { code: 'tmall-main' },
        productCode: 'CAP-1',
        target: 3,
        cap: 3,
      });
      expect((await listing('CAP-1', 'tmall-main')).target).toBe(3);
      expect((await listing('CAP-1', 'jd-core')).target).toBe(10);

      const lifted = await hub.gql<{ setChannelStockCap: Listing }>(SET_CAP, {
        channel: 'tmall-main',
        product: 'CAP-1',
        cap: null,
      });
      expect(lifted.data!.setChannelStockCap).toMatchObject({ target: 10, cap: null });
    });

    it('refuses a negative cap, and answers null for a product not listed on the channel', async () => {
      const negative = await hub.gql(SET_CAP, { channel: 'tmall-main', product: 'CAP-1', cap: -1 });
      expect(errorCodes(negative)).toEqual(['BAD_USER_INPUT']);
      const unlisted = await hub.gql<{ setChannelStockCap: unknown }>(SET_CAP, {
        channel: 'pdd-live',
        product: 'CAP-1',
        cap: 2,
      });
      expect(unlisted.errors).toBeUndefined();
      expect(unlisted.data!.setChannelStockCap).toBeNull();
    });

    it('shows DISABLED where the channel does not sync, and FAILED with the platform message', async () => {
      await map('pdd-live', 'pdd-OPEN-1', 'OPEN-1', 'goods-1');
      expect((await listing('OPEN-1', 'pdd-live')).state).toBe('DISABLED');
      await sql(
        `update channel_sku set sync_state = 'FAILED', last_error = '50007: sku locked' where platform_sku_id = 'tm-LOW-1'`,
      );
      expect(await listing('LOW-1', 'tmall-main')).toMatchObject({
        state: 'FAILED',
        lastError: '50007: sku locked',
      });
    });

    it("gives a channel's key its own channel's listings only", async () => {
      const own = await listingsOf('OPEN-1', keys.STOREFRONT_JD);
      expect(own.map((l) => l.channel.code)).toEqual(['jd-core']);
      expect(await listingsOf('OPEN-1', keys.STOREFRONT)).toEqual([]);
    });

    it('costs the same number of SQL statements for a page of 2 products as for 20', async () => {
      for (let i = 0; i < 20; i++) {
        await seedProduct(hub.orm, `PAGE-${String(i).padStart(2, '0')}`, i);
        await map('tmall-main', `tm-page-${i}`, `PAGE-${String(i).padStart(2, '0')}`, `num-page-${i}`);
        await map('jd-core', `jd-page-${i}`, `PAGE-${String(i).padStart(2, '0')}`, `ware-page-${i}`);
      }
      const count = async (first: number) => {
        statements.length = 0;
        counting = true;
        const page = await hub.gql<{ products: { channelStock: unknown[] }[] }>(
          `query($first: Int, $after: String) {
            products(first: $first, after: $after) {
              productCode
              channelStock { channel { code stockSync { pending failed } } target state cap }
            }
          }`,
          { first, after: 'PAGE-' },
        );
        counting = false;
        expect(page.errors).toBeUndefined();
        expect(page.data!.products).toHaveLength(first);
        expect(page.data!.products.every((p) => p.channelStock.length === 2)).toBe(true);
        return statements.length;
      };
      const forTwo = await count(2);
      expect(await count(20)).toBe(forTwo);
      // products, then one statement for the listings, one for the channels' summaries.
      expect(forTwo).toBeLessThanOrEqual(3);
    });
  });

  describe('mapChannelSku with the platform item', () => {
    it('keeps the item when it is left out, and forgets what the old item confirmed when it moves', async () => {
      await map('tmall-main', 'tm-MOVE', 'OPEN-1', 'num-old');
      await sql(
        `update channel_sku set confirmed = 7, confirmed_at = now(), sync_state = 'IN_SYNC' where platform_sku_id = 'tm-MOVE'`,
      );
      await map('tmall-main', 'tm-MOVE', 'OPEN-1');
      const kept = (await listingsOf('OPEN-1')).find((l) => l.platformSkuId === 'tm-MOVE')!;
      expect(kept).toMatchObject({ platformItemId: 'num-old', confirmed: 7 });

      await map('tmall-main', 'tm-MOVE', 'OPEN-1', 'num-new');
      const moved = (await listingsOf('OPEN-1')).find((l) => l.platformSkuId === 'tm-MOVE')!;
      expect(moved).toMatchObject({
        platformItemId: 'num-new',
        confirmed: null,
        confirmedAt: null,
        state: 'PENDING',
      });

      await sql(
        `update channel_sku set confirmed = 7, sync_state = 'FAILED', last_error = 'x' where platform_sku_id = 'tm-MOVE'`,
      );
      await map('tmall-main', 'tm-MOVE', 'CAP-1');
      const other = (await listingsOf('CAP-1')).find((l) => l.platformSkuId === 'tm-MOVE')!;
      // The same platform SKU still shows what it confirmed; the new product's number is pushed.
      expect(other).toMatchObject({
        platformItemId: 'num-new',
        confirmed: 7,
        state: 'PENDING',
        lastError: null,
      });
    });

    it('stores a Shopify location', async () => {
      await map(
        'shopify-eu',
        'variant-1',
        'OPEN-1',
        'gid://shopify/InventoryItem/1',
        'gid://shopify/Location/9',
      );
      const shopify = await listing('OPEN-1', 'shopify-eu');
      expect(shopify).toMatchObject({
        platformItemId: 'gid://shopify/InventoryItem/1',
        locationId: 'gid://shopify/Location/9',
      });
    });
  });

  describe('Channel.stockSync', () => {
    it('counts listings, those waiting and those failed', async () => {
      const read = await hub.gql<{ channel: { stockSync: Record<string, unknown> } }>(STOCK_SYNC, {
        code: 'tmall-main',
      });
      const [row] = await sql<{ listings: number }>(
        `select count(*)::int as listings, count(*) filter (where sync_state = 'FAILED')::int as failed
           from channel_sku cs join channel c on c.id = cs.channel_id where c.code = 'tmall-main'`,
      );
      expect(read.data!.channel.stockSync).toMatchObject({
        enabled: true,
        listings: row.listings,
        failed: 1,
        pending: row.listings - 1,
      });
      expect(read.data!.channel.stockSync.oldestPendingSeconds).toBeGreaterThanOrEqual(0);

      const off = await hub.gql<{ channel: { stockSync: Record<string, unknown> } }>(STOCK_SYNC, {
        code: 'pdd-live',
      });
      expect(off.data!.channel.stockSync).toEqual({
        enabled: false,
        listings: 1,
        pending: 0,
        failed: 0,
        oldestPendingSeconds: null,
      });
    });
  });

  describe('syncStock', () => {
    it('queues every listing of the channel, or of the products named, and retries FAILED ones', async () => {
      expect(errorCodes(await hub.gql(SYNC, { channel: 'tmall-main' }, keys.ANALYST))).toEqual(['FORBIDDEN']);
      const [{ n }] = await sql<{ n: number }>(
        `select count(*)::int as n from channel_sku cs join channel c on c.id = cs.channel_id where c.code = 'tmall-main'`,
      );
      const all = await hub.gql<{ syncStock: number }>(SYNC, { channel: 'tmall-main' }, keys.OPS);
      expect(all.data!.syncStock).toBe(n);

      await sql(
        `update channel_sku set sync_state = 'FAILED', last_error = 'refused' where platform_sku_id = 'tm-LOW-1'`,
      );
      const some = await hub.gql<{ syncStock: number }>(SYNC, {
        channel: 'tmall-main',
        products: ['LOW-1', 'LOW-1'],
      });
      expect(some.data!.syncStock).toBe(1);
      expect(await listing('LOW-1', 'tmall-main')).toMatchObject({ state: 'PENDING' });
      const [job] = await sql(
        `select count(*)::int as n from graphile_worker._private_jobs j join channel_sku cs on j.key = 'stock-sync:' || cs.id
          where cs.platform_sku_id = 'tm-LOW-1' and j.run_at <= now()`,
      );
      expect(job.n).toBe(1);
    });

    it('names unknown products (NOT_FOUND) and refuses a channel that does not sync (STOCK_SYNC_DISABLED)', async () => {
      const unknown = await hub.gql(SYNC, {
        channel: 'tmall-main',
        products: ['OPEN-1', 'NOPE-1', 'NOPE-2'],
      });
      expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
      expect(unknown.errors![0].message).toContain('NOPE-1');
      expect(unknown.errors![0].message).toContain('NOPE-2');
      expect(unknown.errors![0].message).not.toContain('OPEN-1');

      const off = await hub.gql(SYNC, { channel: 'pdd-live' }, keys.OPS);
      expect(errorCodes(off)).toEqual(['STOCK_SYNC_DISABLED']);
      expect(errorCodes(await hub.gql(SYNC, { channel: 'web-shop' }))).toEqual(['STOCK_SYNC_DISABLED']);
    });
  });

  describe('channelStockChanged', () => {
    it("delivers a listing's new state, after commit, from the database's notification", async () => {
      const client = hub.wsClient(keys.OPS);
      const listings = feed<Listing>(client, LISTING_FEED, 'channelStockChanged', { channel: 'jd-core' });
      try {
        // The subscription is live once a change made after it arrives; earlier ones may not.
        await waitForDelivery(listings, () =>
          sql(`update channel_sku set sync_state = 'THROTTLED' where platform_sku_id = 'jd-OPEN-1'`).then(
            () => sql(`update channel_sku set sync_state = 'PENDING' where platform_sku_id = 'jd-OPEN-1'`),
          ),
        );
        await sql(
          `update channel_sku set confirmed = 10, confirmed_at = now(), sync_state = 'IN_SYNC' where platform_sku_id = 'jd-OPEN-1'`,
        );
        const event = await arrival(listings, (l) => l.state === 'IN_SYNC');
        expect(event).toEqual({
          channel: { code: 'jd-core' },
          productCode: 'OPEN-1',
          platformSkuId: 'jd-OPEN-1',
          state: 'IN_SYNC',
          lastError: null,
          confirmed: 10,
          target: 10,
        });
      } finally {
        listings.stop();
      }
    });

    it("gives a channel's key its own channel's listings only", async () => {
      const client = hub.wsClient(keys.STOREFRONT_JD);
      const forbidden = feed<Listing>(client, LISTING_FEED, 'channelStockChanged', { channel: 'tmall-main' });
      const own = feed<Listing>(client, LISTING_FEED, 'channelStockChanged', {});
      try {
        await waitForDelivery(own, () =>
          sql(`update channel_sku set last_error = md5(random()::text) where platform_sku_id = 'jd-CAP-1'`),
        );
        await waitFor(() => forbidden.errors.length > 0, 'the refusal');
        expect(
          forbidden.errors.flat().map((e) => (e as { extensions?: { code?: string } }).extensions?.code),
        ).toEqual(['FORBIDDEN']);
        await sql(`update channel_sku set last_error = 'tmall only' where platform_sku_id = 'tm-CAP-1'`);
        await sql(`update channel_sku set last_error = 'jd only' where platform_sku_id = 'jd-CAP-1'`);
        await arrival(own, (l) => l.lastError === 'jd only');
        // Notifications arrive in commit order: had the tmall change been sent, it would have come first.
        expect(own.events.map((l) => l.channel.code)).not.toContain('tmall-main');
        expect(forbidden.events).toEqual([]);
      } finally {
        own.stop();
        forbidden.stop();
      }
    });
  });

  describe('variables that do not fit their type', () => {
    it('are refused naming the variable and field, never quoting the value (response and log)', async () => {
      const wrongTypes = [
        { appKey: 'k', appSecret: WRONG_TYPED_SECRET, accessToken: ACCESS_TOKEN, pushDelayMs: 'soon' },
        { appKey: 'k', appSecret: WRONG_TYPED_SECRET, unknownField: 1 },
        { appKey: 'k', appSecret: [WRONG_TYPED_SECRET] },
      ];
      for (const input of wrongTypes) {
        const refused = await hub.gql(SET_API, { code: 'pdd-live', input });
        expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].message).toMatch(/^Variable "\$input" got an invalid value at "input/);
        for (const secret of SECRETS) expect(JSON.stringify(refused)).not.toContain(secret);
      }
      const first = await hub.gql(SET_API, { code: 'pdd-live', input: wrongTypes[0] });
      expect(first.errors![0].message).toBe(
        'Variable "$input" got an invalid value at "input.pushDelayMs": expected Int.',
      );
    });

    it('leave no credential in any log line of this file', () => {
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) for (const secret of SECRETS) expect(line).not.toContain(secret);
    });
  });
});

describe('setChannelApi on a hub with no key to seal with', () => {
  let hub: TestHub;

  beforeAll(async () => {
    // An external database and no HUB_SECRET_KEY: the hub has no key (a blank variable counts as unset).
    hub = await startTestHub('stock-sync-no-key', { env: { HUB_SECRET_KEY: '' } });
    await seedChannel(hub.orm, 'jd-main', Platform.JD);
  });

  afterAll(() => hub?.close());

  it('says SECRET_KEY_MISSING and stores nothing', async () => {
    const refused = await hub.gql(SET_API, {
      code: 'jd-main',
      input: { appKey: 'k', appSecret: APP_SECRET, accessToken: ACCESS_TOKEN },
    });
    expect(errorCodes(refused)).toEqual(['SECRET_KEY_MISSING']);
    expect(JSON.stringify(refused)).not.toContain(APP_SECRET);
    const [row] = await hub.orm.em
      .fork()
      .getConnection()
      .execute<{ n: number }[]>(`select count(*)::int as n from channel_api`);
    expect(row.n).toBe(0);
  });
});

/**
 * Makes changes until the feed delivers one: a subscription is live on the server a moment after the client
 * sends it, and there is no acknowledgement to wait for.
 */
async function waitForDelivery(listings: Feed<unknown>, change: () => Promise<unknown>): Promise<void> {
  await waitFor(async () => {
    if (listings.events.length === 0) await change();
    return listings.events.length > 0;
  }, 'the subscription to deliver');
}

/** The first event that passes `match`, once it arrived. */
async function arrival<T>(listings: Feed<T>, match: (event: T) => boolean): Promise<T> {
  await waitFor(() => listings.events.some(match), 'a matching channelStockChanged event');
  return listings.events.find(match)!;
}
