import type { EntityManager } from '@mikro-orm/postgresql';
import { connectorFor } from '../connectors/index.js';
import type { Connector, PullProtocol } from '../connectors/canonical.js';
import type { Channel } from '../entities/index.js';
import { ConnectorHealth, IngestionMode, IngestOutcome, IngestSource } from '../common/enums.js';
import { RequestContext } from './context.js';
import { BadUserInputError, ConflictError, HubError } from '../common/errors.js';
import { requireChannelByCode } from './channels.js';
import { ingestRawMany } from './order-gateway.js';
import { ingestRefundRaw } from './returns.js';
import {
  fetchJson,
  PlatformClients,
  PlatformRequestError,
  type Attempt,
  type HttpRequest,
} from './platform-client.js';

/**
 * Polling: pulls the orders changed since a channel's cursor from its platform's order API, page by page,
 * through the platform client (one circuit breaker per channel, keyed by its id, with retries and backoff);
 * and the heartbeat that keeps `Channel.health` true. Every order goes through the same ingestion gateway as
 * webhooks.
 */

/** A bound on one poll, so a platform that always answers with a next cursor cannot hold it forever. */
const MAX_PAGES_PER_POLL = 100;

type PageOfOrders = ReturnType<Connector['pull']['parse']>;

/** One page of orders (or, with the refund pull, refunds) from the platform, parsed by the connector: the attempt the client runs. */
function fetchPage(
  connector: Connector,
  request: HttpRequest,
  pull: PullProtocol = connector.pull,
): Attempt<PageOfOrders> {
  return async (signal) => {
    const body = await fetchJson(request, signal);
    try {
      return pull.parse(body);
    } catch (err) {
      const reason = err instanceof HubError ? err.message : 'it could not be read';
      const what = pull === connector.pull ? 'order' : 'refund';
      throw new PlatformRequestError(
        'protocol',
        `The platform's reply is not a ${connector.platform} ${what} page: ${reason}`,
      );
    }
  };
}

// ---- channels ----

/** Only channels with POLL among their ingestion modes and an API base URL are polled and heartbeated. */
export function isPollable(channel: Channel): channel is Channel & { apiBaseUrl: string } {
  return channel.ingestionModes.includes(IngestionMode.POLL) && !!channel.apiBaseUrl;
}

function assertPollable(channel: Channel): asserts channel is Channel & { apiBaseUrl: string } {
  if (!channel.ingestionModes.includes(IngestionMode.POLL)) {
    throw new BadUserInputError(`Channel "${channel.code}" does not have POLL among its ingestion modes.`);
  }
  if (!channel.apiBaseUrl) {
    throw new BadUserInputError(`Channel "${channel.code}" has no apiBaseUrl to poll.`);
  }
}

/** The cursor as stored now: another process may have moved it since `channel` was read. */
async function storedCursor(em: EntityManager, channelId: string): Promise<string | null> {
  const [row] = await em.execute<{ poll_cursor: string | null }[]>(
    `select poll_cursor from channel where id = ?`,
    [channelId],
  );
  return row?.poll_cursor ?? null;
}

async function saveCursor(em: EntityManager, channel: Channel, cursor: string): Promise<void> {
  await em.execute(`update channel set poll_cursor = ? where id = ?`, [cursor, channel.id]);
  channel.pollCursor = cursor;
}

/**
 * Sets the channel's health (and on a heartbeat its time), reading the previous health in the same
 * statement so that exactly one process logs a change; a channel going DOWN is a warning.
 */
async function recordHealth(
  ctx: RequestContext,
  channel: Channel,
  health: ConnectorHealth,
  check: { heartbeat: boolean; error: string | null },
): Promise<ConnectorHealth> {
  // Raw queries give timestamps as text; epoch milliseconds make an exact Date.
  const rows = await ctx.em.execute<{ previous: ConnectorHealth; heartbeat_ms: number | null }[]>(
    `update channel c set health = ?,
       last_heartbeat_at = case when ? then now() else c.last_heartbeat_at end
     from (select id, health as previous from channel where id = ? for update) p
     where c.id = p.id
     returning p.previous, (extract(epoch from c.last_heartbeat_at) * 1000)::float8 as heartbeat_ms`,
    [health, check.heartbeat, channel.id],
  );
  const previous = rows[0]?.previous ?? ConnectorHealth.UNKNOWN;
  channel.health = health;
  const heartbeatMs = rows[0]?.heartbeat_ms;
  if (heartbeatMs != null) channel.lastHeartbeatAt = new Date(heartbeatMs);
  const fields = { channel: channel.code, platform: channel.platform, health, previous };
  if (health === ConnectorHealth.DOWN && previous !== ConnectorHealth.DOWN) {
    ctx.logger.warn({ ...fields, error: check.error }, `channel ${channel.code} is DOWN: ${check.error}`);
  } else if (previous === ConnectorHealth.DOWN && health !== ConnectorHealth.DOWN) {
    ctx.logger.info(fields, `channel ${channel.code} recovered: ${health}`);
  } else if (health === ConnectorHealth.DEGRADED && previous !== ConnectorHealth.DEGRADED) {
    ctx.logger.info(fields, `channel ${channel.code} is DEGRADED`);
  }
  return previous;
}

// ---- polling ----

export interface PollReport {
  channelCode: string;
  /** Pages fetched, the last one included even when it was empty. */
  pages: number;
  /** Order payloads received. */
  orders: number;
  /** Orders new to the hub; the others were updates or duplicates. */
  created: number;
  /** Payloads that could not be mapped: FAILED in the ingest log, kept for replay. */
  failed: number;
  /** After-sale records received, for a platform whose refund list is pulled (connector's `refundPull`). */
  refunds?: number;
  /** The cursor the next poll asks from. */
  cursor: string | null;
  health: ConnectorHealth;
  /** Why the poll stopped early: the pages before were stored and the cursor stands after them. */
  error: string | null;
}

/**
 * Pulls every page changed since the channel's cursor and ingests each order. The cursor moves only after
 * its page's orders are stored, so a crash re-reads a page (idempotent) and never skips one. A platform
 * that fails ends the poll with `error` set and the channel DOWN; a hub failure (database) is thrown.
 */
export async function pollChannel(
  ctx: RequestContext,
  channel: Channel,
  clients: PlatformClients,
  options: { signal?: AbortSignal } = {},
): Promise<PollReport> {
  assertPollable(channel);
  const { signal } = options;
  const connector = connectorFor(channel.platform);
  let cursor = await storedCursor(ctx.em, channel.id);
  const report: PollReport = {
    channelCode: channel.code,
    pages: 0,
    orders: 0,
    created: 0,
    failed: 0,
    cursor,
    health: channel.health,
    error: null,
  };
  let retried = false;
  try {
    while (report.pages < MAX_PAGES_PER_POLL) {
      const request = connector.pull.request(channel.apiBaseUrl, cursor);
      const page = await clients.call(channel.id, fetchPage(connector, request), signal);
      report.pages++;
      if (page.attempts > 1) retried = true;
      await ingestPage(ctx, channel, page.value.orders, report);
      const next = page.value.nextCursor;
      if (next === null || next === cursor) break;
      cursor = next;
      await saveCursor(ctx.em, channel, cursor);
      report.cursor = cursor;
    }
    if (connector.refundPull)
      retried = (await pullRefunds(ctx, channel, clients, connector, report, signal)) || retried;
  } catch (err) {
    if (!(err instanceof PlatformRequestError)) throw err;
    report.error = err.message;
    if (err.kind === 'aborted') return report;
  }
  const health = report.error
    ? ConnectorHealth.DOWN
    : retried
      ? ConnectorHealth.DEGRADED
      : ConnectorHealth.UP;
  await recordHealth(ctx, channel, health, { heartbeat: false, error: report.error });
  report.health = health;
  return report;
}

/**
 * After-sale records changed since the channel's refund cursor, each stored by services/returns.ts (source POLL);
 * the cursor moves as the order cursor does, only after its page is stored. Returns whether a page needed retries.
 */
async function pullRefunds(
  ctx: RequestContext,
  channel: Channel & { apiBaseUrl: string },
  clients: PlatformClients,
  connector: Connector,
  report: PollReport,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const pull = connector.refundPull!;
  const [row] = await ctx.em.execute<{ refund_poll_cursor: string | null }[]>(
    `select refund_poll_cursor from channel where id = ?`,
    [channel.id],
  );
  let cursor = row?.refund_poll_cursor ?? null;
  let retried = false;
  report.refunds = 0;
  for (let pages = 0; pages < MAX_PAGES_PER_POLL; pages++) {
    const page = await clients.call(
      channel.id,
      fetchPage(connector, pull.request(channel.apiBaseUrl, cursor), pull),
      signal,
    );
    if (page.attempts > 1) retried = true;
    const pageCtx = RequestContext.system(ctx.em.fork(), ctx.logger, ctx.hub, ctx.requestId);
    for (const record of page.value.orders) {
      report.refunds++;
      try {
        await ingestRefundRaw(pageCtx, channel, IngestSource.POLL, JSON.stringify(record) ?? 'null');
      } catch (err) {
        if (!(err instanceof HubError)) throw err;
        report.failed++;
        ctx.logger.warn({ channel: channel.code, err: err.message }, 'a polled refund could not be ingested');
      }
    }
    const next = page.value.nextCursor;
    if (next === null || next === cursor) break;
    cursor = next;
    await ctx.em.execute(`update channel set refund_poll_cursor = ? where id = ?`, [cursor, channel.id]);
    channel.refundPollCursor = cursor;
  }
  return retried;
}

/**
 * One page's orders, stored together through the ingestion gateway (one ingest log row each). A payload that
 * cannot be mapped is FAILED on its log row and counted; the others are stored all the same.
 */
async function ingestPage(
  ctx: RequestContext,
  channel: Channel,
  orders: unknown[],
  report: PollReport,
): Promise<void> {
  if (orders.length === 0) return;
  const pageCtx = RequestContext.system(ctx.em.fork(), ctx.logger, ctx.hub, ctx.requestId);
  const bodies = orders.map((payload) => JSON.stringify(payload) ?? 'null');
  const results = await ingestRawMany(pageCtx, channel, IngestSource.POLL, bodies);
  report.orders += orders.length;
  for (const result of results) {
    if ('error' in result) {
      report.failed++;
      ctx.logger.warn(
        { channel: channel.code, err: result.error.message },
        'a polled order could not be ingested',
      );
    } else if (result.outcome === IngestOutcome.CREATED) {
      report.created++;
    }
  }
}

// ---- heartbeat ----

export interface HeartbeatReport {
  channelCode: string;
  health: ConnectorHealth;
  previous: ConnectorHealth;
  attempts: number;
  latencyMs: number | null;
  error: string | null;
}

export interface HeartbeatOptions {
  signal?: AbortSignal;
  /**
   * A heartbeat that succeeded but took longer than this marks the channel DEGRADED: by default 3 s, or half
   * the client's timeout if that is shorter.
   */
  degradedLatencyMs?: number;
}

/**
 * Checks the platform connection with one light request through the channel's breaker (the page at the
 * current cursor, read but not ingested): UP; DEGRADED when it needed retries or was slow; DOWN when it
 * failed or the breaker is open. Updates `lastHeartbeatAt`.
 */
export async function heartbeat(
  ctx: RequestContext,
  channel: Channel,
  clients: PlatformClients,
  options: HeartbeatOptions = {},
): Promise<HeartbeatReport> {
  assertPollable(channel);
  const connector = connectorFor(channel.platform);
  const request = connector.pull.request(channel.apiBaseUrl, await storedCursor(ctx.em, channel.id));
  const degradedLatencyMs =
    options.degradedLatencyMs ?? Math.min(3_000, Math.round(clients.settings.timeoutMs / 2));
  let health: ConnectorHealth;
  let attempts = 1;
  let latencyMs: number | null = null;
  let error: string | null = null;
  try {
    const result = await clients.call(channel.id, fetchPage(connector, request), options.signal);
    attempts = result.attempts;
    latencyMs = result.latencyMs;
    health = attempts > 1 || latencyMs > degradedLatencyMs ? ConnectorHealth.DEGRADED : ConnectorHealth.UP;
  } catch (err) {
    if (!(err instanceof PlatformRequestError)) throw err;
    if (err.kind === 'aborted') {
      return {
        channelCode: channel.code,
        health: channel.health,
        previous: channel.health,
        attempts,
        latencyMs,
        error: err.message,
      };
    }
    health = ConnectorHealth.DOWN;
    error = err.message;
  }
  const previous = await recordHealth(ctx, channel, health, { heartbeat: true, error });
  return { channelCode: channel.code, health, previous, attempts, latencyMs, error };
}

// ---- one run at a time per channel, across processes ----

/**
 * Runs `work` only if no other session (this process or another hub) holds the lock of `job` for this
 * channel: a transaction-scoped advisory lock on a connection of its own, released at commit, or by the
 * server if the connection dies. `work` uses other connections, so what it stores commits as it goes.
 */
export async function withChannelLock<T>(
  em: EntityManager,
  job: string,
  channelId: string,
  work: () => Promise<T>,
): Promise<{ acquired: true; value: T } | { acquired: false }> {
  return em.getKnex().transaction(async (trx) => {
    const { rows } = (await trx.raw('select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked', [
      `order-hub:${job}:${channelId}`,
    ])) as { rows: { locked: boolean }[] };
    if (!rows[0]?.locked) return { acquired: false as const };
    return { acquired: true as const, value: await work() };
  });
}

/** `pollChannel(code)`: an operator's poll on demand, refused while another poll of the channel runs. */
export async function pollChannelNow(
  ctx: RequestContext,
  clients: PlatformClients,
  code: string,
): Promise<PollReport> {
  const channel = await requireChannelByCode(ctx.em, code);
  assertPollable(channel);
  const outcome = await withChannelLock(ctx.em, 'poll', channel.id, () => pollChannel(ctx, channel, clients));
  if (!outcome.acquired) {
    throw new ConflictError(
      `Channel "${code}" is being polled right now; its report will be in the hub's log.`,
    );
  }
  return outcome.value;
}
