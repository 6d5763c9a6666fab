import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectorHealth, IngestionMode, Platform, Role } from '../common/enums.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { startScheduler, type Scheduler } from '../server/scheduler.js';
import { RequestContext } from '../services/context.js';
import { PlatformClients, type Clock, type PlatformClientOptions } from '../services/platform-client.js';
import { heartbeat, pollChannel, withChannelLock } from '../services/polling.js';
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
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body ?? {}));
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

/**
 * Each platform's pull API as its connector speaks it: path, cursor parameter and reply envelope; and its
 * after-sale list (the connector's `refundPull`, tested in test/refund-polling.test.ts), empty here.
 */
const FORMATS: Record<
  Feedable,
  {
    path: string;
    param: string;
    page(orders: unknown[], next: string | null): unknown;
    refunds: { path: string; none: unknown };
  }
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
    refunds: { path: '/refunds/receive', none: { refunds_receive_get_response: { total_results: 0 } } },
  },
  [Platform.JD]: {
    path: '/pop/order/search',
    param: 'updated_after',
    page: (orders, next) => ({
      jingdong_pop_order_search_responce: {
        searchorderinfo_result: { orderInfoList: orders, nextCursor: next },
      },
    }),
    refunds: {
      path: '/asc/service/list',
      none: { jingdong_asc_query_list_responce: { pageResult: { data: [], nextCursor: null } } },
    },
  },
  [Platform.PINDUODUO]: {
    path: '/order/increment',
    param: 'updated_after',
    page: (orders, next) => ({
      order_sn_increment_get_response: { order_sn_list: orders, next_cursor: next },
    }),
    refunds: {
      path: '/refund/increment',
      none: { refund_increment_get_response: { refund_list: [], next_cursor: null } },
    },
  },
};

/**
 * An increment API over a list of orders: the cursor is how many were handed out; a page answers with the
 * cursor after it, and an empty page with none ("no more now"). The after-sale list has nothing.
 */
function feed(platform: Feedable, orders: unknown[], pageSize = 2) {
  const format = FORMATS[platform];
  return (url: URL): Answer => {
    if (url.pathname === `/api${format.refunds.path}`) return { body: format.refunds.none };
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

/** How long to wait for what takes milliseconds: ample on a busy machine, and within the test's 30 s. */
const WAIT = { timeout: 20_000, interval: 20 };

/**
 * The clients' time, moved only by the test: no deadline passes and no backoff ends on its own, so a busy
 * machine cannot time a request out, and a reply takes exactly as long as the test says.
 */
class ManualClock implements Clock {
  private time = 0;
  private timers: { at: number; fire: () => void }[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = this.schedule(ms, resolve);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    this.schedule(ms, () => controller.abort(new DOMException('timed out', 'TimeoutError')));
    return controller.signal;
  }

  /** Moves the time on, firing the timers that fall due, in order. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fire();
  }

  private schedule(ms: number, fire: () => void) {
    const timer = { at: this.time + ms, fire };
    if (ms <= 0) fire();
    else this.timers.push(timer);
    return timer;
  }
}

/**
 * Clients on a manual clock (its own unless given one), with no backoff between attempts, two retries, and a
 * breaker that opens at the third failure and stays open for the rest of the test unless told otherwise.
 */
function testClients(options: PlatformClientOptions = {}): PlatformClients {
  const clients = new PlatformClients({
    retries: 2,
    backoffBaseMs: 0,
    clock: new ManualClock(),
    ...options,
    breaker: {
      resetTimeoutMs: 600_000,
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      rollingWindowMs: 600_000,
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

const ctx = () => RequestContext.system(hub.orm.em.fork(), logger, hub.hub.services, 'polling-test');

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
      const clients = testClients();
      const path = FORMATS[platform].path;
      const param = FORMATS[platform].param;

      const first = await pollChannel(ctx(), channel, clients);
      expect(first).toEqual({
        channelCode: code,
        pages: 3,
        orders: 3,
        created: 3,
        failed: 0,
        refunds: 0,
        cursor: '3',
        health: ConnectorHealth.UP,
        error: null,
      });
      // Two pages of orders, then the empty page that says "no more now"; then the (empty) after-sale list.
      expect(server.requests).toEqual([
        path,
        `${path}?${param}=2`,
        `${path}?${param}=3`,
        FORMATS[platform].refunds.path,
      ]);
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
      // The same bytes again are not logged again: their first rows answer them.
      expect(outcomes.map((r) => [r.outcome, Number(r.n)])).toEqual([['CREATED', 3]]);

      // A new order on the platform: the next poll takes exactly that one.
      orders.push(builders[platform]());
      const later = await pollChannel(ctx(), channel, clients);
      expect(later).toMatchObject({ orders: 1, created: 1, cursor: '4' });
      expect(await orderCount(code)).toBe(4);
      await vi.waitFor(async () => expect((await channelRow(code)).last_order_ms).toBeGreaterThan(0), WAIT);
    },
  );

  it('retries a platform that answers 500 twice, then stores the orders (DEGRADED: it needed retries)', async () => {
    const orders = [taobaoTrade(), taobaoTrade()];
    const ok = feed(Platform.TAOBAO, orders);
    let calls = 0;
    const server = await serve((url) => (++calls <= 2 ? { status: 500, body: { error: 'busy' } } : ok(url)));
    const channel = await pollingChannel('taobao-flaky', Platform.TAOBAO, server);

    const report = await pollChannel(ctx(), channel, testClients());
    expect(report).toMatchObject({ orders: 2, created: 2, failed: 0, error: null, cursor: '2' });
    expect(report.health).toBe(ConnectorHealth.DEGRADED);
    // Three tries of the first page, then the empty last page, then the after-sale list.
    expect(server.requests).toEqual([
      '/trades',
      '/trades',
      '/trades',
      '/trades?modified_after=2',
      '/refunds/receive',
    ]);
    expect(await orderCount('taobao-flaky')).toBe(2);
  });

  it('does not retry a 4xx: the request is wrong, the breaker stays closed, the channel is DOWN', async () => {
    const server = await serve(() => ({
      status: 401,
      body: { error_response: { code: 27, msg: 'Invalid session' } },
    }));
    const channel = await pollingChannel('taobao-unauthorised', Platform.TAOBAO, server);
    const clients = testClients({ breaker: { volumeThreshold: 1 } });

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

    const report = await pollChannel(ctx(), channel, testClients());
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

    const report = await pollChannel(ctx(), channel, testClients({ breaker: { volumeThreshold: 100 } }));
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
    const resumed = await pollChannel(ctx(), channel, testClients());
    expect(resumed).toMatchObject({ orders: 1, created: 1, cursor: '3', health: ConnectorHealth.UP });
    expect(await orderCount('taobao-page-two-fails')).toBe(3);
  });
});

describe('breaker and heartbeat', () => {
  it('a hanging platform times out at each deadline, is retried, opens the breaker and goes DOWN', async () => {
    const server = await serve(() => 'hang');
    const channel = await pollingChannel('taobao-hangs', Platform.TAOBAO, server);
    const clock = new ManualClock();
    const clients = testClients({ clock, timeoutMs: 200 });

    const polling = pollChannel(ctx(), channel, clients);
    // The first try and two retries: each waits on the platform until its deadline passes, then gives up.
    for (let n = 1; n <= 3; n++) {
      await vi.waitFor(() => expect(server.requests).toHaveLength(n), WAIT);
      clock.advance(200);
    }
    const report = await polling;
    expect(report).toMatchObject({ pages: 0, orders: 0, health: ConnectorHealth.DOWN });
    expect(report.error).toContain('No complete reply within 200 ms');
    expect(server.requests).toHaveLength(3);
    await vi.waitFor(() => expect(server.abandoned).toBe(3), WAIT);
    // The third failure opened the breaker.
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
  });

  it('after its reset timeout the breaker lets a trial through: the heartbeat is UP again', async () => {
    const orders = [taobaoTrade()];
    const server = await serve(() => ({ status: 503, body: {} }));
    const channel = await pollingChannel('taobao-recovers', Platform.TAOBAO, server);
    const clients = testClients({ breaker: { resetTimeoutMs: 50 } });

    const down = await pollChannel(ctx(), channel, clients);
    expect(down).toMatchObject({ pages: 0, health: ConnectorHealth.DOWN });
    expect(down.error).toContain('HTTP 503');
    // Open after the third failure; half open (one trial allowed) once the reset timeout has passed.
    await vi.waitFor(() => expect(clients.breakerState(channel.id)).toBe('HALF_OPEN'), WAIT);
    expect(server.requests).toHaveLength(3);

    // The platform has recovered: the trial succeeds and closes the breaker.
    server.respond = feed(Platform.TAOBAO, orders);
    const up = await heartbeat(ctx(), channel, clients);
    expect(up).toMatchObject({ health: ConnectorHealth.UP, previous: ConnectorHealth.DOWN, attempts: 1 });
    expect(clients.breakerState(channel.id)).toBe('CLOSED');
    expect(logged('info', 'taobao-recovers recovered')).toBe(true);
    expect((await channelRow('taobao-recovers')).health).toBe(ConnectorHealth.UP);
    // The heartbeat reads, it does not ingest.
    expect(await orderCount('taobao-recovers')).toBe(0);

    const after = await pollChannel(ctx(), channel, clients);
    expect(after).toMatchObject({ orders: 1, created: 1, error: null, health: ConnectorHealth.UP });
  });

  it('a heartbeat is DEGRADED when slower than the threshold or when it needed a retry, and UP otherwise', async () => {
    const ok = feed(Platform.JD, [jdOrder()]);
    const clock = new ManualClock();
    let replyMs = 0;
    let failFirst = false;
    const server = await serve((url) => {
      // The reply takes `replyMs` of the client's time.
      clock.advance(replyMs);
      if (failFirst) {
        failFirst = false;
        return { status: 502 };
      }
      return ok(url);
    });
    const channel = await pollingChannel('jd-heartbeat', Platform.JD, server);
    const clients = testClients({ clock, timeoutMs: 2_000 });
    const check = (degradedLatencyMs?: number) => heartbeat(ctx(), channel, clients, { degradedLatencyMs });

    const up = await check(100);
    expect(up).toMatchObject({
      health: ConnectorHealth.UP,
      previous: ConnectorHealth.UNKNOWN,
      attempts: 1,
      latencyMs: 0,
    });
    const first = (await channelRow('jd-heartbeat')).last_heartbeat_ms;
    expect(first).toBeGreaterThan(0);

    replyMs = 100;
    expect(await check(100)).toMatchObject({ health: ConnectorHealth.UP, latencyMs: 100 });
    replyMs = 101;
    expect(await check(100)).toMatchObject({ health: ConnectorHealth.DEGRADED, attempts: 1, latencyMs: 101 });
    // By default the threshold is half the timeout (under 3 s).
    replyMs = 1_000;
    expect(await check()).toMatchObject({ health: ConnectorHealth.UP, latencyMs: 1_000 });
    replyMs = 1_001;
    expect(await check()).toMatchObject({ health: ConnectorHealth.DEGRADED, latencyMs: 1_001 });

    replyMs = 0;
    failFirst = true;
    expect(await check(100)).toMatchObject({ health: ConnectorHealth.DEGRADED, attempts: 2, latencyMs: 0 });

    expect((await check(100)).health).toBe(ConnectorHealth.UP);
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
        hub: { ...hub.hub.services, platformClients: testClients() },
        pollIntervalMs: 20,
        heartbeatIntervalMs: 0,
      });
    schedulers.push(start(), start());

    // One scheduler's run waits on the platform with the lock held; the other keeps finding it taken.
    await vi.waitFor(() => {
      expect(server.requests).toHaveLength(1);
      expect(logged('debug', 'poll skipped: another hub process is on this channel', 'sched-taobao')).toBe(
        true,
      );
    }, WAIT);
    expect(server.requests).toHaveLength(1);

    release();
    await vi.waitFor(async () => expect(await orderCount('sched-taobao')).toBe(2), WAIT);
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
      // On a manual clock the request never times out: only the stop can end it.
      hub: { ...hub.hub.services, platformClients: testClients() },
      pollIntervalMs: 60_000,
      heartbeatIntervalMs: 0,
    });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), WAIT);

    await scheduler.stop();
    await vi.waitFor(() => expect(server.abandoned).toBe(1), WAIT);
    expect(logged('info', 'poll of sched-stop failed: The request was stopped.')).toBe(true);
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
