import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { loadConfig } from '../server/config.js';
import { RequestContext } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, startTestHubBehindProxy, type TestHub } from './support/hub.js';
import { Scrape } from './support/prometheus-text.js';
import {
  connectFake,
  createChannel,
  createProduct,
  openDb,
  startSyncFake,
  type SyncDb,
  type SyncFake,
} from './support/stock-sync.js';
import { feed } from './support/subscribe.js';
import type { TcpProxy } from './support/tcp-proxy.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import { waitFor } from './support/wait.js';
import { deliver, sample } from './support/webhooks.js';

const SECRET = 'taobao-webhook-secret-0123456789ab';
const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics', () => {
  let hub: TestHub;
  let base: string;
  let seq = 0;

  const sql = <T = any>(query: string, params: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(query, params);

  async function scrape(): Promise<Scrape> {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return new Scrape(await response.text());
  }

  /** Each metric's change between two scrapes. */
  function delta(before: Scrape, after: Scrape) {
    return (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
  }

  function taobaoOrder(
    status: string,
    code = 'MILK-1L',
    tid = `34872166551904${String(++seq).padStart(5, '0')}`,
  ) {
    const payload = sample('taobao');
    payload.tid_str = tid;
    payload.tid = Number(tid);
    payload.status = status;
    payload.orders.order[0].outer_sku_id = code;
    return payload;
  }

  beforeAll(async () => {
    hub = await startTestHub('metrics', { env: { METRICS_TOKEN: TOKEN } });
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: SECRET });
    await seedProduct(hub.orm, 'MILK-1L', 100);
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('asks for METRICS_TOKEN: 401 without it or with another, 200 in the text format with it', async () => {
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const wrong = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await right.text();
    expect(text).toContain('# TYPE hub_orders_ingested_total counter');
    // prom-client's process metrics, in this hub's registry.
    expect(new Scrape(text).has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('refuses a METRICS_TOKEN too short to be a secret, naming it', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: .*at least 16 characters/);
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN);
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('counts orders by outcome and webhook answers by status class, with their latency', async () => {
    const before = await scrape();
    const pending = taobaoOrder('WAIT_BUYER_PAY');
    expect((await deliver(base, 'taobao-main', pending, { secret: SECRET })).status).toBe(200);
    // The same bytes again: the ingest log answers them.
    expect((await deliver(base, 'taobao-main', pending, { secret: SECRET })).status).toBe(200);
    // The same order, paid.
    const paid = taobaoOrder('WAIT_SELLER_SEND_GOODS', 'MILK-1L', pending.tid_str);
    expect((await deliver(base, 'taobao-main', paid, { secret: SECRET })).status).toBe(200);
    expect((await deliver(base, 'taobao-main', '{"tid": ', { secret: SECRET })).status).toBe(400);
    expect((await deliver(base, 'taobao-main', taobaoOrder('WAIT_BUYER_PAY'))).status).toBe(401);
    expect((await deliver(base, 'no-such-channel', pending, { secret: SECRET })).status).toBe(404);
    const d = delta(before, await scrape());

    const ingested = (outcome: string) =>
      d('hub_orders_ingested_total', { channel: 'taobao-main', source: 'webhook', outcome });
    expect(['created', 'duplicate', 'updated', 'rejected', 'failed'].map(ingested)).toEqual([1, 1, 1, 1, 0]);
    const answered = (channel: string, statusClass: string) => [
      d('hub_webhook_responses_total', { channel, status_class: statusClass }),
      d('hub_webhook_request_duration_seconds_count', { channel, status_class: statusClass }),
    ];
    expect(answered('taobao-main', '2xx')).toEqual([3, 3]);
    expect(answered('taobao-main', '4xx')).toEqual([2, 2]);
    expect(answered('unknown', '4xx')).toEqual([1, 1]);
    expect(answered('taobao-main', '5xx')).toEqual([0, 0]);
    // The unpaid order held its line; paying committed it.
    expect(d('hub_stock_holds_total', { source: 'order', outcome: 'taken' })).toBe(1);
  });

  it('counts holds taken, refused and expired', async () => {
    const before = await scrape();
    const reserve = (quantity: number, ttlSeconds?: number) =>
      hub.gql<{ reserveStock: { id: string } }>(
        `mutation($q: Int!, $ttl: Int) { reserveStock(productCode: "MILK-1L", quantity: $q, ttlSeconds: $ttl) { id } }`,
        { q: quantity, ttl: ttlSeconds ?? null },
      );
    expect((await reserve(3)).data?.reserveStock.id).toBeTruthy();
    const refused = await reserve(100_000);
    expect(refused.errors?.[0].extensions?.code).toBe('INSUFFICIENT_STOCK');
    const short = await reserve(1, 60);
    await sql(`update reservation set expires_at = now() - interval '1 second' where id = ?`, [
      short.data!.reserveStock.id,
    ]);
    const ctx = RequestContext.system(hub.orm.em.fork(), hub.hub.app.log as never, hub.hub.services);
    expect(await expireHolds(ctx)).toBe(1);
    const d = delta(before, await scrape());
    expect(d('hub_stock_holds_total', { source: 'reservation', outcome: 'taken' })).toBe(2);
    expect(d('hub_stock_holds_total', { source: 'reservation', outcome: 'refused' })).toBe(1);
    expect(d('hub_stock_holds_total', { source: 'reservation', outcome: 'expired' })).toBe(1);
    expect(d('hub_stock_holds_total', { source: 'order', outcome: 'expired' })).toBe(0);
  });

  it('counts each committed stock alert once, by kind, and the lag of events handed to subscribers', async () => {
    const before = await scrape();
    const client = hub.wsClient();
    const alerts = feed<{ kind: string }>(client, 'subscription { stockAlert { kind } }', 'stockAlert', {});
    const events = feed<{ type: string }>(
      client,
      'subscription { orderStatusChanged(channelCode: "taobao-main") { type } }',
      'orderStatusChanged',
      {},
    );
    await waitFor(
      async () =>
        (await scrape()).value('hub_subscriptions_open') === before.value('hub_subscriptions_open') + 2,
      'two subscriptions open',
    );
    const [{ n: eventsBefore }] = await sql<{ n: number }>('select count(*)::int as n from order_event');
    // A line no product has: an UNKNOWN_PRODUCT alert, and the order's CREATED event.
    const reply = await deliver(base, 'taobao-main', taobaoOrder('WAIT_SELLER_SEND_GOODS', 'NO-SUCH-SKU'), {
      secret: SECRET,
    });
    expect(reply.status).toBe(200);
    expect(await alerts.take(1)).toEqual([{ kind: 'UNKNOWN_PRODUCT' }]);
    await events.take(1);
    const [{ n: eventsAfter }] = await sql<{ n: number }>('select count(*)::int as n from order_event');
    await waitFor(
      async () =>
        delta(before, await scrape())('hub_event_delivery_lag_seconds_count', { topic: 'orderEvent' }) ===
        eventsAfter - eventsBefore,
      'every order event published',
    );
    const d = delta(before, await scrape());
    expect(d('hub_stock_alerts_total', { kind: 'UNKNOWN_PRODUCT' })).toBe(1);
    expect(d('hub_stock_alerts_total')).toBe(1);
    expect(d('hub_event_delivery_lag_seconds_count', { topic: 'stockAlert' })).toBe(1);
    expect(d('hub_subscriptions_open')).toBe(2);
    alerts.stop();
    events.stop();
    await waitFor(
      async () => (await scrape()).value('hub_subscriptions_open') === before.value('hub_subscriptions_open'),
      'the subscriptions closed',
    );
  });

  it("shows the database pools' connections and the oldest due stock push", async () => {
    const idle = await scrape();
    expect(idle.has('hub_db_pool_connections', { pool: 'feed', state: 'used' })).toBe(true);
    expect(idle.has('hub_db_pool_connections', { pool: 'channel-requests', state: 'free' })).toBe(true);
    expect(idle.value('hub_stock_sync_oldest_pending_seconds')).toBe(0);
    const usedIdle = idle.value('hub_db_pool_connections', { pool: 'main', state: 'used' });
    // A transaction on the main pool holds one of its connections while the scrape reads the pool.
    const inTransaction = await hub.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1');
      return scrape();
    });
    expect(inTransaction.value('hub_db_pool_connections', { pool: 'main', state: 'used' })).toBe(
      usedIdle + 1,
    );
    expect(inTransaction.value('hub_db_pool_connections', { pool: 'main', state: 'pending' })).toBe(0);

    // A listing's push due a minute ago and not taken (this hub runs no stock sync).
    await sql(
      `select graphile_worker.add_job('stock_sync', '{}'::json, job_key => 'stock-sync:metrics-test',
         run_at => now() - interval '60 seconds')`,
    );
    expect((await scrape()).value('hub_stock_sync_oldest_pending_seconds')).toBeGreaterThanOrEqual(60);
  });
});

describe('GET /metrics: the stock sync and the outbound webhooks of the same process', () => {
  let hub: TestHub;
  let db: SyncDb;
  let base: string;
  const fakes: SyncFake[] = [];
  const receivers: WebhookReceiver[] = [];

  async function scrape(): Promise<Scrape> {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    return new Scrape(await response.text());
  }

  beforeAll(async () => {
    hub = await startTestHub('metrics-workers', {
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '20ms', WEBHOOK_TIMEOUT_MS: '2000' },
      stockSync: { pollIntervalMs: 100, sweepIntervalMs: 1000, retryBaseMs: 100, retryMaxMs: 1000 },
      webhooks: { pollIntervalMs: 50, sweepIntervalMs: 1000 },
    });
    base = hub.url.replace(/\/graphql$/, '');
    db = openDb(hub.database.url);
  });

  afterAll(async () => {
    await db?.end();
    await hub?.close();
    await Promise.all([...fakes.map((f) => f.fake.close()), ...receivers.map((r) => r.close())]);
  });

  it('counts pushes by platform and outcome, and shows the stock sync pool', async () => {
    const before = await scrape();
    // A registry of its own: the hub above counted orders in this same process, this one has seen none.
    expect(before.value('hub_orders_ingested_total')).toBe(0);
    await createProduct(db, 'TEA-500G', 20);
    await createChannel(db, 'jd-main', 'JD');
    await createChannel(db, 'youzan-main', 'YOUZAN');
    fakes.push(await startSyncFake('JD'), await startSyncFake('YOUZAN'));
    await connectFake(db, {
      channelCode: 'jd-main',
      sync: fakes[0],
      productCodes: ['TEA-500G'],
      pushDelayMs: 50,
    });
    // The platform knows none of this channel's SKUs: refused for good.
    await connectFake(db, {
      channelCode: 'youzan-main',
      sync: fakes[1],
      productCodes: ['TEA-500G'],
      pushDelayMs: 50,
      addToFake: false,
    });
    await waitFor(async () => {
      const states = await db.sql<{ sync_state: string }>(
        `select cs.sync_state from channel_sku cs join channel c on c.id = cs.channel_id order by c.code`,
      );
      return states.map((s) => s.sync_state).join() === 'IN_SYNC,FAILED';
    }, 'one listing in step, one failed');
    await waitFor(
      async () => (await scrape()).value('hub_stock_alerts_total', { kind: 'STOCK_SYNC_FAILED' }) === 1,
      'the STOCK_SYNC_FAILED alert heard',
    );
    const after = await scrape();
    const d = (labels: Record<string, string>) =>
      after.value('hub_stock_sync_pushes_total', labels) -
      before.value('hub_stock_sync_pushes_total', labels);
    expect(d({ platform: 'JD', outcome: 'set' })).toBe(1);
    expect(d({ platform: 'YOUZAN', outcome: 'failed' })).toBe(1);
    expect(d({})).toBe(2);
    expect(after.has('hub_db_pool_connections', { pool: 'stock-sync', state: 'used' })).toBe(true);
    expect(after.has('hub_db_pool_connections', { pool: 'webhooks', state: 'used' })).toBe(true);
  });

  it('counts outbound attempts: delivered, retrying and given up', async () => {
    const secret = 'taobao-webhook-secret-0123456789ab';
    await createChannel(db, 'taobao-main', 'TAOBAO', { webhookSecret: secret });
    const ok = await startWebhookReceiver();
    const broken = await startWebhookReceiver();
    receivers.push(ok, broken);
    broken.answer(500);
    for (const receiver of [ok, broken]) {
      const response = await hub.gql<{ createWebhookEndpoint: { secret: string } }>(
        `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
        { input: { url: receiver.url, events: ['ORDER_CREATED'], channelCodes: ['taobao-main'] } },
      );
      expect(response.errors).toBeUndefined();
      receiver.secrets.push(response.data!.createWebhookEndpoint.secret);
    }
    const before = await scrape();
    expect((await deliver(base, 'taobao-main', sample('taobao'), { secret })).status).toBe(200);
    const attempts = (s: Scrape, outcome: string) =>
      s.value('hub_outbound_webhook_attempts_total', { outcome });
    // One schedule step: the broken endpoint's delivery is tried twice, then given up.
    await waitFor(async () => {
      const now = await scrape();
      return (
        attempts(now, 'failed') === attempts(before, 'failed') + 1 &&
        attempts(now, 'delivered') === attempts(before, 'delivered') + 1
      );
    }, 'one delivered, the broken one given up');
    const after = await scrape();
    expect(['delivered', 'retrying', 'failed'].map((o) => attempts(after, o) - attempts(before, o))).toEqual([
      1, 1, 1,
    ]);
    expect(ok.accepted()).toHaveLength(1);
    expect(broken.received).toHaveLength(2);
  });
});

describe('GET /metrics while the database is away', () => {
  let hub: TestHub;
  let proxy: TcpProxy;

  beforeAll(async () => {
    ({ hub, proxy } = await startTestHubBehindProxy('metrics-outage'));
  });

  afterAll(async () => {
    await hub?.close();
    await proxy?.close();
  });

  it('still answers, and counts the 503s and the orders that could not be stored', async () => {
    const base = hub.url.replace(/\/graphql$/, '');
    const secret = 'taobao-webhook-secret-0123456789ab';
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: secret });
    await seedProduct(hub.orm, 'MILK-1L', 100);
    const order = (tid: string) => {
      const payload = sample('taobao');
      payload.tid_str = tid;
      payload.tid = Number(tid);
      return payload;
    };
    // The channel is read (and cached) while the database answers.
    expect((await deliver(base, 'taobao-main', order('3487216655190400001'), { secret })).status).toBe(200);
    const scrape = async () => new Scrape(await (await fetch(`${base}/metrics`)).text());
    const before = await scrape();
    await proxy.cut();
    try {
      expect((await deliver(base, 'taobao-main', order('3487216655190400002'), { secret })).status).toBe(503);
      const during = await fetch(`${base}/metrics`);
      expect(during.status).toBe(200);
      const after = new Scrape(await during.text());
      const d = (name: string, labels: Record<string, string>) =>
        after.value(name, labels) - before.value(name, labels);
      expect(d('hub_orders_ingested_total', { channel: 'taobao-main', outcome: 'failed' })).toBe(1);
      expect(d('hub_orders_ingested_total', { channel: 'taobao-main', outcome: 'created' })).toBe(0);
      expect(d('hub_webhook_responses_total', { channel: 'taobao-main', status_class: '5xx' })).toBe(1);
    } finally {
      await proxy.restore();
    }
  });
});
