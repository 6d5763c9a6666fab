import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import {
  detectCsvLayout,
  isBlankRow,
  orderKeyHeader,
  orderKeyOf,
  loggedCsvOrder,
  toCanonicalOrder,
  CsvRowError,
  type CsvLayout,
  type CsvRow,
} from '../connectors/csv.js';
import type { Channel } from '../entities/index.js';
import { IngestOutcome, IngestSource, OrderOrigin } from '../common/enums.js';
import { assertChannelAccess } from './access.js';
import { RequestContext } from './context.js';
import { BadUserInputError, HubError } from '../common/errors.js';
import { requireChannelByCode } from './channels.js';
import { ingestMany, type IngestItem, type IngestResult } from './order-gateway.js';

/**
 * CSV backfill: a file of orders (the hub's canonical columns or a platform's own export) streamed through
 * the ingestion gateway. Adjacent rows with the same order key are one order; orders go in batches (one
 * transaction each, `ingestMany`), a couple of batches in flight, and the file is read only as fast as they
 * are stored. Each order's rows go to the ingest log first; storing is idempotent on (channel, externalId),
 * so importing the same file again creates nothing.
 *
 * Row numbers are as a spreadsheet shows them: the header row is row 1, the first data row is row 2
 * (a quoted cell spanning lines is still one row).
 */

export interface ImportRowError {
  /** The row as a spreadsheet numbers it: header = 1, first data row = 2. */
  row: number;
  message: string;
}

export interface ImportReport {
  channelCode: string;
  /** Data rows read (blank rows not counted). */
  rows: number;
  /** Orders created. */
  created: number;
  /** Orders already known for (channel, externalId): not created twice (a newer status may still move them on). */
  duplicates: number;
  /** Orders not stored; each has at least one entry in `errors`. */
  failed: number;
  /** Each failure, by row; at most MAX_LISTED_ERRORS, the last entry then says how many more there were. */
  errors: ImportRowError[];
}

export interface ImportOptions {
  /** Backfill of orders whose stock was already accounted for: stock stays untouched. */
  historical: boolean;
  /** Called as orders finish, with the number of data rows done so far. */
  onProgress?(rowsDone: number): void;
  /** Batches stored at once (default 2); each holds one database connection while it is written. */
  concurrency?: number;
}

/** Orders stored in one transaction, and their lines at most (a bigger order goes alone). */
export const MAX_BATCH_ORDERS = 100;
const MAX_BATCH_LINES = 500;
/**
 * Batches being stored at once. More does not help on two cores, and more concurrent batches that take stock
 * deadlock now and then (their inventory updates do not lock products in one order), each costing a second.
 */
export const DEFAULT_CONCURRENCY = 2;
/** More rows than this under one order key is a file problem (unsorted, or no key), not an order. */
export const MAX_ROWS_PER_ORDER = 1000;
/** The report lists this many failures; the rest are counted. */
export const MAX_LISTED_ERRORS = 10_000;
/** One record (row) may not exceed this: a stray quote would otherwise swallow the file into one cell. */
const MAX_RECORD_BYTES = 1024 * 1024;

interface OrderGroup {
  key: string;
  rows: CsvRow[];
  /** Rows seen under this key, stored in `rows` or not (past MAX_ROWS_PER_ORDER, or refused). */
  rowCount: number;
  /** Why the whole group is refused before mapping. */
  problem: ImportRowError | null;
}

export async function importOrdersCsv(
  ctx: RequestContext,
  channelCode: string,
  input: string | NodeJS.ReadableStream,
  options: ImportOptions,
): Promise<ImportReport> {
  assertChannelAccess(ctx, channelCode);
  const channel = await requireChannelByCode(ctx.em, channelCode);
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const report: ImportReport = { channelCode, rows: 0, created: 0, duplicates: 0, failed: 0, errors: [] };
  let unlisted: ImportRowError | null = null;
  let unlistedCount = 0;
  let rowsDone = 0;

  const fail = (error: ImportRowError) => {
    if (report.errors.length < MAX_LISTED_ERRORS) report.errors.push(error);
    else {
      if (!unlisted || error.row < unlisted.row) unlisted = error;
      unlistedCount++;
    }
  };
  const progress = (rows: number) => {
    rowsDone += rows;
    options.onProgress?.(rowsDone);
  };

  const parser = parse({
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: MAX_RECORD_BYTES,
    // A record the parser cannot read (a quote never closed, a runaway record) comes as a 'skip' event after
    // the records before it, instead of an error that would drop those still buffered.
    skip_records_with_error: true,
  });
  /** The first row that cannot be read: reading stops there, nothing after it can be trusted. */
  const stop: { at: ImportRowError | null } = { at: null };
  parser.on('skip', (err: CsvError & { records?: number }) => {
    stop.at ??= {
      row: (err.records ?? 0) + 1,
      message: `The file cannot be read from this row on (${err.message}); this row and the rows after it were not imported.`,
    };
  });
  const source = typeof input === 'string' ? Readable.from([input]) : input;
  // Errors reach the loop below through the parser; pipeline destroys both ends when either stops.
  pipeline(source, parser, () => undefined);

  const inFlight = new Set<Promise<void>>();
  let batch: OrderGroup[] = [];
  let batchLines = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const groups = batch;
    batch = [];
    batchLines = 0;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const task = ingestBatch(ctx, channel, layout!, groups, options.historical).then((results) => {
      inFlight.delete(task);
      results.forEach((result) => {
        if ('errors' in result) {
          report.failed++;
          result.errors.forEach(fail);
        } else if (result.outcome === IngestOutcome.CREATED) report.created++;
        else report.duplicates++;
      });
      progress(groups.reduce((sum, g) => sum + g.rowCount, 0));
    });
    inFlight.add(task);
  };
  const submit = async (group: OrderGroup) => {
    if (batchLines + group.rows.length > MAX_BATCH_LINES) await flush();
    batch.push(group);
    batchLines += group.rows.length;
    if (batch.length >= MAX_BATCH_ORDERS) await flush();
  };

  let layout: CsvLayout | null = null;
  let rowNo = 0;
  let current: OrderGroup | null = null;
  /** Order keys whose rows have ended, and the row each started on: a key seen again is a split order. */
  const closed = new Map<string, number>();
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      rowNo++;
      if (stop.at && rowNo >= stop.at.row) break;
      if (!layout) {
        if (isBlankRow(cells)) continue;
        layout = detectCsvLayout(cells);
        if (layout.spec.platform && layout.spec.platform !== channel.platform) {
          throw new BadUserInputError(
            `This file is ${layout.spec.label}, but channel "${channel.code}" is a ${channel.platform} channel.`,
          );
        }
        continue;
      }
      if (isBlankRow(cells)) {
        continue;
      }
      report.rows++;
      const key = orderKeyOf(layout, cells);
      if (current && key && current.key === key) {
        current.rowCount++;
        if (current.rows.length < MAX_ROWS_PER_ORDER) current.rows.push({ row: rowNo, cells });
        else if (!current.problem) {
          current.problem = {
            row: current.rows[0].row,
            message: `Order "${key}" has more than ${MAX_ROWS_PER_ORDER} rows; it was not imported.`,
          };
        }
        continue;
      }
      if (current) {
        if (!closed.has(current.key)) closed.set(current.key, current.rows[0].row);
        await submit(current);
        current = null;
      }
      const row = { row: rowNo, cells };
      if (!key) {
        await submit({
          key,
          rows: [row],
          rowCount: 1,
          problem: {
            row: rowNo,
            message: `Column "${orderKeyHeader(layout)}" is empty: the row has no order.`,
          },
        });
        continue;
      }
      const seenAt = closed.get(key);
      current = {
        key,
        rows: [row],
        rowCount: 1,
        problem:
          seenAt === undefined
            ? null
            : {
                row: rowNo,
                message:
                  `The rows of order "${key}" are not together: it already appeared from row ${seenAt}, taken as an ` +
                  `order of its own. These rows were not imported; put each order's rows next to each other ` +
                  `(sort by "${orderKeyHeader(layout)}") and import the file again.`,
              },
      };
    }
    if (current) {
      // The unreadable row may have been one of this order's lines: better no order than half of one.
      if (stop.at && !current.problem) {
        current.problem = {
          row: current.rows[0].row,
          message: `Order "${current.key}" was not imported: row ${stop.at.row} after it cannot be read and may hold more of its lines.`,
        };
      }
      await submit(current);
    }
    await flush();
  } finally {
    await Promise.allSettled(inFlight);
  }

  if (!layout) {
    throw new BadUserInputError(
      stop.at?.message ?? 'The file has no header row: it needs one, then one row per order line.',
    );
  }
  if (stop.at) {
    report.failed++;
    fail(stop.at);
  }

  if (report.created > 0) {
    // A bulk load outruns autovacuum: until the tables are analyzed the planner plans for their old size (a
    // line lookup took 35 ms instead of 0.4 ms after 100,000 orders came in).
    await ctx.em.execute('analyze "order", order_line, order_event, ingest_log');
  }

  report.errors.sort((a, b) => a.row - b.row);
  if (unlistedCount > 0) {
    report.errors.push({
      row: unlisted!.row,
      message: `…and ${unlistedCount} more failure(s) not listed, the first of them on this row.`,
    });
  }
  return report;
}

interface Prepared {
  group: OrderGroup;
  item: IngestItem;
}

/**
 * A batch of orders: their rows logged in one statement, each mapped, then stored together by `ingestMany`
 * (one transaction). Never throws: each order comes back as its outcome or its row errors.
 */
async function ingestBatch(
  parent: RequestContext,
  channel: Channel,
  layout: CsvLayout,
  groups: OrderGroup[],
  historical: boolean,
): Promise<(Pick<IngestResult, 'outcome'> | { errors: ImportRowError[] })[]> {
  // A context of its own per batch: its identity map goes away with it, so memory stays flat over a big file.
  const ctx = new RequestContext({
    em: parent.em.fork(),
    principal: parent.principal,
    requestId: parent.requestId,
    logger: parent.logger,
    hub: parent.hub,
  });
  const results: (Pick<IngestResult, 'outcome'> | { errors: ImportRowError[] })[] = new Array(groups.length);
  const raws = groups.map((group) =>
    loggedCsvOrder(layout, group.rows, historical, group.problem?.message ?? null),
  );
  let logIds: string[];
  try {
    logIds = await logRows(ctx, channel.code, raws);
  } catch (err) {
    ctx.logger.error({ err }, 'CSV import: could not write the ingest log');
    return groups.map((group) => ({ errors: [internalError(group)] }));
  }

  const prepared: Prepared[] = [];
  const positions: number[] = [];
  for (const [i, group] of groups.entries()) {
    try {
      if (group.problem) throw group.problem;
      prepared.push({
        group,
        item: { order: toCanonicalOrder(layout, group.rows), logId: logIds[i], raw: raws[i] },
      });
      positions.push(i);
    } catch (err) {
      const error =
        err instanceof CsvRowError ? { row: err.row, message: err.message } : (err as ImportRowError);
      results[i] = { errors: [error] };
      await markFailed(ctx, logIds[i], error.message);
    }
  }

  const store = async (batch: Prepared[]) => {
    const stored = await ingestMany(
      ctx,
      channel,
      batch.map((p) => p.item),
      { origin: OrderOrigin.CSV, historical },
    );
    return stored.map((result, k) =>
      'error' in result
        ? { errors: [rowErrorOf(ctx, batch[k].group, result.error)] }
        : { outcome: result.outcome },
    );
  };
  if (prepared.length) {
    let stored: Awaited<ReturnType<typeof store>>;
    try {
      stored = await store(prepared);
    } catch {
      // One order the database refuses fails the whole transaction: store them one by one to find it.
      stored = [];
      for (const p of prepared) {
        try {
          stored.push(...(await store([p])));
        } catch (err) {
          const error = rowErrorOf(ctx, p.group, err);
          await markFailed(ctx, p.item.logId!, error.message);
          ctx.hub.metrics.ingested(channel.code, OrderOrigin.CSV, 'failed');
          stored.push({ errors: [error] });
        }
      }
    }
    stored.forEach((result, k) => (results[positions[k]] = result));
  }
  return results;
}

function internalError(group: OrderGroup): ImportRowError {
  return { row: group.rows[0].row, message: `Internal error storing order "${group.key}"; see the hub log.` };
}

/** An order's failure as the report shows it: its own message when the hub can tell, else a pointer to the log. */
function rowErrorOf(ctx: RequestContext, group: OrderGroup, err: unknown): ImportRowError {
  if (err instanceof HubError) return { row: group.rows[0].row, message: err.message };
  ctx.logger.error({ err, row: group.rows[0].row, externalId: group.key }, 'CSV import: order failed');
  return internalError(group);
}

/** Each order's source rows into the ingest log, in one statement; the ids come back in the rows' order. */
async function logRows(ctx: RequestContext, channelCode: string, raws: string[]): Promise<string[]> {
  const rows = await ctx.em.execute<{ id: string }[]>(
    `insert into ingest_log (channel_code, source, raw_body) values ${raws.map(() => '(?, ?, ?)').join(', ')}
     returning id`,
    raws.flatMap((raw) => [channelCode, IngestSource.CSV, raw]),
  );
  // Ids are drawn in the order the rows are inserted: sorted, they line up with `raws`.
  return rows
    .map((r) => BigInt(r.id))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(String);
}

/**
 * The ingest log row of an order that was not stored. (ingestMany records the failures it finds itself;
 * a CSV order's rows are mapped here.)
 */
async function markFailed(ctx: RequestContext, logId: string, message: string) {
  try {
    await ctx.em.execute(
      `update ingest_log set outcome = 'FAILED', error = ?, processed_at = now() where id = ?`,
      [message, logId],
    );
  } catch (err) {
    ctx.logger.warn({ err, ingestLogId: logId }, 'CSV import: could not mark the ingest log row failed');
  }
}
