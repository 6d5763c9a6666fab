import { PostgreSqlDriver, type ConnectionType, type PostgreSqlConnection } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from './logger.js';

/**
 * Read replicas (DATABASE_READ_URL): which of them answer, and the connections that read from them and fall
 * back to the primary. A replica that does not answer is a warning, never a failed read: reads go to the
 * primary until a recheck finds it answering again.
 */

/** How often a replica marked down is tried again. */
export const REPLICA_RECHECK_MS = 5_000;
/** A replica that takes longer than this to accept a connection counts as down. */
export const REPLICA_CONNECT_TIMEOUT_MS = 3_000;

// Node's socket errors, and pg's and knex's words for a connection that could not be made or was cut.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Timeout acquiring a connection/,
  /Client has encountered a connection error/,
  /Connection is closed/,
];

/**
 * Whether `err` says the server could not be reached or let go of the connection (as opposed to refusing the
 * statement): SQL state class 08, a server shutting down or starting (57P01-57P03), a database or login the
 * replica does not have (3D000, 28xxx: nothing was asked yet), or a socket or pool error.
 */
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('28')) return true;
      if (code === '57P01' || code === '57P02' || code === '57P03' || code === '3D000') return true;
    }
    if (e.name === 'KnexTimeoutError') return true;
    if (CONNECTION_MESSAGES.some((pattern) => pattern.test(e.message))) return true;
    if (e instanceof AggregateError && e.errors.some(isConnectionError)) return true;
  }
  return false;
}

/** A replica's URL as logs may show it: host, port and database, never the password. */
export function describeReplica(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/**
 * Which replicas answer. Starts with all of them up (connections are made lazily); a connection error marks
 * one down (one warning per outage), and a timer tries the down ones every `recheckMs` until they answer.
 */
export class ReplicaHealth {
  readonly #down = new Set<number>();
  readonly #timer: NodeJS.Timeout | null;
  #checking = false;

  constructor(
    readonly urls: readonly string[],
    private readonly logger: Logger,
    recheckMs = REPLICA_RECHECK_MS,
  ) {
    this.#timer = urls.length ? setInterval(() => void this.recheck(), recheckMs) : null;
    this.#timer?.unref();
  }

  /** A replica to read from (its index in `urls`, at random among those up); null: read from the primary. */
  pick(): number | null {
    const up = this.urls.map((_, i) => i).filter((i) => !this.#down.has(i));
    return up.length ? up[Math.floor(Math.random() * up.length)] : null;
  }

  isUp(index: number): boolean {
    return !this.#down.has(index);
  }

  markDown(index: number, err: unknown): void {
    if (this.#down.has(index)) return;
    this.#down.add(index);
    this.logger.warn(
      { replica: describeReplica(this.urls[index]), err, replicasUp: this.urls.length - this.#down.size },
      'read replica unreachable: its reads go to the primary until it answers again',
    );
  }

  /** Tries each replica marked down once; those that answer take reads again. */
  async recheck(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      await Promise.all(
        [...this.#down].map(async (index) => {
          if (await answers(this.urls[index])) {
            this.#down.delete(index);
            this.logger.info({ replica: describeReplica(this.urls[index]) }, 'read replica answers again');
          }
        }),
      );
    } finally {
      this.#checking = false;
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
    application_name: 'order-hub-replica-check',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * MikroORM's PostgreSQL driver whose read connection (`replicas`, `preferReadReplicas`) is a replica that
 * answers, or the primary when none does. A read that fails to reach its replica marks it down and is run on
 * the primary instead: a read can be run twice, and the caller never sees the outage. Writes, reads inside a
 * transaction and raw `em.execute` always take the primary (MikroORM's own rule).
 */
export function replicaRoutingDriver(health: ReplicaHealth): typeof PostgreSqlDriver {
  return class ReplicaRoutingDriver extends PostgreSqlDriver {
    // Made on first use: MikroORM makes its replica connections in the parent's constructor.
    private guarded: PostgreSqlConnection[] | undefined;

    override getConnection(type: ConnectionType = 'write'): PostgreSqlConnection {
      if (type === 'write' || this.replicas.length === 0) return this.connection;
      const index = health.pick();
      if (index === null) return this.connection;
      this.guarded ??= this.replicas.map((replica, i) => withFallback(replica, this.connection, health, i));
      return this.guarded[index];
    }
  };
}

/** `replica`, whose `execute` runs on `primary` instead when the replica cannot be reached. */
function withFallback(
  replica: PostgreSqlConnection,
  primary: PostgreSqlConnection,
  health: ReplicaHealth,
  index: number,
): PostgreSqlConnection {
  const execute: PostgreSqlConnection['execute'] = async (...args) => {
    try {
      return await replica.execute(...args);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      health.markDown(index, err);
      return primary.execute(...args);
    }
  };
  return new Proxy(replica, {
    get(target, prop) {
      if (prop === 'execute') return execute;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * pg pools for streaming reads (exports): one per replica and one on the primary; `connect` gives a client on
 * a replica that answers, else on the primary.
 */
export class ReadPools {
  private readonly replicas: pg.Pool[];

  constructor(
    private readonly primary: pg.Pool,
    private readonly health: ReplicaHealth,
    options: pg.PoolConfig,
    logger: Logger,
  ) {
    this.replicas = health.urls.map((url, index) => {
      const pool = new pg.Pool({
        ...options,
        connectionString: url,
        connectionTimeoutMillis: REPLICA_CONNECT_TIMEOUT_MS,
      });
      // An idle connection the replica closed (it stopped): the pool drops it; the next connect says more.
      pool.on('error', (err) =>
        logger.debug({ err, replica: describeReplica(health.urls[index]) }, 'replica connection lost'),
      );
      return pool;
    });
  }

  async connect(): Promise<pg.PoolClient> {
    const index = this.health.pick();
    if (index !== null) {
      try {
        return await this.replicas[index].connect();
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.health.markDown(index, err);
      }
    }
    return this.primary.connect();
  }

  async end(): Promise<void> {
    await Promise.all([this.primary.end(), ...this.replicas.map((pool) => pool.end())]);
  }
}
