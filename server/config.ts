import { z } from 'zod';
import { DEFAULT_REMOTE_PROVINCES, parseProvinceList } from '../services/provinces.js';
import { MIN_SECRET_LENGTH } from '../common/hmac.js';
import { Role } from '../common/enums.js';
import { parseSecretKey } from '../services/secret-box.js';
import {
  DEFAULT_ROLE_LIMITS,
  MAX_LIMIT,
  parseLimitList,
  type RateLimitSettings,
} from '../services/key-limits.js';

/** Everything the hub reads from its environment, validated once at start and passed down. */
export interface HubConfig {
  port: number;
  host: string;
  /**
   * What this process answers: `graphql` (HTTP and websocket), `webhooks` (platform and carrier
   * webhooks), or both. Processes that take webhooks only keep their latency whatever the reads cost.
   */
  serve: ReadonlySet<'graphql' | 'webhooks'>;
  /** An existing PostgreSQL; when absent the hub runs an embedded one in `dataDir`. */
  databaseUrl: string | undefined;
  /**
   * DATABASE_READ_URL: streaming replicas of `databaseUrl` for reads that may lag a moment (reports, exports,
   * ANALYST keys' queries); empty: every read goes to the primary.
   */
  databaseReadUrls: readonly string[];
  dataDir: string;
  embeddedPostgresPort: number;
  /** Accepted as an ADMIN key in addition to the keys stored in the database. */
  adminKey: string | undefined;
  /** METRICS_TOKEN: the bearer token `GET /metrics` asks for; unset: the metrics are open to whoever reaches the port. */
  metricsToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** GraphQL query limits, applied to HTTP and websocket alike. */
  maxQueryDepth: number;
  maxQueryCost: number;
  /** Seconds in-flight requests get to finish on SIGTERM before the hub stops anyway. */
  shutdownGraceSeconds: number;
  /** Default lifetime of a stock hold (a reservation) before it expires. */
  reservationTtlSeconds: number;
  /** Units above safety stock a closed product must reach before it reopens on non-core channels. */
  restockMargin: number;
  /** A fall of more than this percent of `available` within `suddenDropWindowSeconds` raises SUDDEN_DROP. */
  suddenDropPercent: number;
  suddenDropWindowSeconds: number;
  /** Seconds between polls of the channels that pull their orders; 0 turns polling off. */
  pollIntervalSeconds: number;
  /** Seconds between heartbeats of those channels' platform connections; 0 turns them off. */
  heartbeatIntervalSeconds: number;
  /** Seconds between sweeps that release expired stock holds; 0 turns them off. */
  sweepIntervalSeconds: number;
  /** Seconds between folds of the appended sales changes into the hourly sums; 0 turns them off. */
  salesRollupIntervalSeconds: number;
  /** Seconds between the hub's own checks of order volume (VOLUME_ANOMALY alerts); 0 turns them off. */
  volumeCheckIntervalSeconds: number;
  /** A channel's hour strays when its orders differ from the baseline by more than this percent ... */
  volumeTolerancePercent: number;
  /** ... and the baseline is at least this many orders. */
  volumeMinBaseline: number;
  /** Seconds between the hub's looks for closed windows to judge for the VELOCITY risk rule; 0 turns them off. */
  velocityCheckIntervalSeconds: number;
  /** How long one request to a platform's order API may take. */
  pollTimeoutMs: number;
  /** Retries of a request to a platform after a timeout, a network error or a 5xx. */
  pollRetries: number;
  /** Daily reconciliation time, HH:MM in `reconcileTimeZone`; unset: no scheduled reconciliation. */
  reconcileAt: string | undefined;
  reconcileTimeZone: string;
  /** The CSV of physical counts the daily reconciliation reads (required with `reconcileAt`). */
  reconcileCountsFile: string | undefined;
  /** Carrier code (lower case) -> the secret its tracking webhook signs with; empty: the door is shut. */
  carrierWebhookSecrets: ReadonlyMap<string, string>;
  /**
   * The carrier tracking API Shipment.liveTracking asks (Kuaidi100's real-time query, docs/live-tracking.md);
   * null when CARRIER_TRACKING_URL, _CUSTOMER and _KEY are not set: liveTracking answers the stored events, stale.
   */
  carrierTracking: {
    url: string;
    customer: string;
    key: string;
    /** One request may take this long; then the stored events are answered. */
    timeoutMs: number;
    /** How long the open breaker answers the stored events without asking, before it lets one request through. */
    breakerResetMs: number;
    /** Carrier requests one GraphQL request may cause (answers of the last minute aside); more shipments: stale. */
    maxPerRequest: number;
  } | null;
  /** Most channel webhook payloads held at once (waiting or being stored); more are answered 503. */
  webhookMaxPending: number;
  /** Most bytes of channel webhook payloads held at once; more are answered 503. */
  webhookMaxPendingBytes: number;
  /**
   * How order events reach the subscribers of every hub process: `postgres` (LISTEN/NOTIFY,
   * nothing else needed), `redis` (through `redisUrl`) or `memory` (one process only).
   */
  pubsub: 'postgres' | 'redis' | 'memory';
  redisUrl: string | undefined;
  /** Messages that may wait for one websocket subscriber before it is disconnected as too slow. */
  subscriberMaxQueue: number;
  /** Replayed events (`after`) one process hands on per second, all replays together. */
  replayEventsPerSecond: number;
  /** Regions (canonical names) whose addresses are remote for the split rules. */
  remoteProvinces: readonly string[];
  /** Per-key limits on GraphQL over HTTP and websockets (services/key-limits.ts). */
  rateLimits: RateLimitSettings;
  /** Introspection and the IDE (Apollo's landing page), on HTTP and websocket alike; off for production. */
  graphqlIntrospection: boolean;
  /** What one STOREFRONT key may hold: units per hold, holds open at once, and the longest TTL. */
  holdMaxUnits: number;
  holdMaxOpenPerKey: number;
  holdMaxTtlSeconds: number;
  /** PostgreSQL statement_timeout of the requests of STOREFRONT and CONNECTOR keys (and of no key). */
  channelStatementTimeoutMs: number;
  /** The same for ANALYST, ADMIN and OPS keys, whose reports and bulk jobs read more. */
  staffStatementTimeoutMs: number;
  /** Connections of each request pool (channel, staff, and analyst with replicas); webhooks and jobs keep the main pool. */
  requestPoolSize: number;
  /** Time a client has to send a whole HTTP request (headers and body); then 408. */
  requestTimeoutMs: number;
  /** Time an HTTP connection may stay silent (no bytes either way); then it is closed. */
  connectionTimeoutMs: number;
  /** HUB_SECRET_KEY: seals platform credentials at rest; unset: `<dataDir>/secret.key` with the embedded database. */
  secretKey: Buffer | undefined;
  /** HUB_SECRET_KEY_PREVIOUS: the key before a rotation; values it sealed still open until they are set again. */
  previousSecretKey: Buffer | undefined;
  /** Pushing the pool's stock to the platforms (services/stock-sync). */
  stockSync: {
    /** Push jobs this process runs at once; 0: this process pushes nothing (another one does). */
    concurrency: number;
    /** Seconds between sweeps that put listings out of step without a job back in the queue. */
    sweepSeconds: number;
    /** How often the queue is polled for pushes that come due. */
    pollIntervalMs: number;
    /** One request to a platform's stock API may take this long… */
    timeoutMs: number;
    /**
     * …and is tried again this many times after a timeout, a network error or a 5xx. 0 by default: a request
     * without an answer may still be applied, so a retry within the push could land before it and be
     * overwritten by it; the listing waits the settle time instead, then is read back or set again.
     */
    retries: number;
    /** Wait after a throttled reply that says no time; unset: the platform's own (Youzan 30 s, others 1 s). */
    throttleWaitMs: number | undefined;
    /** How long a channel's open breaker fails fast before it lets a trial call through. */
    breakerResetMs: number;
    /** Backoff after a push without an answer: base × 2^n, at most max, with jitter. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** Days the push log (`stock_push`) keeps its rows. */
    pushLogRetentionDays: number;
  };
  /** Signed webhooks to the merchants' systems (services/outbound). */
  outboundWebhooks: {
    /** Deliveries this process sends at once, all endpoints together; 0: this process sends none (others do). */
    concurrency: number;
    /** …and to one endpoint: a slow or dead endpoint cannot take every slot. */
    perEndpoint: number;
    /** An attempt without a 2xx within this long has failed. */
    timeoutMs: number;
    /** The waits before each retry; a delivery still failing after the last is given up (FAILED). */
    retryScheduleMs: number[];
    /** An endpoint failing this long without a single success is turned off. */
    disableAfterMs: number;
    /** WEBHOOK_ALLOW_PRIVATE: URLs may point at private, loopback and link-local addresses (tests, one host). */
    allowPrivate: boolean;
    /** How often the queue is polled for deliveries that come due (a new job also wakes it at once). */
    pollIntervalMs: number;
  };
  /** Customer notices by SMS and WeChat (services/notices). */
  notices: {
    /** Notices this process sends at once; 0: this process sends none (others do). */
    concurrency: number;
    /** One request to a provider may take this long. */
    timeoutMs: number;
    /** How often the queue is polled for notices coming due (retries, held SMS); a new job wakes it at once. */
    pollIntervalMs: number;
    /** Wait after the SMS account's throttle (`Throttling.User`). */
    throttleWaitMs: number;
    /** Wait after a number's own limit (`isv.BUSINESS_LIMIT_CONTROL`). */
    numberLimitWaitMs: number;
    /** Backoff after no answer: base × 2^n up to max. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** Tries before a throttled or unanswered notice is FAILED. */
    maxAttempts: number;
  };
}

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a port number` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`);

/** A key as HUB_SECRET_KEY gives it, never repeated in the message when it is refused. */
const secretKey = z
  .string()
  .transform((text, ctx) => {
    const key = parseSecretKey(text);
    if (!key) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)',
      });
      return z.NEVER;
    }
    return key;
  })
  .optional();

const schema = z.object({
  PORT: port('PORT').default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  HUB_SERVE: z
    .string()
    .default('graphql,webhooks')
    .transform((value, zctx) => {
      const parts = value.split(',').map((part) => part.trim().toLowerCase());
      const bad = parts.filter((part) => part !== 'graphql' && part !== 'webhooks');
      if (bad.length > 0) {
        zctx.addIssue({
          code: 'custom',
          message: 'HUB_SERVE must list graphql, webhooks or both (graphql,webhooks)',
        });
        return z.NEVER;
      }
      return new Set(parts as ('graphql' | 'webhooks')[]);
    }),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  DATABASE_READ_URL: z
    .string()
    .optional()
    .transform((value, zctx) => {
      try {
        return parseReadUrls(value ?? '');
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  HUB_DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port('EMBEDDED_PG_PORT').default(54329),
  HUB_ADMIN_KEY: z.string().min(16, 'HUB_ADMIN_KEY must be at least 16 characters').optional(),
  METRICS_TOKEN: z
    .string()
    .regex(/^\S{16,}$/, 'METRICS_TOKEN must be at least 16 characters, without spaces')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  MAX_QUERY_COST: z.coerce.number().int().min(10).default(100_000),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  RESERVATION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(900),
  RESTOCK_MARGIN: z.coerce.number().int().min(0).max(1_000_000).default(5),
  SUDDEN_DROP_PERCENT: z.coerce.number().gt(0).max(100).default(50),
  SUDDEN_DROP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(600),
  POLL_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  SALES_ROLLUP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  VOLUME_CHECK_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  VOLUME_ANOMALY_TOLERANCE_PERCENT: z.coerce.number().min(0).max(10_000).default(30),
  VOLUME_ANOMALY_MIN_BASELINE: z.coerce.number().min(0).max(1_000_000).default(5),
  VELOCITY_CHECK_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  HEARTBEAT_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(3600),
  POLL_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  POLL_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  HUB_SECRET_KEY: secretKey,
  HUB_SECRET_KEY_PREVIOUS: secretKey,
  STOCK_SYNC_CONCURRENCY: z.coerce.number().int().min(0).max(100_000).default(1000),
  STOCK_SYNC_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3600).default(30),
  STOCK_SYNC_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  STOCK_SYNC_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  STOCK_SYNC_RETRIES: z.coerce.number().int().min(0).max(10).default(0),
  STOCK_SYNC_THROTTLE_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).optional(),
  STOCK_SYNC_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  STOCK_SYNC_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  STOCK_SYNC_RETRY_MAX_MS: z.coerce.number().int().min(10).max(3_600_000).default(20_000),
  STOCK_PUSH_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(30),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(10_000).default(200),
  WEBHOOK_PER_ENDPOINT: z.coerce.number().int().min(1).max(1000).default(32),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5s,5m,30m,2h,5h,10h,10h')
    .transform((value, zctx) => {
      try {
        return parseDurationList(value);
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  WEBHOOK_DISABLE_AFTER: z
    .string()
    .default('3d')
    .transform((value, zctx) => {
      try {
        const list = parseDurationList(value);
        if (list.length !== 1) throw new Error('one duration, e.g. 3d');
        return list[0];
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  WEBHOOK_ALLOW_PRIVATE: z
    .stringbool({ error: 'WEBHOOK_ALLOW_PRIVATE must be true or false' })
    .default(false),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  NOTICE_CONCURRENCY: z.coerce.number().int().min(0).max(10_000).default(16),
  NOTICE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  NOTICE_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  NOTICE_THROTTLE_WAIT: oneDuration('NOTICE_THROTTLE_WAIT', '1m'),
  NOTICE_NUMBER_LIMIT_WAIT: oneDuration('NOTICE_NUMBER_LIMIT_WAIT', '1h'),
  NOTICE_RETRY_BASE: oneDuration('NOTICE_RETRY_BASE', '5s'),
  NOTICE_RETRY_MAX: oneDuration('NOTICE_RETRY_MAX', '10m'),
  NOTICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  RECONCILE_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'RECONCILE_AT must be a time of day as HH:MM (00:00 to 23:59)')
    .optional(),
  RECONCILE_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'RECONCILE_TIME_ZONE must be an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  RECONCILE_COUNTS_FILE: z.string().optional(),
  CARRIER_WEBHOOK_SECRETS: z
    .string()
    .optional()
    .transform((value, zctx) => {
      try {
        return parseCarrierSecrets(value ?? '');
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  CARRIER_TRACKING_URL: z
    .url({ protocol: /^https?$/, error: 'CARRIER_TRACKING_URL must be an http(s) URL' })
    .optional(),
  CARRIER_TRACKING_CUSTOMER: z
    .string()
    .regex(/^\S{1,64}$/, 'CARRIER_TRACKING_CUSTOMER must be 1 to 64 characters, without spaces')
    .optional(),
  CARRIER_TRACKING_KEY: z
    .string()
    .regex(/^\S{8,128}$/, 'CARRIER_TRACKING_KEY must be 8 to 128 characters, without spaces')
    .optional(),
  CARRIER_TRACKING_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  CARRIER_TRACKING_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  CARRIER_TRACKING_MAX_PER_REQUEST: z.coerce.number().int().min(1).max(10_000).default(50),
  WEBHOOK_MAX_PENDING: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  WEBHOOK_MAX_PENDING_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024, 'WEBHOOK_MAX_PENDING_BYTES must be at least 1048576 (one largest body)')
    .default(64 * 1024 * 1024),
  PUBSUB: z
    .enum(['postgres', 'redis', 'memory'], { error: 'PUBSUB must be postgres, redis or memory' })
    .default('postgres'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL must start with redis:// or rediss://')
    .optional(),
  SUBSCRIBER_MAX_QUEUE: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  REPLAY_EVENTS_PER_SECOND: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
  REMOTE_PROVINCES: z
    .string()
    .optional()
    .transform((value, zctx) => {
      if (value === undefined) return DEFAULT_REMOTE_PROVINCES;
      try {
        return parseProvinceList(value);
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  RATE_LIMIT_ADMIN: roleLimits(Role.ADMIN),
  RATE_LIMIT_OPS: roleLimits(Role.OPS),
  RATE_LIMIT_STOREFRONT: roleLimits(Role.STOREFRONT),
  RATE_LIMIT_CONNECTOR: roleLimits(Role.CONNECTOR),
  RATE_LIMIT_ANALYST: roleLimits(Role.ANALYST),
  RATE_LIMIT_ANONYMOUS: z
    .union([z.literal('none'), z.coerce.number().int().min(1).max(MAX_LIMIT)], {
      error: `RATE_LIMIT_ANONYMOUS must be a whole number from 1 to ${MAX_LIMIT}, or none`,
    })
    .default(20),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
  GRAPHQL_INTROSPECTION: z.stringbool({ error: 'GRAPHQL_INTROSPECTION must be true or false' }).default(true),
  HOLD_MAX_UNITS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  HOLD_MAX_OPEN_PER_KEY: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  HOLD_MAX_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  QUERY_TIMEOUT_CHANNEL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  QUERY_TIMEOUT_STAFF_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  REQUEST_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
});

/** One duration (`90s`, `1h`) in milliseconds. */
function oneDuration(name: string, fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((value, zctx) => {
      try {
        const list = parseDurationList(value);
        if (list.length !== 1) throw new Error(`${name} is one duration, e.g. ${fallback}`);
        return list[0];
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

/** RATE_LIMIT_<role>: `name=value` pairs over that role's built-in limits. */
function roleLimits(role: Role) {
  return z
    .string()
    .optional()
    .transform((value, zctx) => {
      try {
        return parseLimitList(value ?? '', DEFAULT_ROLE_LIMITS[role]);
      } catch (err) {
        zctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

/**
 * `postgres://replica1/hub,postgres://replica2/hub` -> each URL, checked; throws naming the bad entry without
 * repeating it whole (a URL may hold a password).
 */
export function parseReadUrls(value: string): string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  entries.forEach((entry, i) => {
    const which = entries.length > 1 ? `entry ${i + 1} ` : '';
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`${which}is not a URL (postgres://user@host:5432/database)`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
      throw new Error(`${which}must start with postgres:// or postgresql://`);
    if (!url.hostname) throw new Error(`${which}names no host (postgres://user@host:5432/database)`);
  });
  if (new Set(entries).size !== entries.length) throw new Error('lists the same URL twice');
  return entries;
}

const CARRIER_CODE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `sf=secret1,jd=secret2` -> a map by lower-case carrier code; throws naming the bad entry. */
export function parseCarrierSecrets(value: string): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const entry of value.split(',')) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf('=');
    const code = (eq < 0 ? entry : entry.slice(0, eq)).trim().toLowerCase();
    const secret = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (!CARRIER_CODE.test(code))
      throw new Error(`"${code}" is not a carrier code (letters, digits, - and _)`);
    if (!secret) throw new Error(`carrier "${code}" has no secret (write code=secret)`);
    if (secret.length < MIN_SECRET_LENGTH)
      throw new Error(`carrier "${code}" has a secret shorter than ${MIN_SECRET_LENGTH} characters`);
    if (secrets.has(code)) throw new Error(`carrier "${code}" is listed twice`);
    secrets.set(code, secret);
  }
  return secrets;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `5s,5m,30m,2h` -> milliseconds each; throws naming the entry that is not a duration. */
export function parseDurationList(value: string): number[] {
  const list = value.split(',').map((entry) => entry.trim());
  return list.map((entry) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not a duration (a number and ms, s, m, h or d, e.g. 5m)`);
    const ms = Math.round(Number(match[1]) * DURATION_UNITS[match[2]]);
    if (ms > 30 * 86_400_000) throw new Error(`"${entry}" is longer than 30 days`);
    return ms;
  });
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(blankAsUnset);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  if (e.RECONCILE_AT && !e.RECONCILE_COUNTS_FILE) {
    throw new ConfigError(
      'Invalid configuration:\n  RECONCILE_COUNTS_FILE: required when RECONCILE_AT is set (the CSV of counts to reconcile)',
    );
  }
  if (e.PUBSUB === 'redis' && !e.REDIS_URL) {
    throw new ConfigError(
      'Invalid configuration:\n  REDIS_URL: required when PUBSUB=redis (e.g. redis://127.0.0.1:6379)',
    );
  }
  if (e.DATABASE_READ_URL.length > 0 && !e.DATABASE_URL) {
    throw new ConfigError(
      'Invalid configuration:\n  DATABASE_READ_URL: needs DATABASE_URL, the primary the replicas follow (the embedded database has none)',
    );
  }
  if (e.RESERVATION_TTL_SECONDS > e.HOLD_MAX_TTL_SECONDS) {
    throw new ConfigError(
      "Invalid configuration:\n  RESERVATION_TTL_SECONDS: must not be above HOLD_MAX_TTL_SECONDS (a storefront's default hold would be refused)",
    );
  }
  const tracking = [e.CARRIER_TRACKING_URL, e.CARRIER_TRACKING_CUSTOMER, e.CARRIER_TRACKING_KEY];
  if (tracking.some(Boolean) && !tracking.every(Boolean)) {
    throw new ConfigError(
      'Invalid configuration:\n  CARRIER_TRACKING_URL, CARRIER_TRACKING_CUSTOMER, CARRIER_TRACKING_KEY: set all three or none',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    serve: e.HUB_SERVE,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrls: e.DATABASE_READ_URL,
    dataDir: e.HUB_DATA_DIR,
    embeddedPostgresPort: e.EMBEDDED_PG_PORT,
    adminKey: e.HUB_ADMIN_KEY,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    maxQueryCost: e.MAX_QUERY_COST,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    reservationTtlSeconds: e.RESERVATION_TTL_SECONDS,
    restockMargin: e.RESTOCK_MARGIN,
    suddenDropPercent: e.SUDDEN_DROP_PERCENT,
    suddenDropWindowSeconds: e.SUDDEN_DROP_WINDOW_SECONDS,
    pollIntervalSeconds: e.POLL_INTERVAL_SECONDS,
    heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    salesRollupIntervalSeconds: e.SALES_ROLLUP_INTERVAL_SECONDS,
    volumeCheckIntervalSeconds: e.VOLUME_CHECK_INTERVAL_SECONDS,
    volumeTolerancePercent: e.VOLUME_ANOMALY_TOLERANCE_PERCENT,
    volumeMinBaseline: e.VOLUME_ANOMALY_MIN_BASELINE,
    velocityCheckIntervalSeconds: e.VELOCITY_CHECK_INTERVAL_SECONDS,
    pollTimeoutMs: e.POLL_TIMEOUT_MS,
    pollRetries: e.POLL_RETRIES,
    reconcileAt: e.RECONCILE_AT,
    reconcileTimeZone: e.RECONCILE_TIME_ZONE,
    reconcileCountsFile: e.RECONCILE_COUNTS_FILE,
    carrierWebhookSecrets: e.CARRIER_WEBHOOK_SECRETS,
    carrierTracking:
      e.CARRIER_TRACKING_URL && e.CARRIER_TRACKING_CUSTOMER && e.CARRIER_TRACKING_KEY
        ? {
            url: e.CARRIER_TRACKING_URL,
            customer: e.CARRIER_TRACKING_CUSTOMER,
            key: e.CARRIER_TRACKING_KEY,
            timeoutMs: e.CARRIER_TRACKING_TIMEOUT_MS,
            breakerResetMs: e.CARRIER_TRACKING_RESET_MS,
            maxPerRequest: e.CARRIER_TRACKING_MAX_PER_REQUEST,
          }
        : null,
    webhookMaxPending: e.WEBHOOK_MAX_PENDING,
    webhookMaxPendingBytes: e.WEBHOOK_MAX_PENDING_BYTES,
    pubsub: e.PUBSUB,
    redisUrl: e.REDIS_URL,
    subscriberMaxQueue: e.SUBSCRIBER_MAX_QUEUE,
    replayEventsPerSecond: e.REPLAY_EVENTS_PER_SECOND,
    remoteProvinces: e.REMOTE_PROVINCES,
    rateLimits: {
      byRole: {
        [Role.ADMIN]: e.RATE_LIMIT_ADMIN,
        [Role.OPS]: e.RATE_LIMIT_OPS,
        [Role.STOREFRONT]: e.RATE_LIMIT_STOREFRONT,
        [Role.CONNECTOR]: e.RATE_LIMIT_CONNECTOR,
        [Role.ANALYST]: e.RATE_LIMIT_ANALYST,
      },
      anonymousPerSecond: e.RATE_LIMIT_ANONYMOUS === 'none' ? null : e.RATE_LIMIT_ANONYMOUS,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
    },
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION,
    holdMaxUnits: e.HOLD_MAX_UNITS,
    holdMaxOpenPerKey: e.HOLD_MAX_OPEN_PER_KEY,
    holdMaxTtlSeconds: e.HOLD_MAX_TTL_SECONDS,
    channelStatementTimeoutMs: e.QUERY_TIMEOUT_CHANNEL_MS,
    staffStatementTimeoutMs: e.QUERY_TIMEOUT_STAFF_MS,
    requestPoolSize: e.REQUEST_POOL_SIZE,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: e.CONNECTION_TIMEOUT_MS,
    secretKey: e.HUB_SECRET_KEY,
    previousSecretKey: e.HUB_SECRET_KEY_PREVIOUS,
    stockSync: {
      concurrency: e.STOCK_SYNC_CONCURRENCY,
      sweepSeconds: e.STOCK_SYNC_SWEEP_SECONDS,
      pollIntervalMs: e.STOCK_SYNC_POLL_MS,
      timeoutMs: e.STOCK_SYNC_TIMEOUT_MS,
      retries: e.STOCK_SYNC_RETRIES,
      throttleWaitMs: e.STOCK_SYNC_THROTTLE_WAIT_MS,
      breakerResetMs: e.STOCK_SYNC_BREAKER_RESET_MS,
      retryBaseMs: e.STOCK_SYNC_RETRY_BASE_MS,
      retryMaxMs: e.STOCK_SYNC_RETRY_MAX_MS,
      pushLogRetentionDays: e.STOCK_PUSH_RETENTION_DAYS,
    },
    outboundWebhooks: {
      concurrency: e.WEBHOOK_CONCURRENCY,
      perEndpoint: e.WEBHOOK_PER_ENDPOINT,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      pollIntervalMs: e.WEBHOOK_POLL_MS,
    },
    notices: {
      concurrency: e.NOTICE_CONCURRENCY,
      timeoutMs: e.NOTICE_TIMEOUT_MS,
      pollIntervalMs: e.NOTICE_POLL_MS,
      throttleWaitMs: e.NOTICE_THROTTLE_WAIT,
      numberLimitWaitMs: e.NOTICE_NUMBER_LIMIT_WAIT,
      retryBaseMs: e.NOTICE_RETRY_BASE,
      retryMaxMs: e.NOTICE_RETRY_MAX,
      maxAttempts: e.NOTICE_MAX_ATTEMPTS,
    },
  };
}
