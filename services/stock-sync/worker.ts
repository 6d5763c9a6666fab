import { Logger as QueueLogger, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import { z } from 'zod';
import type { Platform } from '../../common/enums.js';
import { JOB_QUEUE_SCHEMA } from '../../common/job-queue.js';
import type { Logger } from '../../server/logger.js';
import { LISTING_FROM, LISTING_TARGET } from './listings.js';
import type { StockClient } from './platform-api.js';
import { holdProcessLock, type ProcessLock } from './process-lock.js';
import type { Sealer } from '../secret-box.js';
import { ChannelPusher, type PusherSettings } from './pusher.js';

/**
 * The stock sync as one hub process runs it: graphile-worker takes the `stock_sync` jobs the database's
 * triggers enqueue (each job to one process), hands each listing to its channel's pusher, and a sweep puts
 * back in the queue any listing out of step with no job to fix it (a push that died with its process, a
 * restart after kill -9), so every listing converges whatever happened.
 */

export interface StockSyncSettings extends PusherSettings {
  /** Jobs this process runs at once; 0: this process pushes nothing (others do). */
  concurrency: number;
  /** How often the queue is polled for jobs that come due (a push delay, a retry). */
  pollIntervalMs: number;
  /** How often listings out of step without a job are put back in the queue. */
  sweepIntervalMs: number;
}

export const DEFAULT_STOCK_SYNC_SETTINGS: StockSyncSettings = {
  concurrency: 16,
  pollIntervalMs: 500,
  sweepIntervalMs: 30_000,
  maxParallel: 4,
  maxWaiting: 500,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  maxPaceWaitMs: 2000,
};

export interface StockSyncDeps {
  databaseUrl: string;
  logger: Logger;
  settings: StockSyncSettings;
  clientFor(platform: Platform): StockClient | null;
  defaultBaseUrl(platform: Platform, shopId: string | null): string;
  sealer: Pick<Sealer, 'open'>;
}

export interface StockSync {
  /** This process's name in `push_owner` while it pushes a listing. */
  readonly processId: string;
  /** Puts back in the queue every listing out of step that has no job waiting; returns how many. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

const jobPayload = z.object({ listingId: z.uuid(), channelId: z.uuid() });

export async function startStockSync(deps: StockSyncDeps): Promise<StockSync> {
  const { settings, logger } = deps;
  const stopping = new AbortController();
  const pool = new pg.Pool({
    connectionString: deps.databaseUrl,
    max: settings.concurrency + settings.maxParallel + 4,
    application_name: 'order-hub-stock-sync',
  });
  // An idle connection that dies (a database restart) must not crash the process: it is replaced on next use.
  pool.on('error', (err) => logger.warn({ err }, 'stock sync database connection lost'));
  pool.on('connect', (client) => client.on('error', () => {}));
  let lock: ProcessLock | null = null;
  let runner: Runner | null = null;
  const pushers = new Map<string, ChannelPusher>();
  const pusherFor = (channelId: string, processId: string) => {
    let pusher = pushers.get(channelId);
    if (!pusher) {
      pusher = new ChannelPusher(channelId, {
        pool,
        processId,
        clientFor: deps.clientFor,
        defaultBaseUrl: deps.defaultBaseUrl,
        sealer: deps.sealer,
        logger,
        settings,
        signal: stopping.signal,
      });
      pushers.set(channelId, pusher);
    }
    return pusher;
  };

  try {
    lock = await holdProcessLock(deps.databaseUrl);
    const processId = lock.processId;
    if (settings.concurrency > 0) {
      runner = await run({
        pgPool: pool,
        schema: JOB_QUEUE_SCHEMA,
        concurrency: settings.concurrency,
        pollInterval: settings.pollIntervalMs,
        noHandleSignals: true,
        // The pool fetches jobs for all its workers at once, so an idle process polls once per interval,
        // not once per worker.
        preset: { worker: { localQueue: { size: settings.concurrency } } },
        logger: queueLogger(logger),
        taskList: {
          stock_sync: async (payload) => {
            const job = jobPayload.parse(payload);
            await pusherFor(job.channelId, processId).push(job.listingId);
          },
        },
      });
    }
  } catch (err) {
    await runner?.stop().catch(() => {});
    await lock?.release();
    await pool.end().catch(() => {});
    throw err;
  }
  const processLock = lock;

  const sweep = async () => {
    const { rows } = await pool.query<{ enqueued: number }>(
      `select hub_stock_sync_enqueue(array(
         select cs.id from ${LISTING_FROM}
          where c.stock_sync and c.platform <> 'STOREFRONT'
            and ((cs.push_owner is null and cs.sync_state <> 'FAILED'
                  and (cs.uncertain or cs.sync_state <> 'IN_SYNC' or cs.confirmed is distinct from ${LISTING_TARGET}))
                 or (cs.push_owner is not null and not hub_process_alive(cs.push_owner)))
            -- graphile-worker's own table: a listing whose job is waiting needs no other.
            and not exists (select 1 from ${JOB_QUEUE_SCHEMA}._private_jobs j
                             where j.key = 'stock-sync:' || cs.id and j.locked_at is null)
       ), now()) as enqueued`,
    );
    return rows[0]?.enqueued ?? 0;
  };

  let sweepTimer: NodeJS.Timeout | null = null;
  let sweeping: Promise<unknown> = Promise.resolve();
  const scheduleSweep = (delayMs: number) => {
    if (stopping.signal.aborted || settings.sweepIntervalMs <= 0) return;
    sweepTimer = setTimeout(() => {
      sweeping = sweep()
        .then((n) => {
          if (n) logger.info({ listings: n }, 'stock sync: listings out of step put back in the queue');
        })
        .catch((err: unknown) => logger.warn({ err }, 'stock sync sweep failed'))
        .finally(() => scheduleSweep(settings.sweepIntervalMs));
    }, delayMs);
  };
  // At once: after a restart, what the last process left half-done is picked up without waiting.
  if (settings.concurrency > 0) scheduleSweep(0);

  return {
    processId: processLock.processId,
    sweep,
    async stop() {
      stopping.abort(new Error('The hub is stopping.'));
      if (sweepTimer) clearTimeout(sweepTimer);
      await sweeping;
      await runner?.stop();
      await processLock.release();
      await pool.end();
    },
  };
}

/** graphile-worker's log lines through the hub's logger; its routine "info" lines are debug here. */
function queueLogger(logger: Logger): QueueLogger {
  const log = logger.child({ component: 'job-queue' });
  return new QueueLogger(() => (level, message, meta) => {
    if (level === 'error') log.error(meta ?? {}, message);
    else if (level === 'warning') log.warn(meta ?? {}, message);
    else log.debug(meta ?? {}, message);
  });
}
