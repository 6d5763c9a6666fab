import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { OrderLevel, OrderStatus, Platform, Role } from '../common/enums.js';
import { BadUserInputError } from '../common/errors.js';
import { assertRole } from './access.js';
import type { RequestContext } from './context.js';
import { filterSql, type OrderFilter } from './orders.js';

/**
 * Orders out for analysts, as CSV (for Excel) or JSON lines (for notebooks), streamed from a database cursor:
 * a million orders leave with the memory of a few thousand. The filter is the `orders` query's, from the URL.
 */

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportRequest {
  filter: OrderFilter;
  /** One row per order line instead of one per order. */
  lines: boolean;
  format: ExportFormat;
}

/** Where an export's connection comes from: a pg pool, or a replica's with the primary's behind it (server/read-replicas.ts). */
export interface ExportConnections {
  connect(): Promise<pg.PoolClient>;
}

/** Rows fetched from the cursor at a time. */
const BATCH_ROWS = 1000;

// Contract names for the columns; money as exact decimal text, times in UTC (ISO 8601). No phone or street:
// an analyst's file leaves the hub, the customers' contact details stay.
const ORDER_COLUMNS = `o.id, c.code as "channelCode", c.platform, o.external_id as "externalId", o.status,
  o.parent_id as "parentId", o.customer_name as "customerName", o.total_amount::text as "totalAmount",
  o.currency_code as "currencyCode", o.placed_at as "placedAt", o.paid_at as "paidAt", o.shipped_at as "shippedAt",
  o.delivered_at as "deliveredAt", o.ship_country as "shipCountry", o.ship_province as "shipProvince",
  o.ship_city as "shipCity", o.ship_district as "shipDistrict"`;
const LINE_COLUMNS = `l.line_no as "lineNo", l.product_code as "productCode", l.platform_sku_id as "platformSkuId",
  l.quantity, l.unit_price::text as "unitPrice", l.line_total::text as "lineTotal"`;

/** Who may export: staff who read orders (ADMIN too). */
const EXPORTERS = [Role.ANALYST, Role.OPS];

/**
 * The export as a stream of bytes. The database connection is taken from `pool` for as long as the stream runs
 * and given back when it ends, fails or the client goes away.
 */
export async function exportOrders(
  ctx: RequestContext,
  pool: ExportConnections,
  request: ExportRequest,
): Promise<Readable> {
  assertRole(ctx, EXPORTERS);
  const { where, params } = filterSql(ctx, request.filter);
  const from = request.lines
    ? `from "order" o join channel c on c.id = o.channel_id join order_line l on l.order_id = o.id`
    : `from "order" o join channel c on c.id = o.channel_id`;
  let n = 0;
  const sql =
    `select ${ORDER_COLUMNS}${request.lines ? `, ${LINE_COLUMNS}` : ''} ${from}` +
    `${where.length ? ` where ${where.join(' and ')}` : ''}` +
    ` order by o.placed_at desc, o.id desc${request.lines ? ', l.line_no' : ''}`;
  // filterSql writes MikroORM's `?` placeholders; pg numbers them.
  const numbered = sql.replace(/\?/g, () => `$${++n}`);

  const client = await pool.connect();
  const rows = client.query(new QueryStream(numbered, params, { batchSize: BATCH_ROWS }));
  const format = new Transform({ objectMode: true, transform: (row, _enc, done) => done(null, plain(row)) });
  const out =
    request.format === 'csv'
      ? // A BOM, so Excel reads the Chinese names as UTF-8; cells opening with = + - @ are not formulas.
        stringify({ header: true, bom: true, escape_formulas: true, columns: columnsOf(request.lines) })
      : new Transform({
          writableObjectMode: true,
          transform: (row, _enc, done) => done(null, `${JSON.stringify(row)}\n`),
        });
  let released = false;
  const release = (err?: unknown) => {
    if (released) return;
    released = true;
    // A connection whose cursor was cut off mid-way is not handed to anyone else.
    client.release(err instanceof Error ? err : undefined);
  };
  pipeline(rows, format, out).then(
    () => release(),
    (err: unknown) => release(err ?? new Error('the export stopped')),
  );
  return out;
}

function columnsOf(lines: boolean): string[] {
  const order = [
    'id',
    'channelCode',
    'platform',
    'externalId',
    'status',
    'parentId',
    'customerName',
    'totalAmount',
    'currencyCode',
    'placedAt',
    'paidAt',
    'shippedAt',
    'deliveredAt',
    'shipCountry',
    'shipProvince',
    'shipCity',
    'shipDistrict',
  ];
  return lines
    ? [...order, 'lineNo', 'productCode', 'platformSkuId', 'quantity', 'unitPrice', 'lineTotal']
    : order;
}

/** Times as UTC ISO strings; everything else as the database gave it. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) if (value instanceof Date) row[key] = value.toISOString();
  return row;
}

/** The export's filter and shape from the URL's query string, each value checked as the GraphQL input is. */
export function parseExportQuery(query: Record<string, unknown>, format: ExportFormat): ExportRequest {
  const known = new Set([
    'channelCodes',
    'platforms',
    'statuses',
    'placedFrom',
    'placedTo',
    'customerName',
    'productCode',
    'externalId',
    'level',
    'lines',
  ]);
  for (const name of Object.keys(query)) {
    if (!known.has(name))
      throw new BadUserInputError(
        `Unknown export parameter "${name}"; known: ${[...known].join(', ')}.`,
        name,
      );
  }
  const text = (name: string): string | null => {
    const value = query[name];
    if (value === undefined) return null;
    if (typeof value !== 'string') throw new BadUserInputError(`Give "${name}" once.`, name);
    return value;
  };
  const list = (name: string): string[] | null => {
    const value = text(name);
    return value === null
      ? null
      : value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
  };
  const oneOf = <T extends string>(name: string, allowed: Record<string, T>): T[] | null => {
    const values = list(name);
    for (const v of values ?? []) {
      if (!Object.values(allowed).includes(v as T)) {
        throw new BadUserInputError(`"${v}" is not one of ${Object.values(allowed).join(', ')}.`, name);
      }
    }
    return values as T[] | null;
  };
  const time = (name: string): Date | null => {
    const value = text(name);
    if (value === null) return null;
    const date = new Date(value);
    if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(date.getTime())) {
      throw new BadUserInputError(
        `"${name}" must be an ISO 8601 time with its offset, e.g. 2026-11-11T00:00:00+08:00.`,
        name,
      );
    }
    return date;
  };
  const level = oneOf('level', OrderLevel);
  if (level && level.length !== 1) throw new BadUserInputError('Give one level.', 'level');
  const lines = text('lines');
  if (lines !== null && lines !== 'true' && lines !== 'false') {
    throw new BadUserInputError('"lines" is true or false.', 'lines');
  }
  return {
    filter: {
      channelCodes: list('channelCodes'),
      platforms: oneOf('platforms', Platform),
      statuses: oneOf('statuses', OrderStatus),
      placedFrom: time('placedFrom'),
      placedTo: time('placedTo'),
      customerName: text('customerName'),
      productCode: text('productCode'),
      externalId: text('externalId'),
      level: level?.[0] ?? null,
    },
    lines: lines === 'true',
    format,
  };
}
