import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import CircuitBreaker from 'opossum';
import { connectorFor } from '../connectors/index.js';
import type { Connector } from '../connectors/canonical.js';
import type { Channel } from '../entities/index.js';
import { ConnectorHealth, IngestionMode, IngestOutcome, IngestSource } from '../common/enums.js';
import { RequestContext } from './context.js';
import { BadUserInputError, ConflictError, HubError } from '../common/errors.js';
import { ingestRawMany, requireChannelByCode } from './ingestion.js';

/**
 * Polling: pulls the orders changed since a channel's cursor from its platform's order API, page by page,
 * through one circuit breaker per channel, with retries and backoff; and the heartbeat that keeps
 * `Channel.health` true. Every order goes through the same ingestion gateway as webhooks.
 */

export interface PlatformClientSettings {
  /** One HTTP attempt, headers and body, may take this long (POLL_TIMEOUT_MS). */
  timeoutMs: number;
  /** Attempts after the first for timeouts, network errors, 5xx, 408 and 429 (POLL_RETRIES). */
  retries: number;
  /** Exponential backoff between attempts: base × 2^n, capped, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A heartbeat that succeeded but took longer than this marks the channel DEGRADED. */
  degradedLatencyMs: number;
  /** A bound on one poll, so a platform that always answers with a next cursor cannot hold it forever. */
  maxPagesPerPoll: number;
  breaker: {
    /** How long an open breaker fails fast before it lets one trial request through. */
    resetTimeoutMs: number;
    /** Opens when more than this percentage of the attempts in the window failed… */
    errorThresholdPercentage: number;
    /** …and the window holds at least this many attempts. */
    volumeThreshold: number;
    rollingWindowMs: number;
  };
}

export const DEFAULT_CLIENT_SETTINGS: PlatformClientSettings = {
  timeoutMs: 10_000,
  retries: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  degradedLatencyMs: 3_000,
  maxPagesPerPoll: 100,
  breaker: {
    resetTimeoutMs: 30_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    rollingWindowMs: 60_000,
  },
};

export type PlatformClientOptions = Partial<Omit<PlatformClientSettings, 'breaker'>> & {
  breaker?: Partial<PlatformClientSettings['breaker']>;
};

/** The settings with defaults filled in; the degraded threshold stays below the timeout. */
export function clientSettings(options: PlatformClientOptions = {}): PlatformClientSettings {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_SETTINGS.timeoutMs;
  return {
    ...DEFAULT_CLIENT_SETTINGS,
    degradedLatencyMs: Math.min(DEFAULT_CLIENT_SETTINGS.degradedLatencyMs, Math.round(timeoutMs / 2)),
    ...options,
    timeoutMs,
    breaker: { ...DEFAULT_CLIENT_SETTINGS.breaker, ...options.breaker },
  };
}

export type RequestFailure = 'timeout' | 'network' | 'http' | 'protocol' | 'breaker-open' | 'aborted';

/** A call to a platform that did not give a usable page. */
export class PlatformRequestError extends Error {
  override name = 'PlatformRequestError';
  constructor(
    readonly kind: RequestFailure,
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth another attempt: the platform may answer next time. A 4xx other than 408/429 will not change. */
  get retryable(): boolean {
    if (this.kind === 'timeout' || this.kind === 'network') return true;
    if (this.kind !== 'http' || this.status === null) return false;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /** Our own request was refused (or we stopped): says nothing about the platform being down. */
  get isCallerSide(): boolean {
    return this.kind === 'aborted' || (this.kind === 'http' && !this.retryable);
  }
}

export interface CallResult<T> {
  value: T;
  /** 1 when the first attempt succeeded. */
  attempts: number;
  /** Of the attempt that succeeded. */
  latencyMs: number;
}

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

type Attempt = () => Promise<unknown>;

/**
 * The process's connections to the platforms: one circuit breaker per channel, created on first use and
 * kept for the life of the process, so every poll and heartbeat of a channel shares its failure record.
 */
export class PlatformClients {
  readonly settings: PlatformClientSettings;
  private readonly breakers = new Map<string, CircuitBreaker<[Attempt], unknown>>();

  constructor(options: PlatformClientOptions = {}) {
    this.settings = clientSettings(options);
  }

  /**
   * Runs `attempt` through the channel's breaker, again after a backoff while it fails in a way worth
   * retrying; an open breaker fails at once. Throws PlatformRequestError.
   */
  async call<T>(channel: Channel, attempt: () => Promise<T>, signal?: AbortSignal): Promise<CallResult<T>> {
    const breaker = this.breakerFor(channel);
    for (let n = 0; ; n++) {
      if (signal?.aborted) throw new PlatformRequestError('aborted', 'The poll was stopped.');
      const started = performance.now();
      try {
        const value = (await breaker.fire(attempt)) as T;
        return { value, attempts: n + 1, latencyMs: Math.round(performance.now() - started) };
      } catch (err) {
        const failure = asRequestError(err);
        if (!failure.retryable || n >= this.settings.retries) throw failure;
        try {
          await sleep(this.backoffMs(n), undefined, { signal });
        } catch {
          throw new PlatformRequestError('aborted', 'The poll was stopped.');
        }
      }
    }
  }

  /** CLOSED, OPEN or HALF_OPEN; CLOSED for a channel not called yet. */
  breakerState(channelId: string): BreakerState {
    const breaker = this.breakers.get(channelId);
    if (!breaker || breaker.closed) return 'CLOSED';
    return breaker.halfOpen ? 'HALF_OPEN' : 'OPEN';
  }

  /** Stops every breaker's timers; calls after this fail. */
  close(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }

  /** Full jitter on an exponential step: spreads the retries of many hubs over the whole interval. */
  private backoffMs(n: number): number {
    const step = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** n);
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  private breakerFor(channel: Channel): CircuitBreaker<[Attempt], unknown> {
    let breaker = this.breakers.get(channel.id);
    if (!breaker) {
      const b = this.settings.breaker;
      breaker = new CircuitBreaker((attempt: Attempt) => attempt(), {
        name: channel.code,
        // Each attempt has its own AbortSignal timeout, which also stops the request; the breaker's would not.
        timeout: false,
        resetTimeout: b.resetTimeoutMs,
        errorThresholdPercentage: b.errorThresholdPercentage,
        volumeThreshold: b.volumeThreshold,
        rollingCountTimeout: b.rollingWindowMs,
        rollingPercentilesEnabled: false,
        // A refused request (401, 404…) or our own stop is no sign that the platform is down.
        errorFilter: (err: unknown) => err instanceof PlatformRequestError && err.isCallerSide,
      });
      this.breakers.set(channel.id, breaker);
    }
    return breaker;
  }
}

function asRequestError(err: unknown): PlatformRequestError {
  if (err instanceof PlatformRequestError) return err;
  if (err instanceof Error && CircuitBreaker.isOurError(err)) {
    const code = (err as Error & { code?: string }).code;
    return new PlatformRequestError(
      'breaker-open',
      code === 'ESHUTDOWN'
        ? 'The platform client is shut down.'
        : 'The circuit breaker is open after repeated failures; requests fail fast until it lets a trial through.',
    );
  }
  return new PlatformRequestError('network', `The request failed: ${(err as Error).message}`, null, {
    cause: err,
  });
}

/** One HTTP request for one page, read and parsed by the connector: the attempt the breaker runs. */
async function fetchPage(
  connector: Connector,
  request: { url: string; init?: RequestInit },
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ReturnType<Connector['pull']['parse']>> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([timeout, signal]) : timeout;
  let text: string;
  let status: number;
  try {
    const response = await fetch(request.url, { ...request.init, signal: both });
    status = response.status;
    // The body is read under the same deadline: a reply that stalls halfway is a timeout too.
    text = await response.text();
  } catch (err) {
    if (timeout.aborted) {
      throw new PlatformRequestError('timeout', `No complete reply within ${timeoutMs} ms.`, null, {
        cause: err,
      });
    }
    if (signal?.aborted) throw new PlatformRequestError('aborted', 'The poll was stopped.');
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new PlatformRequestError('network', `The platform could not be reached (${detail}).`, null, {
      cause: err,
    });
  }
  if (status < 200 || status > 299) {
    throw new PlatformRequestError('http', `The platform answered HTTP ${status}.`, status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PlatformRequestError('protocol', 'The platform answered with a body that is not JSON.');
  }
  try {
    return connector.pull.parse(body);
  } catch (err) {
    const reason = err instanceof HubError ? err.message : 'it could not be read';
    throw new PlatformRequestError(
      'protocol',
      `The platform's reply is not a ${connector.platform} order page: ${reason}`,
    );
  }
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
    while (report.pages < clients.settings.maxPagesPerPoll) {
      const request = connector.pull.request(channel.apiBaseUrl, cursor);
      const page = await clients.call(
        channel,
        () => fetchPage(connector, request, clients.settings.timeoutMs, signal),
        signal,
      );
      report.pages++;
      if (page.attempts > 1) retried = true;
      await ingestPage(ctx, channel, page.value.orders, report);
      const next = page.value.nextCursor;
      if (next === null || next === cursor) break;
      cursor = next;
      await saveCursor(ctx.em, channel, cursor);
      report.cursor = cursor;
    }
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

/**
 * Checks the platform connection with one light request through the channel's breaker (the page at the
 * current cursor, read but not ingested): UP; DEGRADED when it needed retries or was slow; DOWN when it
 * failed or the breaker is open. Updates `lastHeartbeatAt`.
 */
export async function heartbeat(
  ctx: RequestContext,
  channel: Channel,
  clients: PlatformClients,
  options: { signal?: AbortSignal } = {},
): Promise<HeartbeatReport> {
  assertPollable(channel);
  const connector = connectorFor(channel.platform);
  const request = connector.pull.request(channel.apiBaseUrl, await storedCursor(ctx.em, channel.id));
  const { settings } = clients;
  let health: ConnectorHealth;
  let attempts = 1;
  let latencyMs: number | null = null;
  let error: string | null = null;
  try {
    const result = await clients.call(
      channel,
      () => fetchPage(connector, request, settings.timeoutMs, options.signal),
      options.signal,
    );
    attempts = result.attempts;
    latencyMs = result.latencyMs;
    health =
      attempts > 1 || latencyMs > settings.degradedLatencyMs ? ConnectorHealth.DEGRADED : ConnectorHealth.UP;
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
