import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { startFakePlatform, type FakePlatform } from './support/fake-platforms.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

// An operator's path, all through the API, with the stock sync running in the hub: connect a Taobao shop,
// map a listing, turn the sync on, change stock, and watch the platform and the listing follow; a wrong
// secret fails the listing with the platform's words and an alert, and the right one with syncStock heals it.

const APP_KEY = '12345678';
const APP_SECRET = 'taobao-secret-6d1e90ab';
const SESSION = 'taobao-session-0f3c77e2';

const SET_API = `mutation($input: ChannelApiInput!) {
  setChannelApi(channelCode: "tmall", input: $input) { api { baseUrl hasAppSecret hasAccessToken } }
}`;
const LISTING = `{
  product(productCode: "TEA-1") { channelStock { platformSkuId target confirmed state lastError } }
}`;

interface Listing {
  platformSkuId: string;
  target: number;
  confirmed: number | null;
  state: string;
  lastError: string | null;
}

describe('a channel connected through the API', () => {
  let hub: TestHub;
  let taobao: FakePlatform;
  const logLines: string[] = [];

  const listing = async () => {
    const response = await hub.gql<{ product: { channelStock: Listing[] } }>(LISTING);
    expect(response.errors).toBeUndefined();
    return response.data!.product.channelStock[0];
  };
  const adjust = async (delta: number) => {
    const response = await hub.gql(
      `mutation($delta: Int!) { adjustStock(productCode: "TEA-1", delta: $delta, reason: "count") { available } }`,
      { delta },
    );
    expect(response.errors).toBeUndefined();
  };

  beforeAll(async () => {
    taobao = await startFakePlatform({
      platform: 'TAOBAO',
      credentials: { appKey: APP_KEY, appSecret: APP_SECRET, accessToken: SESSION },
      skus: [
        { itemId: '600123', skuId: '5001', quantity: 0 },
        { itemId: '600123', skuId: '5002', quantity: 0 },
      ],
    });
    hub = await startTestHub('stock-sync-api', {
      logLines,
      stockSync: { sweepIntervalMs: 60_000, retryBaseMs: 50, retryMaxMs: 200 },
    });
    await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    await seedProduct(hub.orm, 'TEA-1', 10);
    await seedProduct(hub.orm, 'TEA-2', 4);
  });
  afterAll(async () => {
    await hub?.close();
    await taobao?.close();
  });

  it('pushes the pool to the platform once connected, mapped and switched on, and follows each change', async () => {
    const connected = await hub.gql(SET_API, {
      input: { baseUrl: taobao.baseUrl, appKey: APP_KEY, appSecret: APP_SECRET, accessToken: SESSION },
    });
    expect(connected).toEqual({
      data: { setChannelApi: { api: { baseUrl: taobao.baseUrl, hasAppSecret: true, hasAccessToken: true } } },
    });
    const mapped = await hub.gql(
      `mutation { mapChannelSku(channelCode: "tmall", platformSkuId: "5001", productCode: "TEA-1", platformItemId: "600123") }`,
    );
    expect(mapped.errors).toBeUndefined();
    expect(await listing()).toMatchObject({ platformSkuId: '5001', target: 10, state: 'DISABLED' });
    expect(taobao.writes()).toBe(0);

    const client = hub.wsClient();
    const changes = feed<Listing>(
      client,
      `subscription { channelStockChanged(channelCode: "tmall") { platformSkuId target confirmed state } }`,
      'channelStockChanged',
      {},
    );
    await hub.gql(`mutation { setChannelStockSync(channelCode: "tmall", enabled: true) { code } }`);
    await waitFor(() => taobao.quantity('5001') === 10, 'Taobao to show 10');
    await waitFor(async () => (await listing()).state === 'IN_SYNC', 'the listing in sync');
    expect(await listing()).toEqual({
      platformSkuId: '5001',
      target: 10,
      confirmed: 10,
      state: 'IN_SYNC',
      lastError: null,
    });
    await waitFor(() => changes.events.some((e) => e.state === 'IN_SYNC' && e.confirmed === 10), 'the feed');

    await adjust(-4);
    await waitFor(() => taobao.quantity('5001') === 6, 'Taobao to show 6');
    await waitFor(async () => (await listing()).confirmed === 6, 'the listing to confirm 6');
    expect(taobao.history('5001')).toEqual([0, 10, 6]);
    changes.stop();
  });

  it('fails the listing with the platform message and an alert on a wrong secret; syncStock heals it once fixed', async () => {
    const wrong = await hub.gql(SET_API, {
      input: {
        baseUrl: taobao.baseUrl,
        appKey: APP_KEY,
        appSecret: 'not-the-secret-0000',
        accessToken: SESSION,
      },
    });
    expect(wrong.errors).toBeUndefined();
    await adjust(-1);
    await waitFor(async () => (await listing()).state === 'FAILED', 'the listing to fail');
    const failed = await listing();
    expect(failed.lastError).toMatch(/sign/i);
    expect(failed.confirmed).toBe(6);
    expect(taobao.quantity('5001')).toBe(6);
    const alerts = await hub.gql<{ stockAlerts: { kind: string; message: string }[] }>(
      `{ stockAlerts(productCode: "TEA-1") { kind message } }`,
    );
    expect(alerts.data!.stockAlerts.filter((a) => a.kind === 'STOCK_SYNC_FAILED')).toHaveLength(1);

    await hub.gql(SET_API, {
      input: { baseUrl: taobao.baseUrl, appKey: APP_KEY, appSecret: APP_SECRET, accessToken: SESSION },
    });
    const queued = await hub.gql(`mutation { syncStock(channelCode: "tmall") }`);
    expect(queued).toEqual({ data: { syncStock: 1 } });
    await waitFor(() => taobao.quantity('5001') === 5, 'Taobao to show 5');
    await waitFor(async () => (await listing()).state === 'IN_SYNC', 'the listing in sync again');
    expect(await listing()).toMatchObject({ confirmed: 5, lastError: null });
  });

  it('two listings of one product on the channel share its stock: together they never show more than the pool', async () => {
    const map = (productCode: string) =>
      hub.gql(
        `mutation($productCode: String!) { mapChannelSku(channelCode: "tmall", platformSkuId: "5002", productCode: $productCode, platformItemId: "600123") }`,
        { productCode },
      );
    const shown = () => [taobao.quantity('5001'), taobao.quantity('5002')];
    expect((await map('TEA-1')).errors).toBeUndefined();
    // 5 available: one listing shows 3, the other 2 (which one gets the odd unit is fixed, not chosen here).
    await waitFor(() => shown().sort().join() === '2,3', 'the two listings to show 3 and 2');

    await adjust(2);
    await waitFor(() => shown().sort().join() === '3,4', 'the two listings to show 4 and 3');
    const listings = await hub.gql<{ product: { channelStock: Listing[] } }>(LISTING);
    expect(listings.data!.product.channelStock.map((l) => l.target).sort()).toEqual([3, 4]);

    // Moved to another product: the one left shows all of TEA-1 again, the moved one TEA-2's 4.
    expect((await map('TEA-2')).errors).toBeUndefined();
    await waitFor(() => shown().join() === '7,4', '5001 to show 7 and 5002 4');
  });

  it('never writes a credential into a log line', () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [APP_SECRET, SESSION, 'not-the-secret-0000']) {
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
