import pg from 'pg';
import { pgPoolFigures, type HubMetrics } from '../metrics.js';
import type { Platform } from '../../common/enums.js';
import { JOB_QUEUE_SCHEMA } from '../../common/job-queue.js';
import type { Logger } from '../../server/logger.js';
import { LISTING_FROM, LISTING_TARGET, staleClaim } from './listings.js';
import type { StockClient } from './platform-api.js';
import { holdProcessLock, type ProcessLock } from '../process-lock.js';
import type { Sealer } from '../secret-box.js';
import { ChannelPusher, type PusherSettings, type PushSession } from './pusher.js';

/**
 * The stock sync as one hub process runs it. The database's triggers put `stock_sync` jobs in graphile-worker's
 * queue (a stock change puts one `stock_sync_product` job, which this process turns into its listings' jobs at
 * its next poll); at each poll interval this process looks for channels with due jobs and wakes their pushers, which
 * take the jobs from the queue as their pace allows (each job to one process: FOR UPDATE SKIP LOCKED, then
 * completed). A job is not handed to a worker that would hold it locked while the channel's pace makes it
 * wait: a stock change that finds its listing's job still waiting then writes nothing to the queue. A sweep
 * puts back in the queue any listing out of step with no job to fix it (a push that died with its process, a
 * restart after kill -9), so every listing converges whatever happened.
 */

export interface StockSyncSettings extends PusherSettings {
  /** Listings this process holds taken from the queue at once, all channels together; 0: it pushes nothing (others do). */
  concurrency: number;
  /** How often the queue is looked at for jobs that come due (a push delay, a retry). */
  pollIntervalMs: number;
  /** How often listings out of step without a job are put back in the queue. */
  sweepIntervalMs: number;
  /** Push log rows (`stock_push`) older than this are deleted by the sweep. */
  pushLogRetentionDays: number;
}

export const DEFAULT_STOCK_SYNC_SETTINGS: StockSyncSettings = {
  concurrency: 1000,
  pollIntervalMs: 500,
  sweepIntervalMs: 30_000,
  pushLogRetentionDays: 30,
  maxParallel: 4,
  maxWaiting: 500,
  retryBaseMs: 1000,
  retryMaxMs: 20_000,
  settleMs: 20_000,
  leaseMs: 70_000,
  maxPaceWaitMs: 2000,
};

/** Product jobs handed on to their listings in one statement, and statements at most per poll. */
const FAN_OUT_BATCH = 1000;
const FAN_OUT_ROUNDS = 20;

export interface StockSyncDeps {
  databaseUrl: string;
  logger: Logger;
  settings: StockSyncSettings;
  clientFor(platform: Platform): StockClient | null;
  defaultBaseUrl(platform: Platform, shopId: string | null): string;
  sealer: Pick<Sealer, 'open'>;
  /** The hub's: pushes are counted there and this pool's connections shown. */
  metrics: HubMetrics;
}

export interface StockSync {
  /** Puts back in the queue every listing out of step that has no job waiting; returns how many. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export async function startStockSync(deps: StockSyncDeps): Promise<StockSync> {
  const { settings, logger } = deps;
  const stopping = new AbortController();
  const pool = new pg.Pool({
    connectionString: deps.databaseUrl,
    // Pushes mostly wait (for the platform, for the pace): they hold no connection while they do.
    max: 20,
    application_name: 'order-hub-stock-sync',
    // The sync's own bookkeeping (claims, pace, outcomes, its queue's jobs) does not wait for the disk: a
    // database crash may forget its last few milliseconds, and what is forgotten is pushed again (every
    // platform call sets or reads back the target, never adds twice). Its commits then no longer queue, one
    // disk flush each, behind the stock changes that take orders.
    // Its statements are prepared (pusher.ts) and look rows up by key: a generic plan fits them, and planning
    // each execution anew cost more than running it.
    options: '-c synchronous_commit=off -c plan_cache_mode=force_generic_plan',
  });
  // An idle connection that dies (a database restart) must not crash the process: it is replaced on next use.
  pool.on('error', (err) => logger.warn({ err }, 'stock sync database connection lost'));
  pool.on('connect', (client) => client.on('error', () => {}));
  const unwatchPool = deps.metrics.watchPool('stock-sync', pgPoolFigures(pool));
  let lock: ProcessLock | null = null;
  let session: PushSession | null = null;

  // Pushes are made under this process's lock. Should its connection drop, others may take the listings
  // over: calls under way are abandoned at once (their outcome becomes uncertain), nothing is claimed until
  // a new lock, under a new name, is held.
  const takeLock = async () => {
    const next = await holdProcessLock(deps.databaseUrl);
    const controller = new AbortController();
    lock = next;
    session = { processId: next.processId, signal: controller.signal };
    next.onLost((err) => {
      session = null;
      controller.abort(new Error('The stock sync lost its process lock.'));
      logger.error({ err }, 'stock sync: the process lock was lost; pushes stop until it is held again');
      void retakeLock();
    });
  };
  const retakeLock = async () => {
    while (!stopping.signal.aborted) {
      try {
        await takeLock();
        logger.info('stock sync: the process lock is held again');
        return;
      } catch (err) {
        logger.warn({ err }, 'stock sync: the process lock cannot be taken yet');
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  };

  const pushers = new Map<string, ChannelPusher>();
  const pusherFor = (channelId: string) => {
    let pusher = pushers.get(channelId);
    if (!pusher) {
      pusher = new ChannelPusher(channelId, {
        pool,
        session: () => session,
        clientFor: deps.clientFor,
        defaultBaseUrl: deps.defaultBaseUrl,
        sealer: deps.sealer,
        metrics: deps.metrics,
        logger,
        settings,
        room: () => {
          let held = 0;
          for (const other of pushers.values()) held += other.held;
          return settings.concurrency - held;
        },
        stopping: stopping.signal,
      });
      pushers.set(channelId, pusher);
    }
    return pusher;
  };

  try {
    await takeLock();
  } catch (err) {
    unwatchPool();
    await pool.end().catch(() => {});
    throw err;
  }

  const sweep = async () => {
    const { rows } = await pool.query<{ enqueued: number }>(
      `select hub_stock_sync_enqueue(array(
         select cs.id from ${LISTING_FROM}
          where c.stock_sync and c.platform <> 'STOREFRONT'
            and ((cs.push_owner is null and cs.sync_state <> 'FAILED'
                  and (cs.uncertain or cs.sync_state <> 'IN_SYNC' or cs.confirmed is distinct from ${LISTING_TARGET}))
                 or (cs.push_owner is not null and ${staleClaim(1, 2)}))
            -- graphile-worker's own table: a listing whose job is waiting (and can still run) needs no other.
            and not exists (select 1 from ${JOB_QUEUE_SCHEMA}._private_jobs j
                             where j.key = 'stock-sync:' || cs.id and j.locked_at is null
                               and j.attempts < j.max_attempts)
       ), now()) as enqueued`,
      [settings.settleMs, settings.leaseMs],
    );
    // A job superseded while it ran is left with no attempts and no key: it can never run, so it goes.
    await pool.query(
      `delete from ${JOB_QUEUE_SCHEMA}._private_jobs
        where key is null and locked_at is null and attempts >= max_attempts
          and task_id = (select id from ${JOB_QUEUE_SCHEMA}._private_tasks where identifier = 'stock_sync')`,
    );
    // The push log is for looking back over recent weeks, not an archive: bounded per sweep.
    await pool.query(
      `delete from stock_push where id in (
         select id from stock_push where created_at < now() - make_interval(days => $1) limit 10000)`,
      [settings.pushLogRetentionDays],
    );
    return rows[0]?.enqueued ?? 0;
  };

  // The channels with due jobs, looked for at each poll interval: their pushers take the jobs from the queue
  // as their pace allows. A channel since deleted is woken too: its pusher takes its jobs and drops them.
  const wakeChannels = async () => {
    if (!session) {
      // No lock: each pusher sends what it holds back to the queue, for another process or for later.
      for (const pusher of pushers.values()) if (pusher.held) pusher.wake();
      return;
    }
    // Stock changes queue a job per product: each becomes its listings' jobs here, a bounded number a statement.
    for (let round = 0; round < FAN_OUT_ROUNDS; round++) {
      const fanned = await pool.query<{ products: number }>({
        name: 'stock-sync-fan-out',
        text: 'select hub_stock_sync_fan_out($1) as products',
        values: [FAN_OUT_BATCH],
      });
      if (fanned.rows[0].products < FAN_OUT_BATCH) break;
    }
    const { rows } = await pool.query<{ channel_id: string }>({
      name: 'stock-sync-due-channels',
      text: `select distinct j.payload->>'channelId' as channel_id from ${JOB_QUEUE_SCHEMA}._private_jobs j
              where j.is_available and j.job_queue_id is null and j.run_at <= now() and j.key like 'stock-sync:%'`,
      values: [],
    });
    for (const row of rows) pusherFor(row.channel_id).wake();
  };
  let wakeTimer: NodeJS.Timeout | null = null;
  let waking: Promise<unknown> = Promise.resolve();
  const scheduleWake = () => {
    if (stopping.signal.aborted) return;
    wakeTimer = setTimeout(() => {
      waking = wakeChannels()
        .catch((err: unknown) => logger.warn({ err }, 'stock sync: looking for due jobs failed'))
        .finally(scheduleWake);
    }, settings.pollIntervalMs);
  };
  if (settings.concurrency > 0) scheduleWake();

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
    sweep,
    async stop() {
      stopping.abort(new Error('The hub is stopping.'));
      if (sweepTimer) clearTimeout(sweepTimer);
      if (wakeTimer) clearTimeout(wakeTimer);
      await Promise.all([sweeping, waking]);
      // Waits for the calls under way; listings held and not sent go back to the queue for another process.
      await Promise.all([...pushers.values()].map((pusher) => pusher.settled()));
      await (lock as ProcessLock | null)?.release();
      unwatchPool();
      await pool.end();
    },
  };
}
