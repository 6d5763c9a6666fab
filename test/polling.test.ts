import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectorHealth, IngestionMode, Platform, Role } from '../common/enums.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { startScheduler, type Scheduler } from '../server/scheduler.js';
import { DEFAULT_SETTINGS, RequestContext } from '../services/context.js';
import {
  heartbeat,
  PlatformClients,
  pollChannel,
  withChannelLock,
  type PlatformClientOptions,
} from '../services/polling.js';
import { seedChannel } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { sample } from './support/webhooks.js';

/**
 * Polling and heartbeat against real local HTTP servers that speak each platform's pull format (the paths,
 * parameters and envelopes of the connectors' `pull.request` and `pull.parse`), on a real PostgreSQL.
 */

// ---- a platform's order API on 127.0.0.1 ----

interface Answer {
  status?: number;
  body?: unknown;
  delayMs?: number;
}
type Reply = Answer | 'hang';

interface PlatformServer {
  /** The channel's apiBaseUrl: a path prefix, as a real API gateway has. */
  baseUrl: string;
  /** Path and query of every request, in order. */
  requests: string[];
  /** Requests whose client gave up (timeout, stop) before a reply. */
  abandoned: number;
  respond: (url: URL) => Reply | Promise<Reply>;
  close(): Promise<void>;
}

async function platformServer(respond: PlatformServer['respond']): Promise<PlatformServer> {
  const state: PlatformServer = {
    baseUrl: '',
    requests: [],
    abandoned: 0,
    respond,
    close: async () => undefined,
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    state.requests.push(url.pathname.replace(/^\/api/, '') + url.search);
    res.on('close', () => {
      if (!res.writableFinished) state.abandoned++;
    });
    void Promise.resolve(state.respond(url)).then((reply) => {
      if (reply === 'hang' || res.destroyed) return;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body ?? {}));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

type Feedable = Platform.TAOBAO | Platform.JD | Platform.PINDUODUO;

/** Each platform's pull API as its connector speaks it: path, cursor parameter and reply envelope. */
const FORMATS: Record<
  Feedable,
  { path: string; param: string; page(orders: unknown[], next: string | null): unknown }
> = {
  [Platform.TAOBAO]: {
    path: '/trades',
    param: 'modified_after',
    // Like every TOP reply, it leaves `trades` out when there are none.
    page: (orders, next) => ({
      trades_sold_increment_get_response: {
        ...(orders.length ? { trades: { trade: orders } } : {}),
        ...(next ? { next_cursor: next } : {}),
        total_results: orders.length,
      },
    }),
  },
  [Platform.JD]: {
    path: '/pop/order/search',
    param: 'updated_after',
    page: (orders, next) => ({
      jingdong_pop_order_search_responce: {
        searchorderinfo_result: { orderInfoList: orders, nextCursor: next },
      },
    }),
  },
  [Platform.PINDUODUO]: {
    path: '/order/increment',
    param: 'updated_after',
    page: (orders, next) => ({
      order_sn_increment_get_response: { order_sn_list: orders, next_cursor: next },
    }),
  },
};

/**
 * An increment API over a list of orders: the cursor is how many were handed out; a page answers with the
 * cursor after it, and an empty page with none ("no more now").
 */
function feed(platform: Feedable, orders: unknown[], pageSize = 2) {
  const format = FORMATS[platform];
  return (url: URL): Answer => {
    if (url.pathname !== `/api${format.path}`) return { status: 404, body: { error: 'no such path' } };
    const after = Number(url.searchParams.get(format.param) ?? '0');
    const page = orders.slice(after, after + pageSize);
    return { body: format.page(page, page.length ? String(after + page.length) : null) };
  };
}

let seq = 0;
const nextId = () => String(++seq).padStart(6, '0');

function taobaoTrade(extra: Record<string, unknown> = {}) {
  const trade = sample('taobao');
  trade.tid_str = `34872166551${nextId()}`;
  delete trade.tid;
  return { ...trade, ...extra };
}

function jdOrder() {
  const order = sample('jd');
  order.orderId = `2901${nextId()}`;
  return order;
}

function pddOrder() {
  const order = sample('pinduoduo');
  order.order_sn = `261111-${nextId()}`;
  return order;
}

const builders: Record<Feedable, () => unknown> = {
  [Platform.TAOBAO]: () => taobaoTrade(),
  [Platform.JD]: jdOrder,
  [Platform.PINDUODUO]: pddOrder,
};

// ---- the hub ----

let hub: TestHub;
const logs: string[] = [];
const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
const servers: PlatformServer[] = [];
const clientSets: PlatformClients[] = [];
const schedulers: Scheduler[] = [];

/** Short times, so that timeouts, retries and the breaker's reset run in well under a second. */
function fastClients(options: PlatformClientOptions = {}): PlatformClients {
  const clients = new PlatformClients({
    timeoutMs: 200,
    retries: 2,
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    degradedLatencyMs: 1_000,
    ...options,
    breaker: {
      resetTimeoutMs: 300,
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      rollingWindowMs: 10_000,
      ...options.breaker,
    },
  });
  clientSets.push(clients);
  return clients;
}

async function serve(respond: PlatformServer['respond']) {
  const server = await platformServer(respond);
  servers.push(server);
  return server;
}

const ctx = () => RequestContext.system(hub.orm.em.fork(), logger, DEFAULT_SETTINGS, 'polling-test');

const sql = <T = any>(query: string, params: unknown[] = []) =>
  hub.orm.em.getConnection().execute<T[]>(query, params);

async function pollingChannel(code: string, platform: Feedable, server: PlatformServer) {
  return seedChannel(hub.orm, code, platform, {
    ingestionModes: [IngestionMode.POLL],
    apiBaseUrl: server.baseUrl,
  });
}

async function orderCount(channelCode: string): Promise<number> {
  const [row] = await sql<{ n: string }>(
    `select count(*) as n from "order" o join channel c on c.id = o.channel_id where c.code = ?`,
    [channelCode],
  );
  return Number(row.n);
}

async function channelRow(code: string) {
  const [row] = await sql<{
    health: ConnectorHealth;
    poll_cursor: string | null;
    last_heartbeat_ms: number | null;
    last_order_ms: number | null;
  }>(
    `select health, poll_cursor, (extract(epoch from last_heartbeat_at) * 1000)::float8 as last_heartbeat_ms,
       (extract(epoch from last_order_at) * 1000)::float8 as last_order_ms
     from channel where code = ?`,
    [code],
  );
  return row;
}

function logged(level: 'info' | 'warn' | 'debug', text: string, channel?: string): boolean {
  const levels = { debug: 20, info: 30, warn: 40 };
  return logs.some((line) => {
    const entry = JSON.parse(line) as { level: number; msg: string; channel?: string };
    return entry.level === levels[level] && entry.msg.includes(text) && (!channel || line.includes(channel));
  });
}

beforeAll(async () => {
  hub = await startTestHub('polling');
});

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  for (const clients of clientSets.splice(0)) clients.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await hub?.close();
});

describe('pollChannel', () => {
  it.each([Platform.PINDUODUO, Platform.JD] as const)(
    'pulls two pages from %s, stores each order once and keeps the cursor',
    async (platform) => {
      const code = `two-pages-${platform.toLowerCase()}`;
      const orders = [builders[platform](), builders[platform](), builders[platform]()];
      const server = await serve(feed(platform, orders));
      const channel = await pollingChannel(code, platform, server);
      const clients = fastClients();
      const path = FORMATS[platform].path;
      const param = FORMATS[platform].param;

      const first = await pollChannel(ctx(), channel, clients);
      expect(first).toEqual({
        channelCode: code,
        pages: 3,
        orders: 3,
        created: 3,
        failed: 0,
        cursor: '3',
        health: ConnectorHealth.UP,
        error: null,
      });
      // Two pages of orders, then the empty page that says "no more now".
      expect(server.requests).toEqual([path, `${path}?${param}=2`, `${path}?${param}=3`]);
      expect(await orderCount(code)).toBe(3);
      expect((await channelRow(code)).poll_cursor).toBe('3');

      // From the stored cursor: nothing new.
      const again = await pollChannel(ctx(), channel, clients);
      expect(again).toMatchObject({ pages: 1, orders: 0, created: 0, cursor: '3' });

      // From the beginning again (a lost cursor): every order is met again, none is made twice.
      await sql(`update channel set poll_cursor = null where code = ?`, [code]);
      const replay = await pollChannel(ctx(), channel, clients);
      expect(replay).toMatchObject({ pages: 3, orders: 3, created: 0, failed: 0, cursor: '3' });
      expect(await orderCount(code)).toBe(3);
      const outcomes = await sql<{ outcome: string; n: string }>(
        `select outcome, count(*) as n from ingest_log where channel_code = ? and source = 'POLL' group by outcome order by outcome`,
        [code],
      );
      expect(outcomes.map((r) => [r.outcome, Number(r.n)])).toEqual([
        ['CREATED', 3],
        ['DUPLICATE', 3],
      ]);

      // A new order on the platform: the next poll takes exactly that one.
      orders.push(builders[platform]());
      const later = await pollChannel(ctx(), channel, clients);
      expect(later).toMatchObject({ orders: 1, created: 1, cursor: '4' });
      expect(await orderCount(code)).toBe(4);
      await vi.waitFor(async () => expect((await channelRow(code)).last_order_ms).toBeGreaterThan(0), {
        timeout: 5_000,
      });
    },
  );

  it('retries a platform that answers 500 twice, then stores the orders (DEGRADED: it needed retries)', async () => {
    const orders = [taobaoTrade(), taobaoTrade()];
    const ok = feed(Platform.TAOBAO, orders);
    let calls = 0;
    const server = await serve((url) => (++calls <= 2 ? { status: 500, body: { error: 'busy' } } : ok(url)));
    const channel = await pollingChannel('taobao-flaky', Platform.TAOBAO, server);

    const report = await pollChannel(ctx(), channel, fastClients());
    expect(report).toMatchObject({ orders: 2, created: 2, failed: 0, error: null, cursor: '2' });
    expect(report.health).toBe(ConnectorHealth.DEGRADED);
    // Three tries of the first page, then the empty last page.
    expect(server.requests).toEqual(['/trades', '/trades', '/trades', '/trades?modified_after=2']);
    expect(await orderCount('taobao-flaky')).toBe(2);
  });

  it('does not retry a 4xx: the request is wrong, the breaker stays closed, the channel is DOWN', async () => {
    const server = await serve(() => ({
      status: 401,
      body: { error_response: { code: 27, msg: 'Invalid session' } },
    }));
    const channel = await pollingChannel('taobao-unauthorised', Platform.TAOBAO, server);
    const clients = fastClients({ breaker: { volumeThreshold: 1 } });

    const report = await pollChannel(ctx(), channel, clients);
    expect(report).toMatchObject({ pages: 0, orders: 0, health: ConnectorHealth.DOWN, cursor: null });
    expect(report.error).toContain('HTTP 401');
    expect(server.requests).toHaveLength(1);
    expect(clients.breakerState(channel.id)).toBe('CLOSED');
  });

  it('stores the good orders of a page around a bad one, which ends FAILED in the ingest log', async () => {
    const good1 = taobaoTrade();
    const bad = taobaoTrade({ receiver_address: undefined });
    const good2 = taobaoTrade();
    const server = await serve(feed(Platform.TAOBAO, [good1, bad, good2], 3));
    const channel = await pollingChannel('taobao-bad-order', Platform.TAOBAO, server);

    const report = await pollChannel(ctx(), channel, fastClients());
    expect(report).toMatchObject({ pages: 2, orders: 3, created: 2, failed: 1, cursor: '3', error: null });
    expect(report.health).toBe(ConnectorHealth.UP);
    const rows = await sql<{
      outcome: string;
      external_id: string | null;
      error: string | null;
      raw_body: string;
    }>(`select outcome, external_id, error, raw_body from ingest_log where channel_code = ? order by id`, [
      'taobao-bad-order',
    ]);
    expect(rows.map((r) => r.outcome)).toEqual(['CREATED', 'FAILED', 'CREATED']);
    expect(rows[1].error).toContain('receiver_address');
    expect(JSON.parse(rows[1].raw_body)).toMatchObject({ tid_str: bad.tid_str });
    expect(rows.map((r) => r.external_id)).toEqual([good1.tid_str, null, good2.tid_str]);
    expect((await channelRow('taobao-bad-order')).poll_cursor).toBe('3');
  });

  it('moves the cursor past each stored page only: a platform failing on page two keeps page one', async () => {
    const orders = [taobaoTrade(), taobaoTrade(), taobaoTrade()];
    const ok = feed(Platform.TAOBAO, orders);
    const server = await serve((url) =>
      url.searchParams.has('modified_after') ? { status: 503, body: {} } : ok(url),
    );
    const channel = await pollingChannel('taobao-page-two-fails', Platform.TAOBAO, server);

    const report = await pollChannel(ctx(), channel, fastClients({ breaker: { volumeThreshold: 100 } }));
    expect(report).toMatchObject({
      pages: 1,
      orders: 2,
      created: 2,
      cursor: '2',
      health: ConnectorHealth.DOWN,
    });
    expect(report.error).toContain('HTTP 503');
    expect((await channelRow('taobao-page-two-fails')).poll_cursor).toBe('2');

    server.respond = ok;
    const resumed = await pollChannel(ctx(), channel, fastClients());
    expect(resumed).toMatchObject({ orders: 1, created: 1, cursor: '3', health: ConnectorHealth.UP });
    expect(await orderCount('taobao-page-two-fails')).toBe(3);
  });
});

describe('breaker and heartbeat', () => {
  it('a hanging platform times out, is retried, opens the breaker and goes DOWN; it comes back UP', async () => {
    const orders = [taobaoTrade()];
    const server = await serve(() => 'hang');
    const channel = await pollingChannel('taobao-hangs', Platform.TAOBAO, server);
    const clients = fastClients();

    const started = performance.now();
    const report = await pollChannel(ctx(), channel, clients);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report).toMatchObject({ pages: 0, orders: 0, health: ConnectorHealth.DOWN });
    expect(report.error).toContain('No complete reply within 200 ms');
    // The first try and two retries, each given up at its timeout; the third failure opens the breaker.
    expect(server.requests).toHaveLength(3);
    await vi.waitFor(() => expect(server.abandoned).toBe(3), { timeout: 2_000 });
    expect(clients.breakerState(channel.id)).toBe('OPEN');
    expect(logged('warn', 'taobao-hangs is DOWN')).toBe(true);

    // While open, the heartbeat fails fast without calling the platform.
    const down = await heartbeat(ctx(), channel, clients);
    expect(down).toMatchObject({ health: ConnectorHealth.DOWN, previous: ConnectorHealth.DOWN });
    expect(down.error).toContain('circuit breaker is open');
    expect(server.requests).toHaveLength(3);
    const row = await channelRow('taobao-hangs');
    expect(row.health).toBe(ConnectorHealth.DOWN);
    expect(row.last_heartbeat_ms).toBeGreaterThan(0);

    // Operators see it.
    const seen = await hub.gql<{ channel: { health: string; lastHeartbeatAt: string | null } }>(
      `{ channel(code: "taobao-hangs") { health lastHeartbeatAt } }`,
    );
    expect(seen.data?.channel).toMatchObject({ health: 'DOWN', lastHeartbeatAt: expect.any(String) });

    // The platform recovers; after the reset timeout the breaker lets a trial through and the heartbeat is UP.
    server.respond = feed(Platform.TAOBAO, orders);
    await vi.waitFor(
      async () => expect((await heartbeat(ctx(), channel, clients)).health).toBe(ConnectorHealth.UP),
      { timeout: 5_000, interval: 50 },
    );
    expect(clients.breakerState(channel.id)).toBe('CLOSED');
    expect(logged('info', 'taobao-hangs recovered')).toBe(true);
    expect((await channelRow('taobao-hangs')).health).toBe(ConnectorHealth.UP);
    // The heartbeat reads, it does not ingest.
    expect(await orderCount('taobao-hangs')).toBe(0);

    const after = await pollChannel(ctx(), channel, clients);
    expect(after).toMatchObject({ orders: 1, created: 1, error: null, health: ConnectorHealth.UP });
  });

  it('a heartbeat is DEGRADED when slow or when it needed a retry, and UP otherwise', async () => {
    const ok = feed(Platform.JD, [jdOrder()]);
    let mode: 'ok' | 'slow' | 'flaky' = 'ok';
    let flakyCalls = 0;
    const server = await serve((url) => {
      if (mode === 'slow') return { ...ok(url), delayMs: 150 };
      if (mode === 'flaky' && ++flakyCalls === 1) return { status: 502 };
      return ok(url);
    });
    const channel = await pollingChannel('jd-heartbeat', Platform.JD, server);
    const clients = fastClients({ degradedLatencyMs: 100, timeoutMs: 2_000 });

    const up = await heartbeat(ctx(), channel, clients);
    expect(up).toMatchObject({ health: ConnectorHealth.UP, previous: ConnectorHealth.UNKNOWN, attempts: 1 });
    const first = (await channelRow('jd-heartbeat')).last_heartbeat_ms;
    expect(first).toBeGreaterThan(0);

    mode = 'slow';
    const slow = await heartbeat(ctx(), channel, clients);
    expect(slow).toMatchObject({ health: ConnectorHealth.DEGRADED, attempts: 1 });
    expect(slow.latencyMs).toBeGreaterThanOrEqual(100);

    mode = 'flaky';
    const flaky = await heartbeat(ctx(), channel, clients);
    expect(flaky).toMatchObject({ health: ConnectorHealth.DEGRADED, attempts: 2 });

    mode = 'ok';
    expect((await heartbeat(ctx(), channel, clients)).health).toBe(ConnectorHealth.UP);
    const row = await channelRow('jd-heartbeat');
    expect(row.last_heartbeat_ms).toBeGreaterThan(first!);
    // A heartbeat neither ingests nor moves the cursor.
    expect(row.poll_cursor).toBeNull();
    expect(await orderCount('jd-heartbeat')).toBe(0);
  });
});

describe('the pollChannel mutation', () => {
  it('polls on demand for OPS and ADMIN, with the channel set up through upsertChannel', async () => {
    const server = await serve(feed(Platform.JD, [jdOrder(), jdOrder()]));
    const upsert = await hub.gql(
      `mutation ($input: ChannelInput!) { upsertChannel(input: $input) { code ingestionModes } }`,
      {
        input: {
          code: 'jd-on-demand',
          platform: 'JD',
          name: 'JD on demand',
          apiBaseUrl: server.baseUrl,
          ingestionModes: ['POLL'],
        },
      },
    );
    expect(upsert.errors).toBeUndefined();

    const POLL = `mutation ($code: String!) {
      pollChannel(code: $code) { channelCode pages orders created failed cursor health error }
    }`;
    const polled = await hub.gql<{ pollChannel: Record<string, unknown> }>(POLL, { code: 'jd-on-demand' });
    expect(polled.errors).toBeUndefined();
    expect(polled.data?.pollChannel).toEqual({
      channelCode: 'jd-on-demand',
      pages: 2,
      orders: 2,
      created: 2,
      failed: 0,
      cursor: '2',
      health: 'UP',
      error: null,
    });
    const seen = await hub.gql<{ channel: { health: string } }>(
      `{ channel(code: "jd-on-demand") { health } }`,
    );
    expect(seen.data?.channel.health).toBe('UP');

    const webhookOnly = await seedChannel(hub.orm, 'taobao-webhook-only', Platform.TAOBAO);
    expect(errorCodes(await hub.gql(POLL, { code: webhookOnly.code }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await hub.gql(POLL, { code: 'no-such-channel' }))).toEqual(['NOT_FOUND']);

    const analyst = await hub.apiKey(Role.ANALYST);
    expect(errorCodes(await hub.gql(POLL, { code: 'jd-on-demand' }, analyst))).toEqual(['FORBIDDEN']);
  });

  it('refuses while the channel is being polled elsewhere (the advisory lock), and runs once it is free', async () => {
    const server = await serve(feed(Platform.JD, [jdOrder()]));
    const channel = await pollingChannel('jd-locked', Platform.JD, server);
    const POLL = `mutation { pollChannel(code: "jd-locked") { created } }`;

    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const holding = new Promise<void>((resolve) => (entered = resolve));
    // Another session, as another hub process would be, holds the poll lock of this channel.
    const other = withChannelLock(hub.orm.em.fork(), 'poll', channel.id, async () => {
      entered();
      await released;
      return 'done';
    });
    await holding;

    expect(errorCodes(await hub.gql(POLL))).toEqual(['CONFLICT']);
    expect(await withChannelLock(hub.orm.em.fork(), 'poll', channel.id, async () => 1)).toEqual({
      acquired: false,
    });
    // Another job's lock on the same channel is another lock.
    expect(await withChannelLock(hub.orm.em.fork(), 'heartbeat', channel.id, async () => 2)).toEqual({
      acquired: true,
      value: 2,
    });
    expect(server.requests).toHaveLength(0);

    release();
    expect(await other).toEqual({ acquired: true, value: 'done' });
    expect((await hub.gql<{ pollChannel: { created: number } }>(POLL)).data?.pollChannel.created).toBe(1);
  });
});

describe('the scheduler', () => {
  /** Only the channel under test is pollable while a scheduler runs. */
  async function onlyPollable(code: string) {
    await sql(`update channel set api_base_url = null where code <> ?`, [code]);
  }

  it('two hub processes never poll one channel at once', async () => {
    const orders = [taobaoTrade(), taobaoTrade()];
    const ok = feed(Platform.TAOBAO, orders);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await serve(async (url) => {
      await released;
      return ok(url);
    });
    await pollingChannel('sched-taobao', Platform.TAOBAO, server);
    await onlyPollable('sched-taobao');

    const start = () =>
      startScheduler({
        orm: hub.orm,
        logger,
        settings: DEFAULT_SETTINGS,
        clients: fastClients({ timeoutMs: 20_000 }),
        pollIntervalMs: 20,
        heartbeatIntervalMs: 0,
      });
    schedulers.push(start(), start());

    // One scheduler's run waits on the platform with the lock held; the other keeps finding it taken.
    await vi.waitFor(
      () => {
        expect(server.requests).toHaveLength(1);
        expect(logged('debug', 'poll skipped: another hub process is on this channel', 'sched-taobao')).toBe(
          true,
        );
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(server.requests).toHaveLength(1);

    release();
    await vi.waitFor(async () => expect(await orderCount('sched-taobao')).toBe(2), { timeout: 5_000 });
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
    expect((await channelRow('sched-taobao')).poll_cursor).toBe('2');
  });

  it('stop() ends an in-flight run at a safe point and waits for it', async () => {
    const server = await serve(() => 'hang');
    await pollingChannel('sched-stop', Platform.TAOBAO, server);
    await onlyPollable('sched-stop');
    const scheduler = startScheduler({
      orm: hub.orm,
      logger,
      settings: DEFAULT_SETTINGS,
      clients: fastClients({ timeoutMs: 30_000 }),
      pollIntervalMs: 60_000,
      heartbeatIntervalMs: 0,
    });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), { timeout: 5_000, interval: 20 });

    const started = performance.now();
    await scheduler.stop();
    expect(performance.now() - started).toBeLessThan(2_000);
    await vi.waitFor(() => expect(server.abandoned).toBe(1), { timeout: 2_000 });
    expect(logged('info', 'poll of sched-stop failed: The poll was stopped.')).toBe(true);
    // A stop is not an outage, and nothing was skipped.
    const row = await channelRow('sched-stop');
    expect(row.health).toBe(ConnectorHealth.UNKNOWN);
    expect(row.poll_cursor).toBeNull();
  });
});

describe('configuration', () => {
  it('reads the polling variables with their defaults, 0 turning a job off', () => {
    const base = { HUB_ADMIN_KEY: 'x'.repeat(16) };
    expect(loadConfig(base)).toMatchObject({
      pollIntervalSeconds: 60,
      heartbeatIntervalSeconds: 3600,
      pollTimeoutMs: 10_000,
      pollRetries: 3,
    });
    expect(
      loadConfig({
        ...base,
        POLL_INTERVAL_SECONDS: '0',
        HEARTBEAT_INTERVAL_SECONDS: '600',
        POLL_TIMEOUT_MS: '2500',
        POLL_RETRIES: '0',
      }),
    ).toMatchObject({
      pollIntervalSeconds: 0,
      heartbeatIntervalSeconds: 600,
      pollTimeoutMs: 2500,
      pollRetries: 0,
    });
    expect(() => loadConfig({ POLL_INTERVAL_SECONDS: '-1', POLL_RETRIES: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig({ POLL_INTERVAL_SECONDS: '-1' })).toThrow(/POLL_INTERVAL_SECONDS/);
  });
});
