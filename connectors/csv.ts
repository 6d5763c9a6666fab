import { OrderStatus, Platform } from '../common/enums.js';
import { BadUserInputError, PayloadMappingError } from '../common/errors.js';
import type { CanonicalLine, CanonicalOrder } from './canonical.js';
import { describe, Field, isoCode, line, orderTotal, type Money, type StatusTable } from './payload.js';

/*
 * CSV backfill layouts: the hub's own canonical columns and each platform's order export. Columns are
 * found by header name, in any order, with any other columns beside them; one row is one order line and
 * the rows of one order share its key column. Pure mapping, like every connector: rows in, canonical
 * order out, or a CsvRowError naming the row and the column.
 *
 * Cells are trimmed of spaces and tabs (exports prefix long ids with a tab so spreadsheets keep them as
 * text), and a spreadsheet's ="…" text wrapper is taken off. Times with an offset ("2026-01-05T12:15:02Z")
 * are read as given; local times ("2026-01-05 20:15:02", also "2026/1/5 20:15") are Asia/Shanghai.
 */

/** What a layout's columns can carry. */
export type CsvField =
  | 'externalId'
  | 'customerName'
  | 'phone'
  | 'province'
  | 'city'
  | 'district'
  | 'street'
  | 'address'
  | 'postalCode'
  | 'country'
  | 'productCode'
  | 'platformSkuId'
  | 'quantity'
  | 'unitPrice'
  | 'orderTotal'
  | 'currency'
  | 'placedAt'
  | 'paidAt'
  | 'status';

interface Column {
  header: string;
  /** The header must be in the file (its cells may still be blank where the field is optional). */
  required: boolean;
}

export interface CsvLayoutSpec {
  id: 'canonical' | 'douyin-export';
  /** For messages: "the hub's canonical columns", "a Douyin order export". */
  label: string;
  /** The platform whose channels send this export; null: any channel. */
  platform: Platform | null;
  columns: { externalId: Column } & Partial<Record<CsvField, Column>>;
  statuses: StatusTable;
  /** Read status words case-insensitively (the canonical names). */
  upperCaseStatus: boolean;
  /** How one order's rows that report different statuses combine; null: they must agree. */
  combineStatuses: ((statuses: OrderStatus[]) => OrderStatus) | null;
}

const req = (header: string): Column => ({ header, required: true });
const opt = (header: string): Column => ({ header, required: false });

/** The hub's own layout, one row per order line (see test/fixtures/channels/canonical.csv). */
export const CANONICAL_CSV: CsvLayoutSpec = {
  id: 'canonical',
  label: "the hub's canonical columns",
  platform: null,
  columns: {
    externalId: req('external_id'),
    customerName: req('customer_name'),
    phone: opt('phone'),
    province: opt('province'),
    city: opt('city'),
    district: opt('district'),
    address: req('address'),
    postalCode: opt('postal_code'),
    country: opt('country'),
    productCode: req('product_code'),
    platformSkuId: opt('platform_sku_id'),
    quantity: req('quantity'),
    unitPrice: req('unit_price'),
    orderTotal: opt('order_total'),
    currency: opt('currency'),
    placedAt: req('placed_at'),
    paidAt: opt('paid_at'),
    status: req('status'),
  },
  statuses: Object.fromEntries(Object.values(OrderStatus).map((s) => [s, s])),
  upperCaseStatus: true,
  combineStatuses: null,
};

/** Rank of a status among one order's sub-orders: the least advanced open one speaks for the order. */
const PROGRESS: Partial<Record<OrderStatus, number>> = {
  [OrderStatus.PENDING_PAYMENT]: 0,
  [OrderStatus.PAID]: 1,
  [OrderStatus.PACKED]: 2,
  [OrderStatus.SHIPPED]: 3,
  [OrderStatus.DELIVERED]: 4,
};

/**
 * Douyin (Doudian) order export: one row per sub-order (子订单), grouped by 主订单编号. Statuses are per
 * sub-order: an order with one sub-order shipped and one waiting is PAID (as the API's 101 "part shipped"),
 * closed sub-orders beside open ones do not close the order, and only all closed is CANCELLED.
 */
export const DOUYIN_EXPORT_CSV: CsvLayoutSpec = {
  id: 'douyin-export',
  label: 'a Douyin order export',
  platform: Platform.DOUYIN,
  columns: {
    externalId: req('主订单编号'),
    quantity: req('商品数量'),
    platformSkuId: req('商品ID'),
    productCode: req('商家编码'),
    unitPrice: req('商品单价'),
    orderTotal: req('订单应付金额'),
    customerName: req('收件人'),
    phone: opt('收件人手机号'),
    province: opt('省'),
    city: opt('市'),
    district: opt('区'),
    street: opt('街道'),
    address: req('详细地址'),
    placedAt: req('订单提交时间'),
    paidAt: opt('支付完成时间'),
    status: req('订单状态'),
  },
  statuses: {
    待支付: OrderStatus.PENDING_PAYMENT,
    待发货: OrderStatus.PAID,
    部分发货: OrderStatus.PAID,
    已发货: OrderStatus.SHIPPED,
    已完成: OrderStatus.DELIVERED,
    已关闭: OrderStatus.CANCELLED,
  },
  upperCaseStatus: false,
  combineStatuses(statuses) {
    const open = statuses.filter((s) => s in PROGRESS);
    if (open.length === 0) return statuses[0];
    return open.reduce((least, s) => (PROGRESS[s]! < PROGRESS[least]! ? s : least));
  },
};

export const CSV_LAYOUTS: readonly CsvLayoutSpec[] = [CANONICAL_CSV, DOUYIN_EXPORT_CSV];

/** A layout matched to one file's header row. */
export interface CsvLayout {
  spec: CsvLayoutSpec;
  /** The header row as in the file (trimmed). */
  header: readonly string[];
  /** Where each of the layout's fields is in this file; absent when an optional column is not there. */
  index: Partial<Record<CsvField, number>>;
}

/** One data row and its number as a spreadsheet shows it (the header row is row 1). */
export interface CsvRow {
  row: number;
  cells: readonly string[];
}

/** A row the layout cannot map: names the row and the column. */
export class CsvRowError extends BadUserInputError {
  constructor(
    readonly row: number,
    readonly column: string,
    problem: string,
  ) {
    super(`Column "${column}" ${problem}.`, column);
  }
}

const LIMITS = { text: 255, code: 128 } as const;
/** numeric(14,2): twelve digits before the point. */
const MAX_AMOUNT = 1e12;
const MAX_QUANTITY = 2 ** 31 - 1;

/** A cell as its value: trimmed of spaces and tabs, a spreadsheet's ="…" text wrapper taken off. */
export function cleanCell(cell: string | undefined): string {
  if (cell === undefined) return '';
  const trimmed = cell.trim();
  const wrapped = /^="(.*)"$/s.exec(trimmed);
  return wrapped ? wrapped[1].trim() : trimmed;
}

const normalHeader = (header: string) => header.trim().toLowerCase();

/** Matches a header row against the known layouts; an unknown header set names the columns it lacks. */
export function detectCsvLayout(headerCells: readonly string[]): CsvLayout {
  const header = headerCells.map((h) => h.trim());
  if (header.some((h) => h.includes('\uFFFD'))) {
    throw new BadUserInputError(
      'The header row is not UTF-8 text (a spreadsheet saved in a local encoding such as GBK?): save the file as "CSV UTF-8" and import it again.',
    );
  }
  const positions = new Map<string, number>();
  header.forEach((h, i) => {
    const key = normalHeader(h);
    if (key && !positions.has(key)) positions.set(key, i);
  });
  const candidates = CSV_LAYOUTS.map((spec) => {
    const index: Partial<Record<CsvField, number>> = {};
    const missing: string[] = [];
    for (const [field, column] of Object.entries(spec.columns) as [CsvField, Column][]) {
      const at = positions.get(normalHeader(column.header));
      if (at !== undefined) index[field] = at;
      else if (column.required) missing.push(column.header);
    }
    const required = Object.values(spec.columns).filter((c) => c.required).length;
    return { spec, index, missing, found: required - missing.length };
  });
  const match = candidates.find((c) => c.missing.length === 0);
  if (match) return { spec: match.spec, header, index: match.index };

  const closest = candidates.reduce((best, c) => (c.found > best.found ? c : best));
  const known = CSV_LAYOUTS.map(
    (spec) =>
      `${spec.label} (${Object.values(spec.columns)
        .filter((c) => c.required)
        .map((c) => c.header)
        .join(', ')})`,
  ).join('; ');
  throw new BadUserInputError(
    `The header row matches no CSV layout the hub reads. Closest is ${closest.spec.label}, which lacks the ` +
      `column(s) ${closest.missing.map((h) => `"${h}"`).join(', ')}. Columns are found by header name, in any ` +
      `order; the layouts and their required columns: ${known}.`,
  );
}

/** The order key of a row (canonical external_id, Douyin 主订单编号); '' when blank. */
export function orderKeyOf(layout: CsvLayout, cells: readonly string[]): string {
  return cleanCell(cells[layout.index.externalId!]);
}

export function orderKeyHeader(layout: CsvLayout): string {
  return layout.spec.columns.externalId.header;
}

export function isBlankRow(cells: readonly string[]): boolean {
  return cells.every((c) => !c.trim());
}

/** A row as header → cell, exactly as in the file: what the ingest log keeps. Cells past the header are kept by position. */
export function rowObject(layout: CsvLayout, cells: readonly string[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  cells.forEach((cell, i) => {
    const name = layout.header[i] || `column ${i + 1}`;
    if (!Object.hasOwn(out, name)) out[name] = cell;
  });
  return out;
}

interface OrderFields {
  externalId: string;
  status: OrderStatus;
  platformStatus: string;
  placedAt: Date;
  paidAt: Date | null;
  total: Money | null;
  currencyCode: string;
  country: string;
}

/** One row's mapped cells, as Fields whose path is the column's header. */
class RowReader {
  private readonly record: Field;

  constructor(
    private readonly layout: CsvLayout,
    readonly row: CsvRow,
  ) {
    const values: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [field, at] of Object.entries(layout.index) as [CsvField, number][]) {
      const header = this.header(field);
      const raw = row.cells[at];
      if (raw?.includes('\0')) throw new CsvRowError(row.row, header, 'contains a NUL character');
      let value = cleanCell(raw);
      if (field === 'status' && layout.spec.upperCaseStatus) value = value.toUpperCase();
      values[header] = value;
    }
    this.record = Field.root(values);
  }

  header(field: CsvField): string {
    return this.layout.spec.columns[field]!.header;
  }

  has(field: CsvField): boolean {
    return this.layout.index[field] !== undefined;
  }

  /** The column's field; null when the column is not in this file. */
  field(field: CsvField): Field | null {
    return this.has(field) ? this.record.get(this.header(field)) : null;
  }

  /** A column that is always there (the layout requires its header). */
  required(field: CsvField): Field {
    const f = this.field(field);
    if (!f) throw new CsvRowError(this.row.row, this.header(field), 'is not in the file');
    return f;
  }

  /** Trimmed text, or null when blank or the column is not in the file. */
  text(field: CsvField, max: number = LIMITS.text): string | null {
    const f = this.field(field);
    const text = f?.optionalText() ?? null;
    if (text !== null && text.length > max) f!.fail(`is longer than ${max} characters`);
    return text;
  }

  amount(f: Field): Money {
    const value = f.decimalText();
    if (value.greaterThanOrEqualTo(MAX_AMOUNT)) f.fail(`is too large: ${describe(f.value)}`);
    return value;
  }

  time(f: Field): Date {
    if (typeof f.value !== 'string') return f.shanghaiTime();
    const local = LOCAL_TIME.exec(f.value);
    if (!local) {
      if (ISO_WITH_OFFSET.test(f.value)) return f.isoTime();
      f.fail(
        `must be a time such as "2026-01-05 20:15:02" (Asia/Shanghai) or "2026-01-05T12:15:02Z", got ${describe(f.value)}`,
      );
    }
    const [, y, mo, d, h, mi, s] = local;
    const two = (v: string | undefined) => (v ?? '0').padStart(2, '0');
    return Field.root({ [f.path]: `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(mi)}:${two(s)}` })
      .get(f.path)
      .shanghaiTime();
  }

  line(): CanonicalLine {
    const productCode = this.text('productCode', LIMITS.code);
    const platformSkuId = this.text('platformSkuId', LIMITS.code);
    if (!productCode && !platformSkuId) {
      const sku = this.has('platformSkuId') ? `, and so is "${this.header('platformSkuId')}"` : '';
      this.required('productCode').fail(`is empty${sku}: a line needs a product`);
    }
    const quantityField = this.required('quantity');
    const quantity = quantityField.positiveInt({ fromString: true });
    if (quantity > MAX_QUANTITY) quantityField.fail(`is too large: ${quantity}`);
    const unitPrice = this.amount(this.required('unitPrice'));
    if (unitPrice.times(quantity).greaterThanOrEqualTo(MAX_AMOUNT)) {
      quantityField.fail(`times the unit price is too large an amount`);
    }
    return line(productCode, platformSkuId, quantity, unitPrice);
  }

  /** The order's own fields as this row states them. */
  orderFields(): OrderFields {
    const statusField = this.required('status');
    const status = statusField.lookup(this.layout.spec.statuses);
    // The layouts' tables hold no "keep as it was" entries: every status word moves the order somewhere.
    if (status === null) return statusField.fail(`has an unknown status ${describe(statusField.value)}`);
    const paid = this.field('paidAt')?.optional();
    const total = this.field('orderTotal')?.optional();
    const currency = this.field('currency')?.optional();
    const country = this.field('country')?.optional();
    return {
      externalId: this.required('externalId').text(),
      status,
      platformStatus: statusField.code(),
      placedAt: this.time(this.required('placedAt')),
      paidAt: paid ? this.time(paid) : null,
      total: total ? this.amount(total) : null,
      currencyCode: currency ? isoCode(upper(currency), 3) : 'CNY',
      country: country ? isoCode(upper(country), 2) : 'CN',
    };
  }
}

const LOCAL_TIME = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const ISO_WITH_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;

function upper(f: Field): Field {
  const value = typeof f.value === 'string' ? f.value.toUpperCase() : f.value;
  return Field.root({ [f.path]: value }).get(f.path);
}

/** Runs a step for one row, turning a field error into a CsvRowError that names the row. */
function onRow<T>(row: number, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof CsvRowError) throw err;
    if (err instanceof PayloadMappingError) {
      throw new CsvRowError(
        row,
        err.fieldPath,
        err.message.replace(/^Payload field "[^"]*" /, '').replace(/\.$/, ''),
      );
    }
    throw err;
  }
}

/**
 * The rows of one order (already grouped by its key, in file order) as one canonical order: the lines from
 * every row, the order's own fields from its first row. Every row is checked in full; the first problem is
 * thrown as a CsvRowError.
 */
export function toCanonicalOrder(layout: CsvLayout, rows: readonly CsvRow[]): CanonicalOrder {
  if (rows.length === 0) throw new Error('An order needs at least one row.');
  const spec = layout.spec;
  const lines: CanonicalLine[] = [];
  const statuses: OrderStatus[] = [];
  const words = new Set<string>();
  let head: { reader: RowReader; fields: OrderFields } | null = null;
  for (const row of rows) {
    const [reader, fields] = onRow(row.row, () => {
      const reader = new RowReader(layout, row);
      const fields = reader.orderFields();
      lines.push(reader.line());
      if (head) {
        const first = head.fields;
        if (spec.combineStatuses === null && fields.status !== first.status) {
          reader
            .required('status')
            .fail(
              `is ${describe(fields.platformStatus)} here but ${describe(first.platformStatus)} on row ${rows[0].row}: rows of one order must agree`,
            );
        }
        if (fields.currencyCode !== first.currencyCode) {
          reader
            .required('currency')
            .fail(
              `is ${fields.currencyCode} here but ${first.currencyCode} on row ${rows[0].row}: one order has one currency`,
            );
        }
      }
      return [reader, fields] as const;
    });
    head ??= { reader, fields };
    statuses.push(fields.status);
    words.add(fields.platformStatus);
  }
  const { reader, fields } = head!;
  return onRow(rows[0].row, () => {
    const customerName = reader.text('customerName') ?? '';
    const street = reader.text('street');
    const detail = reader.text('address', 10_000) ?? '';
    return {
      externalId: fields.externalId,
      status: spec.combineStatuses ? spec.combineStatuses(statuses) : fields.status,
      platformStatus: [...words].join('/'),
      customerName,
      shippingAddress: {
        name: customerName || null,
        phone: reader.text('phone'),
        province: reader.text('province'),
        city: reader.text('city'),
        district: reader.text('district'),
        line1: street && !detail.startsWith(street) ? `${street}${detail}` : detail,
        postalCode: reader.text('postalCode'),
        country: fields.country,
      },
      lines,
      total: orderTotal(fields.total, lines),
      currencyCode: fields.currencyCode,
      placedAt: fields.placedAt,
      paidAt: fields.paidAt,
    };
  });
}

/**
 * What the ingest log keeps for one CSV order (source `CSV`): its rows, cells by header name, exactly as in
 * the file, and enough to map them again without the file.
 */
export interface LoggedCsvOrder {
  source: 'csv';
  layout: CsvLayoutSpec['id'];
  historical: boolean;
  /** Why the import refused these rows as a whole (split order, no key, unreadable file); replay refuses too. */
  refused?: string;
  rows: { row: number; cells: Record<string, string> }[];
}

export function loggedCsvOrder(
  layout: CsvLayout,
  rows: readonly CsvRow[],
  historical: boolean,
  refused: string | null,
): string {
  const logged: LoggedCsvOrder = {
    source: 'csv',
    layout: layout.spec.id,
    historical,
    ...(refused ? { refused } : {}),
    rows: rows.map((r) => ({ row: r.row, cells: rowObject(layout, r.cells) })),
  };
  return JSON.stringify(logged);
}

/**
 * Maps a logged CSV order again (for replaying the ingest log): the layout is found anew from the logged
 * header names. Throws BadUserInputError (or CsvRowError) as the import did.
 */
export function canonicalFromLoggedCsv(rawBody: string): { order: CanonicalOrder; historical: boolean } {
  let logged: LoggedCsvOrder;
  try {
    logged = JSON.parse(rawBody) as LoggedCsvOrder;
  } catch {
    throw new BadUserInputError('This ingest log entry is not a logged CSV order.');
  }
  if (logged?.source !== 'csv' || !Array.isArray(logged.rows) || logged.rows.length === 0) {
    throw new BadUserInputError('This ingest log entry is not a logged CSV order.');
  }
  if (logged.refused) throw new BadUserInputError(logged.refused);
  const header: string[] = [];
  for (const { cells } of logged.rows)
    for (const name of Object.keys(cells)) if (!header.includes(name)) header.push(name);
  const layout = detectCsvLayout(header);
  if (layout.spec.id !== logged.layout) {
    throw new BadUserInputError(
      `This logged CSV order reads as ${layout.spec.label}, not "${logged.layout}".`,
    );
  }
  const rows = logged.rows.map(({ row, cells }) => ({ row, cells: header.map((name) => cells[name] ?? '') }));
  return { order: toCanonicalOrder(layout, rows), historical: logged.historical === true };
}
