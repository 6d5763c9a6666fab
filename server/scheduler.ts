import type { MikroORM } from '@mikro-orm/postgresql';
import { Channel } from '../entities/index.js';
import { ConnectorHealth } from '../common/enums.js';
import { RequestContext, type HubServices } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { foldSalesChanges, raiseVolumeAlerts } from '../services/reports.js';
import { judgeVelocity } from '../services/risk.js';
import {
  heartbeat,
  type HeartbeatReport,
  type PollReport,
  isPollable,
  pollChannel,
  withChannelLock,
} from '../services/polling.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';
import { startDailyReconciliation } from './reconcile.js';

/**
 * The hub's timed work: polling the channels that pull their orders, and the heartbeat of their platform
 * connections. A job never overlaps itself in a process (the next run is timed from the end of the last),
 * and an advisory lock per job and channel keeps two hub processes off the same channel at once.
 */

export interface Scheduler {
  /** Stops the timers, stops in-flight runs at their next safe point and waits for them. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  orm: MikroORM;
  logger: Logger;
  /** The hub whose work this is: its settings, and its platform clients for polls and heartbeats. */
  hub: HubServices;
  /** 0 turns the job off. */
  pollIntervalMs: number;
  heartbeatIntervalMs: number;
  /** How often expired stock holds are released. */
  sweepIntervalMs?: number;
  /** How often the appended sales changes are folded into the hourly sums the reports read. */
  salesRollupIntervalMs?: number;
  /** How often the hub looks for channels whose order volume strays (VOLUME_ANOMALY alerts). */
  volumeCheck?: { intervalMs: number; tolerancePercent: number; minBaseline: number } | null;
  /** How often the hub looks for windows to judge for the VELOCITY risk rule (one judgement per window). */
  velocityCheckIntervalMs?: number;
  /** Delay before each job's first run; by default it runs at once, so health is known soon after a start. */
  firstRunDelayMs?: number;
  /** Channels one job works on at the same time; each holds a pool connection for its lock. */
  concurrency?: number;
  /** The daily reconciliation: at HH:MM in the time zone, of the counts in the CSV file; absent: off. */
  reconcile?: { at: string; timeZone: string; countsFile: string } | null;
}

type JobName = 'poll' | 'heartbeat';

export function startScheduler(options: SchedulerOptions): Scheduler {
  const stopping = new AbortController();
  const { signal } = stopping;
  const jobs = [
    startJob('poll', options.pollIntervalMs, options, signal, () => runJob('poll', options, signal)),
    startJob('heartbeat', options.heartbeatIntervalMs, options, signal, () =>
      runJob('heartbeat', options, signal),
    ),
    startJob('sweep', options.sweepIntervalMs ?? 0, options, signal, () => sweepHolds(options)),
    startJob('sales-rollup', options.salesRollupIntervalMs ?? 0, options, signal, () => rollUpSales(options)),
    ...(options.volumeCheck
      ? [
          startJob('volume-check', options.volumeCheck.intervalMs, options, signal, () =>
            checkVolume(options, options.volumeCheck!),
          ),
        ]
      : []),
    startJob('velocity-check', options.velocityCheckIntervalMs ?? 0, options, signal, () =>
      checkVelocity(options),
    ),
    ...(options.reconcile ? [startDailyReconciliation({ ...options, ...options.reconcile }, signal)] : []),
  ];
  return {
    async stop() {
      stopping.abort();
      await Promise.all(jobs.map((job) => job.stopped()));
    },
  };
}

/** The scheduler as the hub runs it, from its configuration, with the hub's services. */
export function startHubScheduler(deps: {
  config: HubConfig;
  logger: Logger;
  orm: MikroORM;
  hub: HubServices;
}): Scheduler {
  const { config } = deps;
  return startScheduler({
    orm: deps.orm,
    logger: deps.logger.child({ component: 'scheduler' }),
    hub: deps.hub,
    pollIntervalMs: config.pollIntervalSeconds * 1000,
    heartbeatIntervalMs: config.heartbeatIntervalSeconds * 1000,
    sweepIntervalMs: config.sweepIntervalSeconds * 1000,
    salesRollupIntervalMs: config.salesRollupIntervalSeconds * 1000,
    volumeCheck: {
      intervalMs: config.volumeCheckIntervalSeconds * 1000,
      tolerancePercent: config.volumeTolerancePercent,
      minBaseline: config.volumeMinBaseline,
    },
    velocityCheckIntervalMs: config.velocityCheckIntervalSeconds * 1000,
    reconcile:
      config.reconcileAt && config.reconcileCountsFile
        ? {
            at: config.reconcileAt,
            timeZone: config.reconcileTimeZone,
            countsFile: config.reconcileCountsFile,
          }
        : null,
  });
}

function startJob(
  name: string,
  intervalMs: number,
  options: SchedulerOptions,
  signal: AbortSignal,
  run: () => Promise<void>,
) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      timer = null;
      running = run().finally(() => {
        running = null;
        if (!signal.aborted) schedule(intervalMs);
      });
    }, delayMs);
    // A timer never keeps the process alive on its own.
    timer.unref();
  };
  if (intervalMs > 0) {
    schedule(options.firstRunDelayMs ?? 0);
    options.logger.info({ job: name, intervalSeconds: intervalMs / 1000 }, `${name} job scheduled`);
  }
  return {
    async stopped() {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

/** Releases expired holds (several processes may sweep at once: each takes rows the others have not locked). */
async function sweepHolds(options: SchedulerOptions): Promise<void> {
  const logger = options.logger.child({ job: 'sweep' });
  try {
    const expired = await expireHolds(
      RequestContext.system(options.orm.em.fork(), logger, options.hub, 'sweep'),
    );
    if (expired > 0) logger.info({ expired }, 'expired stock holds released');
  } catch (err) {
    logger.error({ err }, 'releasing expired holds failed; the next sweep tries again');
  }
}

/** Folds the sales and refund changes appended since the last run into the hourly sums (one process at a time). */
async function rollUpSales(options: SchedulerOptions): Promise<void> {
  try {
    await foldSalesChanges(options.orm.em.fork());
  } catch (err) {
    options.logger.error(
      { err, job: 'sales-rollup' },
      'folding sales changes failed; the next run tries again',
    );
  }
}

/** Stores a VOLUME_ANOMALY alert for each channel whose last whole hours strayed from its baseline. */
async function checkVolume(
  options: SchedulerOptions,
  settings: { tolerancePercent: number; minBaseline: number },
): Promise<void> {
  const logger = options.logger.child({ job: 'volume-check' });
  try {
    const raised = await raiseVolumeAlerts(options.orm.em.fork(), settings);
    if (raised > 0)
      logger.warn({ raised }, 'order volume strayed from its baseline: VOLUME_ANOMALY alerts raised');
  } catch (err) {
    logger.error({ err }, 'checking order volume failed; the next run tries again');
  }
}

/** Judges the velocity rule's windows that closed since the last run (services/risk.ts judgeVelocity). */
async function checkVelocity(options: SchedulerOptions): Promise<void> {
  const logger = options.logger.child({ job: 'velocity-check' });
  try {
    const judged = await judgeVelocity(options.orm.em.fork());
    if (judged.spikes > 0)
      logger.warn({ judged }, 'products sold far above their usual rate: VELOCITY flags raised');
    else if (judged.hours > 0) logger.debug({ judged }, 'velocity judged');
  } catch (err) {
    logger.error({ err }, 'judging velocity failed; the next run tries again');
  }
}

/** One run of a job over every pollable channel; never throws: each channel's failure is logged. */
async function runJob(name: JobName, options: SchedulerOptions, signal: AbortSignal): Promise<void> {
  const { orm, logger } = options;
  let channels: Channel[];
  try {
    channels = (await orm.em.fork().find(Channel, {}, { orderBy: { code: 'asc' } })).filter(isPollable);
  } catch (err) {
    logger.error({ err, job: name }, `${name} job: the channels could not be read`);
    return;
  }
  const queue = [...channels];
  const worker = async () => {
    for (let channel = queue.shift(); channel && !signal.aborted; channel = queue.shift()) {
      await runForChannel(name, channel, options, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 2, queue.length) }, worker));
}

async function runForChannel(
  name: JobName,
  channel: Channel,
  options: SchedulerOptions,
  signal: AbortSignal,
) {
  const logger = options.logger.child({ job: name, channel: channel.code });
  const ctx = RequestContext.system(options.orm.em.fork(), logger, options.hub, `${name}:${channel.code}`);
  const wasDown = channel.health === ConnectorHealth.DOWN;
  try {
    const outcome = await withChannelLock<PollReport | HeartbeatReport>(ctx.em, name, channel.id, () =>
      name === 'poll'
        ? pollChannel(ctx, channel, options.hub.platformClients, { signal })
        : heartbeat(ctx, channel, options.hub.platformClients, { signal }),
    );
    if (!outcome.acquired) {
      logger.debug(`${name} skipped: another hub process is on this channel`);
      return;
    }
    const report = outcome.value;
    if (report.error) {
      // The change to DOWN was logged as a warning once; a channel that stays down is not repeated as one.
      const quiet = signal.aborted || wasDown;
      logger[quiet ? 'info' : 'warn']({ report }, `${name} of ${channel.code} failed: ${report.error}`);
    } else if ('orders' in report && report.orders > 0) logger.info({ report }, `${name} of ${channel.code}`);
    else logger.debug({ report }, `${name} of ${channel.code}`);
  } catch (err) {
    logger.error({ err }, `${name} of ${channel.code} failed in the hub`);
  }
}
