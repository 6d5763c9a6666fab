// `npm run reconcile -- --file counts.csv [--tolerance 3]`: compares physical counts with the system's stock.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Cron } from 'croner';
import { RequestContext, type HubServices } from '../services/context.js';
import { HubError } from '../common/errors.js';
import {
  DEFAULT_TOLERANCE_PERCENT,
  formatPercent,
  readStockCountsCsv,
  reconcileInventory,
  runScheduledReconciliation,
  type ReconciliationResult,
  type ScheduledOutcome,
} from '../services/reconciliation.js';
import { argsOrExit, isMain, runCli, UsageError } from './cli.js';
import type { Logger } from './logger.js';

export const USAGE = 'Usage: npm run reconcile -- --file <counts.csv> [--tolerance <percent, default 3>]';

export interface ReconcileArgs {
  file: string;
  tolerancePercent: number;
}

export { UsageError };

/** The command line's options; a missing, unknown or malformed one is a UsageError. */
export function parseReconcileArgs(argv: string[]): ReconcileArgs {
  let values: { file?: string; tolerance?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: 'string' },
        tolerance: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.file) throw new UsageError('--file is required.');
  const tolerancePercent =
    values.tolerance === undefined ? DEFAULT_TOLERANCE_PERCENT : Number(values.tolerance);
  if (values.tolerance?.trim() === '' || !Number.isFinite(tolerancePercent)) {
    throw new UsageError(`--tolerance must be a number of percent, not "${values.tolerance}".`);
  }
  return { file: values.file, tolerancePercent };
}

export function formatSummary(report: ReconciliationResult, source: string): string[] {
  const out = [
    `Reconciled ${source} against the system's on-hand stock (tolerance ${report.tolerancePercent}%); ` +
      `report ${report.id}. Stock was not changed.`,
    `  lines       ${report.lines.length}`,
    `  mismatches  ${report.mismatches}`,
  ];
  const mismatched = report.lines.filter((l) => l.mismatch);
  if (mismatched.length) {
    const width = Math.max(...mismatched.map((l) => l.productCode.length));
    out.push('Mismatches (a RECONCILIATION_MISMATCH alert was stored for each):');
    for (const l of mismatched) {
      out.push(
        `  ${l.productCode.padEnd(width)}  system ${l.systemOnHand}, counted ${l.physicalCount}  ` +
          `(${formatPercent(l.differencePercent)})`,
      );
    }
  }
  return out;
}

/**
 * The command: 0 when the reconciliation was made (mismatches are listed, they are its result, not a
 * failure); 1 when it could not be (no such file, bad rows, an unknown product), with nothing stored.
 */
export async function runReconcile(
  ctx: RequestContext,
  args: ReconcileArgs,
  io: { out(line: string): void; err(line: string): void },
): Promise<number> {
  const info = await stat(args.file).catch(() => null);
  if (!info?.isFile()) {
    io.err(`No such file: ${args.file}`);
    return 1;
  }
  try {
    const counts = await readStockCountsCsv(createReadStream(args.file));
    const report = await reconcileInventory(ctx, counts, args.tolerancePercent);
    for (const line of formatSummary(report, basename(args.file))) io.out(line);
    return 0;
  } catch (err) {
    if (!(err instanceof HubError)) throw err;
    io.err(`Not reconciled (nothing stored): ${err.message}`);
    return 1;
  }
}

/**
 * Every day at `at` (HH:MM) in `timeZone`, daylight saving included: a time that a spring-forward
 * skips runs at the first minute after the gap, one that repeats in autumn runs once. `protect`:
 * a run still going when the next is due makes that one skip, so a run never overlaps itself.
 */
export function dailySchedule(at: string, timeZone: string): Cron {
  const [hour, minute] = at.split(':').map(Number);
  // A timer never keeps the process alive on its own.
  return new Cron(`${minute} ${hour} * * *`, { timezone: timeZone, protect: true, unref: true });
}

export interface DailyReconciliationOptions {
  orm: MikroORM;
  logger: Logger;
  hub: HubServices;
  /** HH:MM in `timeZone`. */
  at: string;
  timeZone: string;
  countsFile: string;
}

/** One scheduled run for `slot`: reads the counts file and reconciles; never throws, logs what happened. */
export async function runDailyReconciliation(
  options: Omit<DailyReconciliationOptions, 'at' | 'timeZone'>,
  slot: Date,
): Promise<ScheduledOutcome | null> {
  const logger = options.logger.child({ job: 'reconcile', slot: slot.toISOString() });
  try {
    const counts = await readStockCountsCsv(createReadStream(options.countsFile));
    const ctx = RequestContext.system(options.orm.em.fork(), logger, options.hub, 'reconcile');
    const outcome = await runScheduledReconciliation(ctx, { counts, slot });
    if (outcome.ran) {
      const { report } = outcome;
      logger[report.mismatches ? 'warn' : 'info'](
        { reportId: report.id, lines: report.lines.length, mismatches: report.mismatches },
        `daily reconciliation of ${options.countsFile}: ${report.mismatches} mismatches`,
      );
    } else logger.info(`daily reconciliation skipped: ${outcome.reason}`);
    return outcome;
  } catch (err) {
    logger.error({ err }, `daily reconciliation of ${options.countsFile} failed; it runs again tomorrow`);
    return null;
  }
}

/** Runs the reconciliation every day at `at` in `timeZone`, until the signal aborts. */
export function startDailyReconciliation(options: DailyReconciliationOptions, signal: AbortSignal) {
  let running: Promise<unknown> | null = null;
  const schedule = dailySchedule(options.at, options.timeZone);
  schedule.schedule(async () => {
    // The slot is the schedule's time, not the moment the timer fired: processes that fire a little
    // apart must name the same slot. previousRuns is strictly before its reference, hence the 1 ms.
    const [slot] = schedule.previousRuns(1, new Date(Date.now() + 1));
    running = runDailyReconciliation(options, slot);
    await running;
    running = null;
  });
  signal.addEventListener('abort', () => schedule.stop(), { once: true });
  options.logger.info(
    { job: 'reconcile', next: schedule.nextRun()?.toISOString() },
    'daily reconciliation scheduled',
  );
  return {
    /** Resolves once a run in flight has finished. */
    async stopped() {
      await running;
    },
  };
}

if (isMain(import.meta.url)) {
  const args = argsOrExit(parseReconcileArgs, USAGE);
  await runCli(async ({ ctx }) =>
    runReconcile(ctx, args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  );
}
