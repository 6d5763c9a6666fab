import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { credentialAad, SealedWithAnotherKeyError, SecretBox } from '../services/secret-box.js';
import { LISTENER_APPLICATION_NAME } from '../subscriptions/postgres-listener.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { TEST_SECRET_KEY } from './support/hub-process.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { feed, type Feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

// The API of the stock sync: credentials (write-only), the switch, caps, listings and their targets, manual
// pushes and the listing feed. No worker runs here: states are set in SQL where a push would set them. Every
// test makes the channels and products it needs (codes unique to it), so any one runs alone or in any order.

const APP_SECRET = 'app-secret-9f2c71d4e8b3';
const ACCESS_TOKEN = 'access-token-5a0e6b19c7d2';
const NEW_TOKEN = 'access-token-rotated-33c1f0';
const WRONG_TYPED_SECRET = 'app-secret-in-a-bad-input-ab12cd';
/** Secrets written into a query as literals of the wrong type (a number, a bare name, a string). */
const LITERAL_SECRETS = ['98765432109876', 'appSecretLiteral5f3e9a', 'literal-secret-0c1d2e'];
const SECRETS = [APP_SECRET, ACCESS_TOKEN, NEW_TOKEN, WRONG_TYPED_SECRET, ...LITERAL_SECRETS];

const TAOBAO_API = { appKey: '12345678', appSecret: APP_SECRET, accessToken: ACCESS_TOKEN };

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
  /** Every SQL statement the hub's ORM ran (its query log), as logged. */
  const statements: string[] = [];
  const keys: Record<string, string> = {};
  let made = 0;

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    hub.orm.em.fork().getConnection().execute<T[]>(query, params);
  /** A code no other test uses. */
  const unique = (prefix: string) => `${prefix}-${++made}`;
  /** A new channel of this platform; its code is unique. */
  const channel = async (platform: Platform, extra: { isCore?: boolean; stockSync?: boolean } = {}) => {
    const code = unique(platform.toLowerCase());
    await seedChannel(hub.orm, code, platform, extra);
    return code;
  };
  /** A new product with this much on hand (and safety stock); its code is unique. */
  const product = async (onHand = 10, safetyStock = 0) => {
    const code = unique('P');
    await seedProduct(hub.orm, code, onHand, safetyStock);
    return code;
  };
  const setApi = async (code: string, input: Record<string, unknown>) => {
    const response = await hub.gql(SET_API, { code, input });
    expect(response.errors).toBeUndefined();
  };
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
    channelCode: string,
    sku: string,
    productCode: string,
    item?: string | null,
    location?: string,
  ) => {
    const response = await hub.gql(MAP, { channel: channelCode, sku, product: productCode, item, location });
    expect(response.errors).toBeUndefined();
  };
  const storedApi = async (code: string) =>
    (
      await sql<{
        channel_id: string;
        app_secret_sealed: string;
        access_token_sealed: string;
        app_key: string;
      }>(
        `select a.channel_id, a.app_secret_sealed, a.access_token_sealed, a.app_key from channel_api a
           join channel c on c.id = a.channel_id where c.code = ?`,
        [code],
      )
    )[0];
  const box = new SecretBox(Buffer.from(TEST_SECRET_KEY, 'hex'));

  beforeAll(async () => {
    hub = await startTestHub('stock-sync-admin', {
      logLines,
      ormOverrides: { debug: ['query'], logger: (message: string) => statements.push(message) },
    });
    for (const role of ['OPS', 'ANALYST']) keys[role] = await hub.apiKey(role);
  });

  // No credential in any reply is checked where it is made; none may reach a log line or the SQL log either.
  afterEach(() => {
    for (const line of [...logLines, ...statements]) {
      for (const secret of SECRETS) expect(line).not.toContain(secret);
    }
  });

  afterAll(() => hub?.close());

  describe('setChannelApi', () => {
    it('is for ADMIN keys only', async () => {
      const tmall = await channel(Platform.TAOBAO);
      const web = await channel(Platform.STOREFRONT);
      const others = [
        keys.OPS,
        keys.ANALYST,
        await hub.apiKey('STOREFRONT', web),
        await hub.apiKey('CONNECTOR', tmall),
      ];
      for (const key of others) {
        const refused = await hub.gql(SET_API, { code: tmall, input: TAOBAO_API }, key);
        expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
      }
      expect(await storedApi(tmall)).toBeUndefined();
    });

    it('stores the secrets sealed with the hub key and never returns them, nor logs them', async () => {
      const tmall = await channel(Platform.TAOBAO);
      const logged = statements.length;
      await setApi(tmall, { ...TAOBAO_API, signMethod: 'md5' });
      // The SQL log saw the statement that stored them (and, checked after each test, no secret in it).
      expect(statements.slice(logged).some((s) => /insert into channel_api/.test(s))).toBe(true);
      expect(logLines.length).toBeGreaterThan(0);

      const read = await hub.gql<{ channel: { api: Record<string, unknown> } }>(CHANNEL_API, { code: tmall });
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

      const row = await storedApi(tmall);
      expect(row.app_secret_sealed).not.toContain(APP_SECRET);
      expect(row.access_token_sealed).not.toContain(ACCESS_TOKEN);
      expect(box.open(row.app_secret_sealed, credentialAad(row.channel_id, 'appSecret'))).toBe(APP_SECRET);
      expect(box.open(row.access_token_sealed, credentialAad(row.channel_id, 'accessToken'))).toBe(
        ACCESS_TOKEN,
      );
      // Bound to their row and field: a secret copied to another channel or field does not open there.
      const other = await channel(Platform.TAOBAO);
      await setApi(other, TAOBAO_API);
      const otherId = (await storedApi(other)).channel_id;
      expect(() => box.open(row.app_secret_sealed, credentialAad(otherId, 'appSecret'))).toThrow(
        SealedWithAnotherKeyError,
      );
      expect(() => box.open(row.app_secret_sealed, credentialAad(row.channel_id, 'accessToken'))).toThrow(
        SealedWithAnotherKeyError,
      );
    });

    it("shows the platform's real gateway when no baseUrl is set, and the one set otherwise", async () => {
      const tmall = await channel(Platform.TAOBAO);
      await setApi(tmall, TAOBAO_API);
      const taobao = await hub.gql<{ channel: { api: { baseUrl: string; defaultGateway: boolean } } }>(
        CHANNEL_API,
        { code: tmall },
      );
      expect(taobao.data!.channel.api).toMatchObject({
        baseUrl: 'https://eco.taobao.com/router/rest',
        defaultGateway: true,
      });

      const shopify = await channel(Platform.SHOPIFY);
      await setApi(shopify, { accessToken: ACCESS_TOKEN, shopId: 'tea-house' });
      const read = await hub.gql<{ channel: { api: { baseUrl: string } } }>(CHANNEL_API, { code: shopify });
      expect(read.data!.channel.api.baseUrl).toBe('https://tea-house.myshopify.com');

      await setApi(shopify, { baseUrl: 'http://127.0.0.1:9/' });
      const again = await hub.gql<{ channel: { api: { baseUrl: string; defaultGateway: boolean } } }>(
        CHANNEL_API,
        { code: shopify },
      );
      expect(again.data!.channel.api).toMatchObject({ baseUrl: 'http://127.0.0.1:9', defaultGateway: false });
    });

    it('keeps what a new call leaves out, so a token can be replaced alone', async () => {
      const tmall = await channel(Platform.TAOBAO);
      await setApi(tmall, TAOBAO_API);
      const before = await storedApi(tmall);
      await setApi(tmall, { accessToken: NEW_TOKEN });
      const after = await storedApi(tmall);
      expect(after.app_secret_sealed).toBe(before.app_secret_sealed);
      expect(after.app_key).toBe('12345678');
      expect(box.open(after.access_token_sealed, credentialAad(after.channel_id, 'accessToken'))).toBe(
        NEW_TOKEN,
      );
    });

    it("clears pushDelayMs and requestsPerSecond to their defaults with null (1000 ms; the platform's pace)", async () => {
      const tmall = await channel(Platform.TAOBAO);
      await setApi(tmall, { ...TAOBAO_API, pushDelayMs: 5000, requestsPerSecond: 5 });
      await setApi(tmall, { pushDelayMs: null, requestsPerSecond: null });
      const read = await hub.gql<{ channel: { api: Record<string, unknown> } }>(CHANNEL_API, { code: tmall });
      expect(read.data!.channel.api).toMatchObject({ pushDelayMs: 1000, requestsPerSecond: null });
    });

    it("queues a push of the channel's listings for new credentials, not for a new pace", async () => {
      const open = await product(10);
      const tmall = await channel(Platform.TAOBAO, { stockSync: true });
      await map(tmall, `tm-${open}`, open, `num-${open}`);
      await setApi(tmall, TAOBAO_API);
      const queued = `select 'stock-sync:' || cs.id from channel_sku cs join channel c on c.id = cs.channel_id
                       where c.code = ?`;
      const jobs = async () =>
        (
          await sql<{ n: number }>(
            `select count(*)::int as n from graphile_worker._private_jobs where key in (${queued})`,
            [tmall],
          )
        )[0].n;
      expect(await jobs()).toBe(1);
      await sql(`delete from graphile_worker._private_jobs where key in (${queued})`, [tmall]);

      await setApi(tmall, { pushDelayMs: 2000, requestsPerSecond: 3 });
      expect(await jobs()).toBe(0);
      await setApi(tmall, { accessToken: NEW_TOKEN });
      expect(await jobs()).toBe(1);
    });

    it('keeps both of two calls made at once that change different fields', async () => {
      const tmall = await channel(Platform.TAOBAO);
      await setApi(tmall, TAOBAO_API);
      for (let round = 1; round <= 8; round++) {
        const signMethod = round % 2 ? 'md5' : 'hmac';
        await Promise.all([setApi(tmall, { signMethod }), setApi(tmall, { requestsPerSecond: round })]);
        const read = await hub.gql<{ channel: { api: Record<string, unknown> } }>(CHANNEL_API, {
          code: tmall,
        });
        expect(read.data!.channel.api, `round ${round}`).toMatchObject({
          signMethod,
          requestsPerSecond: round,
        });
      }
    });

    it('refuses a credential the platform needs, naming the field and never a value', async () => {
      const pdd = await channel(Platform.PINDUODUO);
      const yz = await channel(Platform.YOUZAN);
      const cases: [string, Record<string, unknown>, string][] = [
        [pdd, { appKey: 'client-1', appSecret: APP_SECRET }, 'accessToken'],
        [pdd, { appSecret: APP_SECRET, accessToken: ACCESS_TOKEN }, 'appKey'],
        [yz, { appKey: 'client-1', appSecret: APP_SECRET }, 'shopId'],
        [
          yz,
          { appKey: 'client-1', appSecret: APP_SECRET, shopId: '1', accessToken: ACCESS_TOKEN },
          'accessToken',
        ],
        [pdd, { ...TAOBAO_API, signMethod: 'md5' }, 'signMethod'],
        [pdd, { ...TAOBAO_API, baseUrl: 'ftp://gateway.example' }, 'baseUrl'],
        [pdd, { ...TAOBAO_API, appKey: '  ' }, 'appKey'],
        [pdd, { ...TAOBAO_API, requestsPerSecond: 0 }, 'requestsPerSecond'],
        [pdd, { ...TAOBAO_API, requestsPerSecond: 1000.5 }, 'requestsPerSecond'],
        [pdd, { ...TAOBAO_API, pushDelayMs: 60_001 }, 'pushDelayMs'],
        [pdd, { ...TAOBAO_API, pushDelayMs: -1 }, 'pushDelayMs'],
      ];
      for (const [code, input, field] of cases) {
        const refused = await hub.gql(SET_API, { code, input });
        expect(errorCodes(refused), `${code} ${field}`).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].extensions!.field).toBe(field);
        for (const secret of SECRETS) expect(JSON.stringify(refused)).not.toContain(secret);
      }
      expect(await storedApi(pdd)).toBeUndefined();
      expect(await storedApi(yz)).toBeUndefined();
    });

    /** Each input is refused with BAD_USER_INPUT naming `field`, quoting no secret, and nothing is stored. */
    const expectRefused = async (code: string, cases: [Record<string, unknown>, string][]) => {
      for (const [input, field] of cases) {
        const refused = await hub.gql(SET_API, { code, input });
        expect(errorCodes(refused), field).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].extensions!.field).toBe(field);
        for (const secret of SECRETS) expect(JSON.stringify(refused)).not.toContain(secret);
      }
      expect(await storedApi(code)).toBeUndefined();
    };

    it('refuses a value longer than its column (or than a credential can be), naming the field', async () => {
      await expectRefused(await channel(Platform.TAOBAO), [
        [{ ...TAOBAO_API, appKey: 'k'.repeat(256) }, 'appKey'],
        [{ ...TAOBAO_API, baseUrl: `https://gw.example/${'p'.repeat(500)}` }, 'baseUrl'],
        [{ ...TAOBAO_API, signMethod: 'm'.repeat(33) }, 'signMethod'],
        [{ ...TAOBAO_API, appSecret: APP_SECRET.repeat(200) }, 'appSecret'],
        [{ ...TAOBAO_API, accessToken: ACCESS_TOKEN.repeat(200) }, 'accessToken'],
      ]);
      await expectRefused(await channel(Platform.YOUZAN), [
        [{ appKey: 'client-1', appSecret: APP_SECRET, shopId: '1'.repeat(256) }, 'shopId'],
      ]);
    });

    it('refuses a baseUrl with a user, a password, a query or a fragment (the clients add their own)', async () => {
      await expectRefused(await channel(Platform.TAOBAO), [
        [{ ...TAOBAO_API, baseUrl: `https://merchant:${APP_SECRET}@gw.example/router` }, 'baseUrl'],
        [{ ...TAOBAO_API, baseUrl: 'https://merchant@gw.example/router' }, 'baseUrl'],
        [{ ...TAOBAO_API, baseUrl: `https://gw.example/router?token=${ACCESS_TOKEN}` }, 'baseUrl'],
        [{ ...TAOBAO_API, baseUrl: 'https://gw.example/router?' }, 'baseUrl'],
        [{ ...TAOBAO_API, baseUrl: 'https://gw.example/router#top' }, 'baseUrl'],
      ]);
    });

    it('refuses a STOREFRONT channel, which has no platform API', async () => {
      const web = await channel(Platform.STOREFRONT);
      const refused = await hub.gql(SET_API, { code: web, input: TAOBAO_API });
      expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    });

    it('says NOT_FOUND for an unknown channel', async () => {
      expect(errorCodes(await hub.gql(SET_API, { code: 'nowhere', input: TAOBAO_API }))).toEqual([
        'NOT_FOUND',
      ]);
    });

    it('shows Channel.api to ADMIN keys only, and null where none is set', async () => {
      const tmall = await channel(Platform.TAOBAO);
      await setApi(tmall, TAOBAO_API);
      for (const key of [keys.OPS, keys.ANALYST]) {
        const read = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: tmall }, key);
        expect(read.errors).toBeUndefined();
        expect(read.data!.channel.api).toBeNull();
      }
      const admin = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: tmall });
      expect(admin.data!.channel.api).toMatchObject({ appKey: '12345678' });
      const unset = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, {
        code: await channel(Platform.JD),
      });
      expect(unset.data!.channel.api).toBeNull();
    });

    it('clearChannelApi forgets the credentials (ADMIN only)', async () => {
      const shopify = await channel(Platform.SHOPIFY);
      await setApi(shopify, { accessToken: ACCESS_TOKEN, shopId: 'tea-house' });
      const clear = `mutation($code: String!) { clearChannelApi(channelCode: $code) { code } }`;
      expect(errorCodes(await hub.gql(clear, { code: shopify }, keys.OPS))).toEqual(['FORBIDDEN']);
      expect((await hub.gql(clear, { code: shopify })).errors).toBeUndefined();
      const read = await hub.gql<{ channel: { api: unknown } }>(CHANNEL_API, { code: shopify });
      expect(read.data!.channel.api).toBeNull();
    });
  });

  describe('the stock sync switch', () => {
    const enabled = async (code: string) =>
      (await hub.gql<{ channel: { stockSync: { enabled: boolean } } }>(STOCK_SYNC, { code })).data!.channel
        .stockSync.enabled;

    it('is off for a new channel', async () => {
      const code = unique('dy-new');
      const created = await hub.gql<{ upsertChannel: { code: string; stockSync: { enabled: boolean } } }>(
        `mutation($code: String!) { upsertChannel(input: { code: $code, platform: DOUYIN, name: "Douyin" }) { code stockSync { enabled } } }`,
        { code },
      );
      expect(created.data!.upsertChannel.stockSync.enabled).toBe(false);
    });

    it('only ADMIN keys turn it on', async () => {
      const tmall = await channel(Platform.TAOBAO);
      const jd = await channel(Platform.JD, { isCore: true });
      await setApi(tmall, TAOBAO_API);
      await setApi(jd, TAOBAO_API);
      expect(errorCodes(await hub.gql(SET_SYNC, { code: tmall, enabled: true }, keys.OPS))).toEqual([
        'FORBIDDEN',
      ]);
      const upsert = `mutation($code: String!, $platform: Platform!) {
        upsertChannel(input: { code: $code, platform: $platform, name: "Shop", stockSync: true }) { code }
      }`;
      const byInput = await hub.gql(upsert, { code: tmall, platform: 'TAOBAO' }, keys.OPS);
      expect(errorCodes(byInput)).toEqual(['FORBIDDEN']);
      expect(await enabled(tmall)).toBe(false);

      expect((await hub.gql(SET_SYNC, { code: tmall, enabled: true })).errors).toBeUndefined();
      expect((await hub.gql(upsert, { code: jd, platform: 'JD' })).errors).toBeUndefined();
      expect(await enabled(tmall)).toBe(true);
      expect(await enabled(jd)).toBe(true);
    });

    it('refuses to turn it on for a channel without credentials (CHANNEL_API_MISSING); off is always allowed', async () => {
      const tmall = await channel(Platform.TAOBAO);
      const refused = await hub.gql(SET_SYNC, { code: tmall, enabled: true });
      expect(errorCodes(refused)).toEqual(['CHANNEL_API_MISSING']);
      expect(refused.errors![0].extensions!.channelCode).toBe(tmall);
      const upsert = `mutation($code: String!) {
        upsertChannel(input: { code: $code, platform: TAOBAO, name: "Tmall", stockSync: true }) { code }
      }`;
      expect(errorCodes(await hub.gql(upsert, { code: tmall }))).toEqual(['CHANNEL_API_MISSING']);
      expect(await enabled(tmall)).toBe(false);
      const fresh = unique('taobao-new');
      expect(errorCodes(await hub.gql(upsert, { code: fresh }))).toEqual(['CHANNEL_API_MISSING']);
      expect((await hub.gql<{ channel: unknown }>(STOCK_SYNC, { code: fresh })).data!.channel).toBeNull();

      const syncing = await channel(Platform.TAOBAO, { stockSync: true });
      expect((await hub.gql(SET_SYNC, { code: syncing, enabled: false })).errors).toBeUndefined();
      expect(await enabled(syncing)).toBe(false);
    });

    it('refuses to turn it on for a STOREFRONT channel', async () => {
      const web = await channel(Platform.STOREFRONT);
      expect(errorCodes(await hub.gql(SET_SYNC, { code: web, enabled: true }))).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('Product.channelStock', () => {
    /** A Taobao channel (non-core) and a core JD channel, both listing each of `products`. */
    const twoChannels = async (...products: string[]) => {
      const tmall = await channel(Platform.TAOBAO);
      const jd = await channel(Platform.JD, { isCore: true });
      for (const code of products) {
        await map(tmall, `tm-${code}`, code, `num-${code}`);
        await map(jd, `jd-${code}`, code, `ware-${code}`);
      }
      return { tmall, jd };
    };

    it('shows each listing with the number its channel should show', async () => {
      const open = await product(10);
      const { tmall, jd } = await twoChannels(open);
      const listings = await listingsOf(open);
      expect(listings.map((l) => [l.channel.code, l.platformSkuId, l.platformItemId, l.target])).toEqual(
        [
          [jd, `jd-${open}`, `ware-${open}`, 10],
          [tmall, `tm-${open}`, `num-${open}`, 10],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      expect(listings.every((l) => l.state === 'DISABLED' && l.confirmed === null && l.cap === null)).toBe(
        true,
      );
    });

    it('shows 0 where safety stock closed the product (non-core), available on a core channel', async () => {
      const low = await product(4);
      const { tmall, jd } = await twoChannels(low);
      const closed = await hub.gql(
        `mutation($code: String!) { setSafetyStock(productCode: $code, safetyStock: 5) { productCode } }`,
        { code: low },
      );
      expect(closed.errors).toBeUndefined();
      expect((await listing(low, tmall)).target).toBe(0);
      expect((await listing(low, jd)).target).toBe(4);
    });

    it("shows 0 while the channel's sales are closed", async () => {
      const open = await product(10);
      const { jd } = await twoChannels(open);
      const sales = `mutation($code: String!, $open: Boolean!) { setChannelSalesOpen(code: $code, open: $open) { code } }`;
      expect((await hub.gql(sales, { code: jd, open: false })).errors).toBeUndefined();
      expect((await listing(open, jd)).target).toBe(0);
      expect((await hub.gql(sales, { code: jd, open: true })).errors).toBeUndefined();
      expect((await listing(open, jd)).target).toBe(10);
    });

    it('never shows more than the cap; null lifts it (OPS and ADMIN)', async () => {
      const capped = await product(10);
      const { tmall, jd } = await twoChannels(capped);
      expect(
        errorCodes(await hub.gql(SET_CAP, { channel: tmall, product: capped, cap: 3 }, keys.ANALYST)),
      ).toEqual(['FORBIDDEN']);
      const set = await hub.gql<{ setChannelStockCap: Listing }>(
        SET_CAP,
        { channel: tmall, product: capped, cap: 3 },
        keys.OPS,
      );
      expect(set.data!.setChannelStockCap).toEqual({
        channel: { code: tmall },
        productCode: capped,
        target: 3,
        cap: 3,
      });
      expect((await listing(capped, tmall)).target).toBe(3);
      expect((await listing(capped, jd)).target).toBe(10);

      const lifted = await hub.gql<{ setChannelStockCap: Listing }>(SET_CAP, {
        channel: tmall,
        product: capped,
        cap: null,
      });
      expect(lifted.data!.setChannelStockCap).toMatchObject({ target: 10, cap: null });
    });

    it('refuses a negative cap, and answers null for a product not listed on the channel', async () => {
      const capped = await product(10);
      const { tmall } = await twoChannels(capped);
      const negative = await hub.gql(SET_CAP, { channel: tmall, product: capped, cap: -1 });
      expect(errorCodes(negative)).toEqual(['BAD_USER_INPUT']);
      const unlisted = await hub.gql<{ setChannelStockCap: unknown }>(SET_CAP, {
        channel: await channel(Platform.PINDUODUO),
        product: capped,
        cap: 2,
      });
      expect(unlisted.errors).toBeUndefined();
      expect(unlisted.data!.setChannelStockCap).toBeNull();
    });

    it('shows DISABLED where the channel does not sync, PENDING and FAILED (with the platform message) where it does', async () => {
      const open = await product(10);
      const off = await channel(Platform.PINDUODUO);
      const on = await channel(Platform.PINDUODUO, { stockSync: true });
      await map(off, `off-${open}`, open, 'goods-1');
      await map(on, `on-${open}`, open, 'goods-1');
      expect((await listing(open, off)).state).toBe('DISABLED');
      expect((await listing(open, on)).state).toBe('PENDING');
      await sql(
        `update channel_sku set sync_state = 'FAILED', last_error = '50007: sku locked' where platform_sku_id = ?`,
        [`on-${open}`],
      );
      expect(await listing(open, on)).toMatchObject({ state: 'FAILED', lastError: '50007: sku locked' });
    });

    it("gives a channel's key its own channel's listings only", async () => {
      const open = await product(10);
      const { jd } = await twoChannels(open);
      const own = await listingsOf(open, await hub.apiKey('STOREFRONT', jd));
      expect(own.map((l) => l.channel.code)).toEqual([jd]);
      const web = await channel(Platform.STOREFRONT);
      expect(await listingsOf(open, await hub.apiKey('STOREFRONT', web))).toEqual([]);
    });

    it('costs the same number of SQL statements for a page of 2 products as for 20', async () => {
      const prefix = unique('PAGE');
      const tmall = await channel(Platform.TAOBAO);
      const jd = await channel(Platform.JD);
      for (let i = 0; i < 20; i++) {
        const code = `${prefix}-${String(i).padStart(2, '0')}`;
        await seedProduct(hub.orm, code, i);
        await map(tmall, `tm-${code}`, code, `num-${code}`);
        await map(jd, `jd-${code}`, code, `ware-${code}`);
      }
      const count = async (first: number) => {
        const from = statements.length;
        const page = await hub.gql<{ products: { channelStock: unknown[] }[] }>(
          `query($first: Int, $after: String) {
            products(first: $first, after: $after) {
              productCode
              channelStock { channel { code stockSync { pending failed } } target state cap }
            }
          }`,
          { first, after: `${prefix}-` },
        );
        const ran = statements.length - from;
        expect(page.errors).toBeUndefined();
        expect(page.data!.products).toHaveLength(first);
        expect(page.data!.products.every((p) => p.channelStock.length === 2)).toBe(true);
        return ran;
      };
      const forTwo = await count(2);
      expect(await count(20)).toBe(forTwo);
      // products, then one statement for the listings, one for the channels' summaries.
      expect(forTwo).toBeLessThanOrEqual(3);
    });
  });

  describe('mapChannelSku with the platform item', () => {
    it('keeps the item when it is left out, and forgets what the old item confirmed when it moves', async () => {
      const first = await product(10);
      const second = await product(10);
      const tmall = await channel(Platform.TAOBAO, { stockSync: true });
      const bySku = async (productCode: string) =>
        (await listingsOf(productCode)).find((l) => l.platformSkuId === 'tm-MOVE')!;
      await map(tmall, 'tm-MOVE', first, 'num-old');
      await sql(
        `update channel_sku set confirmed = 7, confirmed_at = now(), sync_state = 'IN_SYNC' where platform_sku_id = 'tm-MOVE'`,
      );
      await map(tmall, 'tm-MOVE', first);
      expect(await bySku(first)).toMatchObject({ platformItemId: 'num-old', confirmed: 7 });

      await map(tmall, 'tm-MOVE', first, 'num-new');
      expect(await bySku(first)).toMatchObject({
        platformItemId: 'num-new',
        confirmed: null,
        confirmedAt: null,
        state: 'PENDING',
      });

      await sql(
        `update channel_sku set confirmed = 7, sync_state = 'FAILED', last_error = 'x' where platform_sku_id = 'tm-MOVE'`,
      );
      await map(tmall, 'tm-MOVE', second);
      // The same platform SKU still shows what it confirmed; the new product's number is pushed.
      expect(await bySku(second)).toMatchObject({
        platformItemId: 'num-new',
        confirmed: 7,
        state: 'PENDING',
        lastError: null,
      });
    });

    it('refuses, on a syncing channel, a listing its platform cannot push (BAD_USER_INPUT naming the field)', async () => {
      const open = await product(10);
      const tmall = await channel(Platform.TAOBAO, { stockSync: true });
      const noItem = await hub.gql(MAP, { channel: tmall, sku: 'tm-1', product: open });
      expect(errorCodes(noItem)).toEqual(['BAD_USER_INPUT']);
      expect(noItem.errors![0].extensions!.field).toBe('platformItemId');
      // One that names its item is taken; mapping it again may leave the item out (it is kept).
      await map(tmall, 'tm-1', open, 'num-1');
      await map(tmall, 'tm-1', open);

      const shopify = await channel(Platform.SHOPIFY, { stockSync: true });
      const noLocation = await hub.gql(MAP, {
        channel: shopify,
        sku: 'variant-1',
        product: open,
        item: 'gid://shopify/InventoryItem/1',
      });
      expect(errorCodes(noLocation)).toEqual(['BAD_USER_INPUT']);
      expect(noLocation.errors![0].extensions!.field).toBe('locationId');

      // JD's call names the SKU only; a channel not syncing yet may be mapped first and completed later.
      await map(await channel(Platform.JD, { stockSync: true }), 'jd-1', open);
      await map(await channel(Platform.TAOBAO), 'tm-1', open);
    });

    it('stores a Shopify location', async () => {
      const open = await product(10);
      const shopify = await channel(Platform.SHOPIFY);
      await map(shopify, 'variant-1', open, 'gid://shopify/InventoryItem/1', 'gid://shopify/Location/9');
      expect(await listing(open, shopify)).toMatchObject({
        platformItemId: 'gid://shopify/InventoryItem/1',
        locationId: 'gid://shopify/Location/9',
      });
    });
  });

  describe('Channel.stockSync', () => {
    it('counts listings, those waiting and those failed', async () => {
      const on = await channel(Platform.TAOBAO, { stockSync: true });
      const off = await channel(Platform.PINDUODUO);
      const products = [await product(3), await product(4), await product(5)];
      for (const code of products) await map(on, `on-${code}`, code, `num-${code}`);
      await map(off, `off-${products[0]}`, products[0], 'goods-1');
      await sql(
        `update channel_sku set sync_state = 'FAILED', last_error = 'refused' where platform_sku_id = ?`,
        [`on-${products[0]}`],
      );
      await sql(`update channel_sku set confirmed = 4, sync_state = 'IN_SYNC' where platform_sku_id = ?`, [
        `on-${products[1]}`,
      ]);

      const read = await hub.gql<{ channel: { stockSync: Record<string, unknown> } }>(STOCK_SYNC, {
        code: on,
      });
      expect(read.data!.channel.stockSync).toMatchObject({
        enabled: true,
        listings: 3,
        failed: 1,
        pending: 1,
      });
      expect(read.data!.channel.stockSync.oldestPendingSeconds).toBeGreaterThanOrEqual(0);

      const disabled = await hub.gql<{ channel: { stockSync: Record<string, unknown> } }>(STOCK_SYNC, {
        code: off,
      });
      expect(disabled.data!.channel.stockSync).toEqual({
        enabled: false,
        listings: 1,
        pending: 0,
        failed: 0,
        oldestPendingSeconds: null,
      });
    });
  });

  describe('syncStock', () => {
    /** A syncing Taobao channel listing each of `products`. */
    const syncing = async (...products: string[]) => {
      const tmall = await channel(Platform.TAOBAO, { stockSync: true });
      for (const code of products) await map(tmall, `tm-${code}`, code, `num-${code}`);
      return tmall;
    };

    it('queues every listing of the channel, or of the products named, and retries FAILED ones', async () => {
      const products = [await product(1), await product(2), await product(3)];
      const tmall = await syncing(...products);
      expect(errorCodes(await hub.gql(SYNC, { channel: tmall }, keys.ANALYST))).toEqual(['FORBIDDEN']);
      const all = await hub.gql<{ syncStock: number }>(SYNC, { channel: tmall }, keys.OPS);
      expect(all.data!.syncStock).toBe(3);

      const failed = `tm-${products[1]}`;
      await sql(
        `update channel_sku set sync_state = 'FAILED', last_error = 'refused' where platform_sku_id = ?`,
        [failed],
      );
      const some = await hub.gql<{ syncStock: number }>(SYNC, {
        channel: tmall,
        products: [products[1], products[1]],
      });
      expect(some.data!.syncStock).toBe(1);
      expect(await listing(products[1], tmall)).toMatchObject({ state: 'PENDING' });
      const [job] = await sql(
        `select count(*)::int as n from graphile_worker._private_jobs j join channel_sku cs on j.key = 'stock-sync:' || cs.id
          where cs.platform_sku_id = ? and j.run_at <= now()`,
        [failed],
      );
      expect(job.n).toBe(1);
    });

    it('names unknown products (NOT_FOUND), refuses an empty list and a channel that does not sync (STOCK_SYNC_DISABLED)', async () => {
      const known = await product(1);
      const tmall = await syncing(known);
      const unknown = await hub.gql(SYNC, { channel: tmall, products: [known, 'NOPE-1', 'NOPE-2'] });
      expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
      expect(unknown.errors![0].message).toContain('NOPE-1');
      expect(unknown.errors![0].message).toContain('NOPE-2');
      expect(unknown.errors![0].message).not.toContain(known);
      expect(unknown.errors![0].extensions).toMatchObject({
        resource: 'Product',
        keys: ['NOPE-1', 'NOPE-2'],
      });

      const none = await hub.gql(SYNC, { channel: tmall, products: [] });
      expect(errorCodes(none)).toEqual(['BAD_USER_INPUT']);
      expect(none.errors![0].extensions!.field).toBe('productCodes');

      const off = await hub.gql(SYNC, { channel: await channel(Platform.PINDUODUO) }, keys.OPS);
      expect(errorCodes(off)).toEqual(['STOCK_SYNC_DISABLED']);
      const web = await channel(Platform.STOREFRONT);
      expect(errorCodes(await hub.gql(SYNC, { channel: web }))).toEqual(['STOCK_SYNC_DISABLED']);
    });
  });

  describe('channelStockChanged', () => {
    /** A feed of channelStockChanged on a new socket, once the hub has its subscriber. */
    const subscribed = async (key: string, variables: Record<string, unknown>) => {
      const before = hub.hub.events.listenerCount('channelStockChanged');
      const listings = feed<Listing>(hub.wsClient(key), LISTING_FEED, 'channelStockChanged', variables);
      await waitFor(
        () => hub.hub.events.listenerCount('channelStockChanged') > before || listings.errors.length > 0,
        'the subscriber',
      );
      return listings;
    };

    it("delivers a listing's new state, after commit, from the database's notification", async () => {
      const open = await product(10);
      const jd = await channel(Platform.JD, { stockSync: true });
      await map(jd, `jd-${open}`, open, `ware-${open}`);
      const listings = await subscribed(keys.OPS, { channel: jd });
      try {
        await sql(
          `update channel_sku set confirmed = 10, confirmed_at = now(), sync_state = 'IN_SYNC' where platform_sku_id = ?`,
          [`jd-${open}`],
        );
        const event = await arrival(listings, (l) => l.state === 'IN_SYNC');
        expect(event).toEqual({
          channel: { code: jd },
          productCode: open,
          platformSkuId: `jd-${open}`,
          state: 'IN_SYNC',
          lastError: null,
          confirmed: 10,
          target: 10,
        });
      } finally {
        listings.stop();
      }
    });

    it('reports a listing waiting for a push (PENDING) when a stock change queues one, and DISABLED when its channel stops syncing', async () => {
      const open = await product(10);
      const jd = await channel(Platform.JD, { stockSync: true });
      await map(jd, `jd-${open}`, open, `ware-${open}`);
      await sql(`update channel_sku set confirmed = 10, sync_state = 'IN_SYNC' where platform_sku_id = ?`, [
        `jd-${open}`,
      ]);
      const listings = await subscribed(keys.OPS, { channel: jd });
      try {
        // Only the listing's target moves: no column of channel_sku changes.
        await sql(`update inventory_item set on_hand = 7 where product_code = ?`, [open]);
        expect(await arrival(listings, (l) => l.state === 'PENDING')).toMatchObject({
          platformSkuId: `jd-${open}`,
          target: 7,
          confirmed: 10,
        });
        expect((await hub.gql(SET_SYNC, { code: jd, enabled: false })).errors).toBeUndefined();
        expect(await arrival(listings, (l) => l.state === 'DISABLED')).toMatchObject({
          platformSkuId: `jd-${open}`,
        });
      } finally {
        listings.stop();
      }
    });

    it("gives a channel's key its own channel's listings only", async () => {
      const open = await product(10);
      const jd = await channel(Platform.JD, { stockSync: true });
      const tmall = await channel(Platform.TAOBAO, { stockSync: true });
      await map(jd, `jd-${open}`, open, `ware-${open}`);
      await map(tmall, `tm-${open}`, open, `num-${open}`);
      const key = await hub.apiKey('STOREFRONT', jd);
      const forbidden = feed<Listing>(hub.wsClient(key), LISTING_FEED, 'channelStockChanged', {
        channel: tmall,
      });
      const own = await subscribed(key, {});
      try {
        await waitFor(() => forbidden.errors.length > 0, 'the refusal');
        expect(
          forbidden.errors.flat().map((e) => (e as { extensions?: { code?: string } }).extensions?.code),
        ).toEqual(['FORBIDDEN']);
        await sql(`update channel_sku set last_error = 'tmall only' where platform_sku_id = ?`, [
          `tm-${open}`,
        ]);
        await sql(`update channel_sku set last_error = 'jd only' where platform_sku_id = ?`, [`jd-${open}`]);
        await arrival(own, (l) => l.lastError === 'jd only');
        // Notifications arrive in commit order: had the tmall change been sent, it would have come first.
        expect(own.events.map((l) => l.channel.code)).not.toContain(tmall);
        expect(forbidden.events).toEqual([]);
      } finally {
        own.stop();
        forbidden.stop();
      }
    });

    it('loads nothing for listing changes while no one on this process subscribes to them', async () => {
      await waitFor(
        () => hub.hub.events.listenerCount('channelStockChanged') === 0,
        'earlier subscribers to leave',
      );
      const code = await product(10);
      // A payload that is no listing id: loading it fails, and the failure is logged.
      const notifyBadListing = () => sql(`select pg_notify('hub_channel_stock', 'not-a-listing-id')`);
      const failedLoads = () => logLines.filter((l) => l.includes('could not load notified changes')).length;
      const before = failedLoads();
      const items = hub.hub.events.subscribe('inventoryChanged', (item) => item.productCode === code);
      try {
        await notifyBadListing();
        // Notified after it: once this event is here, the listener has dealt with the listing's notification.
        await sql(`select pg_notify('hub_inventory', ?)`, [code]);
        await items.next();
        expect(failedLoads()).toBe(before);

        const listings = hub.hub.events.subscribe('channelStockChanged');
        try {
          await notifyBadListing();
          await waitFor(() => failedLoads() > before, 'the load for a subscriber');
        } finally {
          await listings.return!();
        }
      } finally {
        await items.return!();
      }
    });

    it('ends its subscribers when the hub could not hear the database for a while, so they read the listings again', async () => {
      const listings = await subscribed(keys.OPS, {});
      try {
        await sql(
          `select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()`,
          [LISTENER_APPLICATION_NAME],
        );
        await waitFor(() => listings.errors.length > 0, 'the subscription to end');
        expect(listings.errors).toEqual([
          expect.objectContaining({
            message: expect.stringContaining(
              'to catch up, query the listings with product(productCode) { channelStock }, then subscribe again.',
            ),
            extensions: { code: 'SUBSCRIBER_FELL_BEHIND' },
          }),
        ]);
      } finally {
        listings.stop();
      }
    });
  });

  describe('variables that do not fit their type', () => {
    it('are refused naming the variable and field, never quoting the value (response and log)', async () => {
      const pdd = await channel(Platform.PINDUODUO);
      const wrongTypes = [
        { appKey: 'k', appSecret: WRONG_TYPED_SECRET, accessToken: ACCESS_TOKEN, pushDelayMs: 'soon' },
        { appKey: 'k', appSecret: WRONG_TYPED_SECRET, unknownField: 1 },
        { appKey: 'k', appSecret: [WRONG_TYPED_SECRET] },
      ];
      for (const input of wrongTypes) {
        const refused = await hub.gql(SET_API, { code: pdd, input });
        expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].message).toMatch(/^Variable "\$input" got an invalid value at "input/);
        for (const secret of SECRETS) expect(JSON.stringify(refused)).not.toContain(secret);
      }
      const first = await hub.gql(SET_API, { code: pdd, input: wrongTypes[0] });
      expect(first.errors![0].message).toBe(
        'Variable "$input" got an invalid value at "input.pushDelayMs": expected Int.',
      );
    });
  });

  describe('literals in the query that do not fit their type', () => {
    it('are refused naming the expected type, never quoting the value', async () => {
      const pdd = await channel(Platform.PINDUODUO);
      const [digits, name, text] = LITERAL_SECRETS;
      const setApiWith = (secret: string) =>
        `mutation { setChannelApi(channelCode: "${pdd}", input: { appKey: "k", appSecret: ${secret} }) { code } }`;
      const upsertWith = (platform: string) =>
        `mutation { upsertChannel(input: { code: "${unique('lit')}", platform: ${platform}, name: "x" }) { code } }`;
      const cases: [string, RegExp][] = [
        [setApiWith(digits), /^String cannot represent a non string value/],
        [setApiWith(name), /^String cannot represent a non string value/],
        [setApiWith(`["${text}"]`), /^String cannot represent a non string value/],
        [setApiWith(`{ value: "${text}" }`), /^String cannot represent a non string value/],
        [
          `mutation { setChannelApi(channelCode: "${pdd}", input: "${text}") { code } }`,
          /^Expected value of type "ChannelApiInput!", found/,
        ],
        [
          `mutation { setChannelApi(channelCode: "${pdd}", input: { appKey: "k", pushDelayMs: ${digits} }) { code } }`,
          /^Int cannot represent non 32-bit signed integer value/,
        ],
        [upsertWith(`"${text}"`), /^Enum "Platform" cannot represent non-enum value/],
        [upsertWith(name), /does not exist in "Platform" enum/],
      ];
      for (const [query, message] of cases) {
        const refused = await hub.gql(query);
        expect(errorCodes(refused), query).toEqual(['BAD_USER_INPUT']);
        expect(refused.errors![0].message, query).toMatch(message);
        for (const secret of SECRETS) expect(JSON.stringify(refused), query).not.toContain(secret);
      }
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

  it('refuses to turn a stock sync on: SECRET_KEY_MISSING', async () => {
    expect(errorCodes(await hub.gql(SET_SYNC, { code: 'jd-main', enabled: true }))).toEqual([
      'SECRET_KEY_MISSING',
    ]);
    const upsert = `mutation { upsertChannel(input: { code: "jd-main", platform: JD, name: "JD", stockSync: true }) { code } }`;
    expect(errorCodes(await hub.gql(upsert))).toEqual(['SECRET_KEY_MISSING']);
  });

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

/** The first event that passes `match`, once it arrived. */
async function arrival<T>(listings: Feed<T>, match: (event: T) => boolean): Promise<T> {
  await waitFor(() => listings.events.some(match), 'a matching channelStockChanged event');
  return listings.events.find(match)!;
}
