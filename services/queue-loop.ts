import pg from 'pg';
import type { Logger } from '../server/logger.js';
import { holdProcessLock, type ProcessLock } from './process-lock.js';

/**
 * What the hub's senders of queued work (webhooks, customer notices) share: the process lock their claims are
 * made under, and the loop that wakes them. Each sender keeps its own statements; this is only the plumbing.
 */

export interface RetakingLock {
  /** The lock held now; null while it is being taken again (nothing may be claimed then). */
  current(): ProcessLock | null;
  release(): Promise<void>;
}

/**
 * This process's lock, taken again under a new name should its connection drop: what was claimed under the
 * old name is then another process's to take over, and this one claims nothing until it holds the new one.
 */
export async function holdRetakingLock(deps: {
  databaseUrl: string;
  logger: Logger;
  label: string;
  stopping: AbortSignal;
}): Promise<RetakingLock> {
  const { logger, label } = deps;
  let lock: ProcessLock | null = null;
  const take = async (): Promise<void> => {
    const next = await holdProcessLock(deps.databaseUrl);
    lock = next;
    next.onLost((err) => {
      lock = null;
      logger.error({ err }, `${label}: the process lock was lost; nothing is taken until it is held again`);
      void retake();
    });
  };
  const retake = async (): Promise<void> => {
    while (!deps.stopping.aborted) {
      try {
        await take();
        logger.info(`${label}: the process lock is held again`);
        return;
      } catch (err) {
        logger.warn({ err }, `${label}: the process lock cannot be taken yet`);
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  };
  await take();
  return {
    current: () => lock,
    async release() {
      await (lock as ProcessLock | null)?.release();
    },
  };
}

export interface QueueLoop {
  /** Ends the timers and the listener, and waits for a sweep under way. */
  stop(): Promise<void>;
}

/**
 * Calls `take` when graphile-worker announces new jobs (`jobs:insert`) and every `pollIntervalMs` (retries
 * coming due, a wake-up missed), and `sweep` at once and every `sweepIntervalMs`: at once, so what a killed
 * process left claimed goes out without waiting for the first interval.
 */
export async function startQueueLoop(deps: {
  databaseUrl: string;
  logger: Logger;
  label: string;
  take: () => void;
  sweep: () => Promise<number>;
  pollIntervalMs: number;
  sweepIntervalMs: number;
}): Promise<QueueLoop> {
  const { logger, label } = deps;
  const listener = new pg.Client({
    connectionString: deps.databaseUrl,
    application_name: `order-hub-${label}-listen`,
  });
  listener.on('error', (err) => logger.warn({ err }, `${label}: the job listener was lost; polling goes on`));
  listener.on('notification', () => deps.take());
  try {
    await listener.connect();
    await listener.query(`listen "jobs:insert"`);
  } catch (err) {
    logger.warn({ err }, `${label}: cannot listen for new jobs; polling only`);
  }
  const poll = setInterval(() => deps.take(), deps.pollIntervalMs);
  let sweeping: Promise<unknown> = Promise.resolve();
  const runSweep = () => {
    sweeping = deps
      .sweep()
      .then((n) => {
        if (n) logger.info({ queued: n }, `${label}: work left without a job queued again`);
      })
      .catch((err: unknown) => logger.warn({ err }, `${label}: sweep failed`));
  };
  const sweepTimer = setInterval(runSweep, deps.sweepIntervalMs);
  runSweep();
  deps.take();
  return {
    async stop() {
      clearInterval(poll);
      clearInterval(sweepTimer);
      await listener.end().catch(() => {});
      await sweeping;
    },
  };
}

/**
 * `run`, never twice at once: a call while it runs makes it run once more when it ends (new jobs may have
 * come meanwhile), however many calls came.
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      running = false;
    }
  };
}
