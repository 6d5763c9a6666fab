import { BadUserInputError } from '../common/errors.js';
import { cleanCell } from './csv.js';

/*
 * The refund CSV backfill (docs/refunds-csv.md): one row per refund line in the hub's columns, the rows of one
 * refund next to each other. Each refund's rows become the storefront's canonical refund record
 * (connectors/refunds.ts storefrontRefund), which is what the ingest log keeps and the mapper reads.
 */

const REQUIRED = [
  'refund_id',
  'external_id',
  'kind',
  'status',
  'product_code',
  'quantity',
  'refund_amount',
  'requested_at',
] as const;
const OPTIONAL = [
  'currency',
  'updated_at',
  'reason_code',
  'reason_text',
  'return_tracking_number',
  'return_carrier',
] as const;

export type RefundCsvColumn = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

/** Where each column is in the file; an unknown header row is refused naming what it lacks. */
export function refundCsvColumns(header: readonly string[]): Map<RefundCsvColumn, number> {
  const names = header.map((h) => cleanCell(h).toLowerCase());
  const missing = REQUIRED.filter((c) => !names.includes(c));
  if (missing.length)
    throw new BadUserInputError(
      `The refund CSV lacks the column(s) ${missing.map((m) => `"${m}"`).join(', ')}.`,
    );
  const columns = new Map<RefundCsvColumn, number>();
  for (const c of [...REQUIRED, ...OPTIONAL]) if (names.includes(c)) columns.set(c, names.indexOf(c));
  return columns;
}

/**
 * One refund's rows as the storefront's refund record. The refund's own fields are read from its first row;
 * a quantity that is not a whole number is left as written, for the mapper to refuse naming the field.
 */
export function refundRecordFromRows(
  columns: Map<RefundCsvColumn, number>,
  rows: readonly (readonly string[])[],
): Record<string, unknown> {
  const cell = (row: readonly string[], c: RefundCsvColumn) => {
    const at = columns.get(c);
    const value = at === undefined ? '' : cleanCell(row[at]);
    return value === '' ? null : value;
  };
  const first = rows[0];
  const optional = (c: RefundCsvColumn, key: string) =>
    cell(first, c) === null ? {} : { [key]: cell(first, c) };
  return {
    refundId: cell(first, 'refund_id'),
    externalId: cell(first, 'external_id'),
    kind: cell(first, 'kind')?.toUpperCase() ?? null,
    status: cell(first, 'status')?.toUpperCase() ?? null,
    lines: rows.map((row) => {
      const quantity = cell(row, 'quantity');
      return {
        productCode: cell(row, 'product_code'),
        quantity: /^\d+$/.test(quantity ?? '') ? Number(quantity) : quantity,
      };
    }),
    refundAmount: cell(first, 'refund_amount'),
    currencyCode: cell(first, 'currency') ?? 'CNY',
    requestedAt: cell(first, 'requested_at'),
    ...optional('updated_at', 'updatedAt'),
    ...optional('reason_code', 'reasonCode'),
    ...optional('reason_text', 'reasonText'),
    ...optional('return_tracking_number', 'returnTrackingNumber'),
    ...optional('return_carrier', 'returnCarrier'),
  };
}
