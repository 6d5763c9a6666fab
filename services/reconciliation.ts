import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CsvError, parse } from 'csv-parse';
import { StockAlertKind } from '../common/enums.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { raiseAlert } from './stock.js';

/**
 * Stock reconciliation: physical counts compared with the system's `onHand`. It reports and alerts, it
 * never changes stock (corrections go through `adjustStock`, with a reason and a movement row).
 *
 * - `differencePercent = (physical - system) / system * 100`. When the system says 0: 0 if the count is
 *   0 too, 100 if anything was counted (stock the system does not know of is a full difference).
 * - A line is a mismatch when `|differencePercent| > tolerancePercent`, so a difference of exactly the
 *   tolerance is not one. The comparison is made in whole numbers (`|diff| * 100 > tolerance * system`),
 *   free of floating-point rounding at the boundary.
 * - Lines come back, and are stored, in the order of the counts given (`lineNo` 1, 2, ...).
 */

export const DEFAULT_TOLERANCE_PERCENT = 3;
/** Counts in one reconciliation; a warehouse bigger than this reconciles in parts. */
export const MAX_COUNTS = 100_000;
/** Bad CSV rows listed in one error; the rest are counted. */
const MAX_LISTED_ROW_ERRORS = 20;

export interface StockCount {
  productCode: string;
  physicalCount: number;
}

export interface ReconciliationLineResult {
  lineNo: number;
  productCode: string;
  systemOnHand: number;
  physicalCount: number;
  differencePercent: number;
  mismatch: boolean;
}

export interface ReconciliationResult {
  id: string;
  tolerancePercent: number;
  mismatches: number;
  createdAt: Date;
  /** In the order of the counts given. */
  lines: ReconciliationLineResult[];
}

/** The signed difference of a count from the system's figure, in percent of the system's figure. */
export function differencePercent(systemOnHand: number, physicalCount: number): number {
  if (systemOnHand === 0) return physicalCount === 0 ? 0 : 100;
  return ((physicalCount - systemOnHand) * 100) / systemOnHand;
}

/** `|differencePercent| > tolerancePercent`, without rounding error at the boundary. */
export function isMismatch(systemOnHand: number, physicalCount: number, tolerancePercent: number): boolean {
  if (systemOnHand === 0) return physicalCount !== 0 && 100 > tolerancePercent;
  return Math.abs(physicalCount - systemOnHand) * 100 > tolerancePercent * systemOnHand;
}

/** Compares the counts with the system's on-hand figures, stores the report and alerts on each mismatch. */
export async function reconcileInventory(
  ctx: RequestContext,
  counts: StockCount[],
  tolerancePercent: number = DEFAULT_TOLERANCE_PERCENT,
): Promise<ReconciliationResult> {
  validate(counts, tolerancePercent);
  const result = await ctx.em.transactional((tx) => reconcileIn(tx, counts, tolerancePercent));
  ctx.logger.info(
    { reportId: result.id, lines: result.lines.length, mismatches: result.mismatches },
    'inventory reconciled',
  );
  return result;
}

function validate(counts: StockCount[], tolerancePercent: number) {
  if (!Number.isFinite(tolerancePercent) || tolerancePercent < 0 || tolerancePercent > 100) {
    throw new BadUserInputError('tolerancePercent must be between 0 and 100.', 'tolerancePercent');
  }
  if (counts.length === 0) throw new BadUserInputError('counts must not be empty.', 'counts');
  if (counts.length > MAX_COUNTS) {
    throw new BadUserInputError(
      `At most ${MAX_COUNTS} counts in one reconciliation; ${counts.length} given.`,
      'counts',
    );
  }
  const seen = new Set<string>();
  counts.forEach((count, i) => {
    if (!count.productCode.trim()) {
      throw new BadUserInputError(`counts[${i}].productCode must not be empty.`, `counts.${i}.productCode`);
    }
    if (!Number.isSafeInteger(count.physicalCount) || count.physicalCount < 0) {
      throw new BadUserInputError(
        `counts[${i}].physicalCount for "${count.productCode}" must be a whole number of 0 or more.`,
        `counts.${i}.physicalCount`,
      );
    }
    if (seen.has(count.productCode)) {
      throw new BadUserInputError(
        `"${count.productCode}" is counted twice; give one count per product.`,
        `counts.${i}.productCode`,
      );
    }
    seen.add(count.productCode);
  });
}

interface SystemRow {
  line_no: number;
  product_code: string;
  physical_count: number;
  product_id: string | null;
  on_hand: number | null;
  available: number | null;
}

async function reconcileIn(
  tx: EntityManager,
  counts: StockCount[],
  tolerancePercent: number,
): Promise<ReconciliationResult> {
  // One statement reads every counted product's figures, in the order of the counts.
  const rows = await tx.execute<SystemRow[]>(
    `with c as (select (e.v->>'productCode') as product_code, (e.v->>'physicalCount')::int as physical_count,
                       e.ord::int as line_no
                from jsonb_array_elements(?::jsonb) with ordinality as e(v, ord))
     select c.line_no, c.product_code, c.physical_count, p.id as product_id,
            coalesce(i.on_hand, 0) as on_hand, coalesce(i.on_hand - i.reserved, 0) as available
     from c left join product p on p.product_code = c.product_code
            left join inventory_item i on i.product_id = p.id
     order by c.line_no`,
    [JSON.stringify(counts.map((c) => ({ productCode: c.productCode, physicalCount: c.physicalCount })))],
  );
  const unknown = rows.find((r) => r.product_id === null);
  if (unknown) throw new NotFoundError('Product', unknown.product_code);

  const lines: ReconciliationLineResult[] = rows.map((r) => ({
    lineNo: r.line_no,
    productCode: r.product_code,
    systemOnHand: r.on_hand ?? 0,
    physicalCount: r.physical_count,
    differencePercent: differencePercent(r.on_hand ?? 0, r.physical_count),
    mismatch: isMismatch(r.on_hand ?? 0, r.physical_count, tolerancePercent),
  }));
  const mismatches = lines.filter((l) => l.mismatch).length;

  const id = randomUUID();
  const [report] = await tx.execute<{ created_at: Date }[]>(
    `insert into reconciliation_report (id, tolerance_percent, mismatches) values (?, ?, ?) returning created_at`,
    [id, tolerancePercent, mismatches],
  );
  // All lines in one statement, whatever their number (no bind-parameter limit).
  await tx.execute(
    `insert into reconciliation_line
       (report_id, line_no, product_code, system_on_hand, physical_count, difference_percent, mismatch)
     select ?, l.line_no, l.product_code, l.system_on_hand, l.physical_count, l.difference_percent, l.mismatch
     from jsonb_to_recordset(?::jsonb) as l(line_no int, product_code text, system_on_hand int,
                                            physical_count int, difference_percent float8, mismatch boolean)`,
    [
      id,
      JSON.stringify(
        lines.map((l) => ({
          line_no: l.lineNo,
          product_code: l.productCode,
          system_on_hand: l.systemOnHand,
          physical_count: l.physicalCount,
          difference_percent: l.differencePercent,
          mismatch: l.mismatch,
        })),
      ),
    ],
  );
  for (const [i, line] of lines.entries()) {
    if (!line.mismatch) continue;
    await raiseAlert(tx, {
      kind: StockAlertKind.RECONCILIATION_MISMATCH,
      productId: rows[i].product_id,
      productCode: line.productCode,
      available: rows[i].available ?? 0,
      message:
        `Physical count of "${line.productCode}" is ${line.physicalCount}, the system has ${line.systemOnHand} ` +
        `on hand (${formatPercent(line.differencePercent)}, tolerance ${tolerancePercent}%).`,
    });
  }
  return { id, tolerancePercent, mismatches, createdAt: new Date(report.created_at), lines };
}

export function formatPercent(value: number): string {
  return `${value > 0 ? '+' : ''}${Number(value.toFixed(2))}%`;
}

/**
 * Reads counts from CSV: a header row naming `product_code` and `physical_count` (or `productCode` and
 * `physicalCount`), in any order among other columns, then one row per product. Blank rows are skipped.
 * Bad rows are refused together, each named by its row number as a spreadsheet shows it (header = 1).
 */
export async function readStockCountsCsv(input: string | NodeJS.ReadableStream): Promise<StockCount[]> {
  const parser = parse({
    bom: true,
    trim: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: 64 * 1024,
  });
  const source = typeof input === 'string' ? Readable.from([input]) : input;
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);

  const counts: StockCount[] = [];
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (row: number, message: string) => {
    if (problems.length < MAX_LISTED_ROW_ERRORS) problems.push(`row ${row}: ${message}`);
    problemCount++;
  };
  let columns: { code: number; count: number } | null = null;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row++;
      if (record.every((cell) => cell === '')) continue;
      if (!columns) {
        const find = (...names: string[]) =>
          record.findIndex((h) => names.includes(h.replace(/[\s-]/g, '_').toLowerCase()));
        columns = {
          code: find('product_code', 'productcode'),
          count: find('physical_count', 'physicalcount'),
        };
        if (columns.code < 0 || columns.count < 0) {
          throw new BadUserInputError(
            'The counts file needs a header row with the columns product_code and physical_count ' +
              `(found: ${record.join(', ') || 'nothing'}).`,
            'file',
          );
        }
        continue;
      }
      const productCode = record[columns.code] ?? '';
      const raw = record[columns.count] ?? '';
      const physicalCount = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!productCode) problem(row, 'product_code is empty.');
      else if (!Number.isSafeInteger(physicalCount)) {
        problem(row, `physical_count "${raw}" of "${productCode}" is not a whole number of 0 or more.`);
      } else counts.push({ productCode, physicalCount });
    }
  } catch (err) {
    if (err instanceof CsvError)
      throw new BadUserInputError(`The counts file cannot be read: ${err.message}`);
    throw err;
  }
  if (!columns) throw new BadUserInputError('The counts file is empty.', 'file');
  if (problemCount) {
    const more = problemCount > problems.length ? `\n  and ${problemCount - problems.length} more` : '';
    throw new BadUserInputError(`The counts file has bad rows:\n  ${problems.join('\n  ')}${more}`, 'file');
  }
  return counts;
}

export type ScheduledOutcome =
  | { ran: true; report: ReconciliationResult }
  | { ran: false; reason: 'another process is running it' | 'already done for this time slot' };

/**
 * The daily reconciliation, safe with several hub processes: the first to take the advisory lock runs it,
 * and a process that comes later finds a report made since the slot's time and does not run it again.
 */
export async function runScheduledReconciliation(
  ctx: RequestContext,
  job: { counts: StockCount[]; tolerancePercent?: number; slot: Date },
): Promise<ScheduledOutcome> {
  const tolerancePercent = job.tolerancePercent ?? DEFAULT_TOLERANCE_PERCENT;
  validate(job.counts, tolerancePercent);
  return ctx.em.transactional(async (tx): Promise<ScheduledOutcome> => {
    const [lock] = await tx.execute<{ locked: boolean }[]>(
      `select pg_try_advisory_xact_lock(hashtextextended('order-hub:reconcile', 0)) as locked`,
    );
    if (!lock?.locked) return { ran: false, reason: 'another process is running it' };
    const done = await tx.execute(`select 1 from reconciliation_report where created_at >= ? limit 1`, [
      job.slot,
    ]);
    if (done.length) return { ran: false, reason: 'already done for this time slot' };
    return { ran: true, report: await reconcileIn(tx, job.counts, tolerancePercent) };
  });
}
