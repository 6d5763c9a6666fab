import { DefaultLogger, MikroORM, type LoggerNamespace, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Logger as QueueLogger, runMigrations } from 'graphile-worker';
import pg from 'pg';
import { JOB_QUEUE_SCHEMA } from '../common/job-queue.js';
import { entities } from '../entities/index.js';
import { migrationsList } from '../migrations/index.js';
import type { Logger } from './logger.js';

export type OrmOptions = Partial<Options>;

export function ormOptions(databaseUrl: string, logger: Logger, overrides: OrmOptions = {}): Options {
  return {
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      path: 'migrations',
      emit: 'ts',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
    // The schema changes only through committed migrations.
    ensureDatabase: false,
    discovery: { checkDuplicateTableNames: true },
    // graphile-worker keeps its own schema (the job queue), migrated by its own migrations.
    schemaGenerator: { ignoreSchema: [JOB_QUEUE_SCHEMA] },
    forceUtcTimezone: true,
    pool: { min: 0, max: 20 },
    logger: (message) => logger.debug({ orm: message }),
    // Whatever `debug` asks for, statements are logged with their placeholders, never their values.
    loggerFactory: (options) => new PlaceholderLogger(options),
    ...overrides,
  };
}

/** MikroORM's logger without the `query-params` namespace, which inlines the values (customer data) into the SQL. */
class PlaceholderLogger extends DefaultLogger {
  override isEnabled(
    namespace: LoggerNamespace,
    context?: Parameters<DefaultLogger['isEnabled']>[1],
  ): boolean {
    return namespace !== 'query-params' && super.isEnabled(namespace, context);
  }
}

export async function openOrm(
  databaseUrl: string,
  logger: Logger,
  overrides: OrmOptions = {},
): Promise<MikroORM> {
  return MikroORM.init(ormOptions(databaseUrl, logger, overrides));
}

/**
 * A pool of its own for one class of API requests, on the main ORM's database and with its
 * logging, where every statement is cancelled by PostgreSQL after `statementTimeoutMs`.
 */
export async function openRequestOrm(
  orm: MikroORM,
  logger: Logger,
  pool: {
    name: string;
    statementTimeoutMs: number;
    size: number;
    /** Read replicas (each with a pool of `size`) and the driver that picks among them; none: every read on the primary. */
    replicas?: { urls: readonly string[]; driver: OrmOptions['driver']; connectTimeoutMs: number };
  },
): Promise<MikroORM> {
  const connection = {
    statement_timeout: pool.statementTimeoutMs,
    application_name: `order-hub-${pool.name}`,
  };
  const replicas = pool.replicas;
  return openOrm(orm.config.get('clientUrl')!, logger, {
    debug: orm.config.get('debug'),
    logger: orm.config.get('logger'),
    pool: { min: 0, max: pool.size },
    driverOptions: {
      connection,
      // knex writes its own notes (a pooled connection found closed, as when a replica stops) to the console:
      // the hub's log takes them instead; the failed read itself is reported where it happens.
      log: { warn: (message: string) => logger.debug({ pool: pool.name }, `knex: ${message}`) },
    },
    // MikroORM sends reads outside transactions to a replica when it prefers them: only a pool with replicas does.
    preferReadReplicas: Boolean(replicas?.urls.length),
    ...(replicas?.urls.length
      ? {
          driver: replicas.driver,
          replicas: replicas.urls.map((url, i) => ({
            name: `replica-${i + 1}`,
            clientUrl: url,
            // A replica that does not accept a connection soon is down: the read goes to the primary instead.
            driverOptions: {
              connection: { ...connection, connectionTimeoutMillis: replicas.connectTimeoutMs },
            },
          })),
        }
      : {}),
  });
}

const silentQueueLogger = new QueueLogger(() => () => {});

/**
 * Applies every pending migration (the job queue's, then the hub's); returns the names it ran. Hub processes starting
 * together take turns (a session advisory lock): the first migrates, the others then
 * find nothing pending.
 */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const lock = new pg.Client({ connectionString: orm.config.get('clientUrl') });
  await lock.connect();
  try {
    await lock.query(`select pg_advisory_lock(hashtext('order-hub:migrations'))`);
    // The queue's schema first: the hub's triggers enqueue jobs with its functions.
    await runMigrations({
      connectionString: orm.config.get('clientUrl'),
      schema: JOB_QUEUE_SCHEMA,
      logger: silentQueueLogger,
    });
    const done = await orm.getMigrator().up();
    return done.map((m) => m.name);
  } finally {
    await lock.end();
  }
}
