import { Channel, Order, OrderEvent, OrderLine, Product, type Shipment } from '../entities/index.js';
import { OrderLevel, OrderSortField, OrderStatus, SortDirection, type Platform } from '../common/enums.js';
import { assertChannelAccess, channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { findChannel } from './channels.js';
import { pageSize, parseId } from './ids.js';
import { whenLoaded } from './loaders.js';
import { readRows } from './read-db.js';
import { joinSql, rawSql, sql } from './sql-fragment.js';
import {
  rowColumns,
  rowJson,
  toRow,
  type ChannelRow,
  type OrderLineRow,
  type OrderRow,
  type ProductRow,
} from './read-model.js';

export interface OrderFilter {
  channelCodes?: string[] | null;
  platforms?: Platform[] | null;
  statuses?: OrderStatus[] | null;
  placedFrom?: Date | null;
  placedTo?: Date | null;
  customerName?: string | null;
  productCode?: string | null;
  externalId?: string | null;
  level?: OrderLevel | null;
}

/**
 * What the page's query goes on to show of each order, read in the page's own statement instead of one statement
 * each through the loaders: a round trip to the database costs the hub more than the rows it brings.
 */
export interface PageIncludes {
  channel?: boolean;
  lines?: boolean;
  /** The lines' products (only with `lines`). */
  lineProducts?: boolean;
}

export interface OrderSort {
  field: OrderSortField;
  direction: SortDirection;
}

export interface OrderPage {
  /** Plain rows (services/read-model.ts), not entities: a page only shows them. */
  edges: { cursor: string; node: OrderRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Counted only when asked for: a count reads every matching row, the page only its first few. */
  totalCount: () => Promise<number>;
  /** The planner's guess at the count, from statistics, at the cost of planning the query. */
  totalCountEstimate: () => Promise<number>;
}

const SORT_COLUMN: Record<OrderSortField, { column: string; cast: string }> = {
  [OrderSortField.PLACED_AT]: { column: 'o.placed_at', cast: 'timestamptz' },
  [OrderSortField.TOTAL]: { column: 'o.total_amount', cast: 'numeric' },
  [OrderSortField.STATUS]: { column: 'o.status', cast: 'order_status' },
};

const DEFAULT_SORT: OrderSort = { field: OrderSortField.PLACED_AT, direction: SortDirection.DESC };

/** An order the caller may not see is FORBIDDEN, never silently absent: the id exists, the key is wrong. */
async function visible<T extends Order | OrderRow>(ctx: RequestContext, order: T | null): Promise<T | null> {
  if (!order) return null;
  const scope = channelScope(ctx);
  if (scope !== null) {
    const channel = await ctx.loaders.channelById.load(order.channel.id);
    if (channel?.code !== scope) throw new ForbiddenError(`This key acts for channel "${scope}" only.`);
  }
  return order;
}

export async function findOrder(ctx: RequestContext, id: string): Promise<Order | OrderRow | null> {
  return visible(ctx, await ctx.loaders.orderById.load(parseId(id)));
}

/** A shipment is seen as its order is: an order the caller may not see makes its shipment FORBIDDEN too. */
export async function findShipment(ctx: RequestContext, trackingNumber: string): Promise<Shipment | null> {
  const shipment = await ctx.loaders.shipmentByTrackingNumber.load(trackingNumber);
  if (!shipment) return null;
  return (await findOrder(ctx, shipment.order.id)) ? shipment : null;
}

export async function findOrderByExternalId(
  ctx: RequestContext,
  channelCode: string,
  externalId: string,
): Promise<Order | null> {
  assertChannelAccess(ctx, channelCode);
  return ctx.em.findOne(Order, { channel: { code: channelCode }, externalId });
}

/** Relay-style page of orders: keyset pagination on (sort column, id), so deep pages cost what the first does. */
export async function listOrders(
  ctx: RequestContext,
  args: {
    filter?: OrderFilter | null;
    sort?: OrderSort | null;
    first?: number | null;
    after?: string | null;
    include?: PageIncludes;
  },
): Promise<OrderPage> {
  const limit = pageSize(args.first, 50, 500);
  const sort = args.sort ?? DEFAULT_SORT;
  const { column, cast } = SORT_COLUMN[sort.field];
  const dir = sort.direction === SortDirection.ASC ? 'asc' : 'desc';
  const { where, params } = filterSql(ctx, args.filter ?? {});

  const pageWhere = [...where];
  const pageParams = [...params];
  if (args.after) {
    const cursor = decodeCursor(args.after, sort);
    pageWhere.push(`(${column}, o.id) ${dir === 'asc' ? '>' : '<'} (?::${cast}, ?::uuid)`);
    pageParams.push(cursor.value, cursor.id);
  }
  const whereSql = (clauses: string[]) => (clauses.length ? `where ${clauses.join(' and ')}` : '');
  const from = `from "order" o join channel c on c.id = o.channel_id`;

  const include = args.include ?? {};
  const rows =
    limit === 0
      ? []
      : await readRows<Record<string, unknown>>(
          ctx.em,
          `select ${rowColumns(ctx.em, Order, 'o')}${includedColumns(ctx, include)} ${from} ${whereSql(pageWhere)} order by ${column} ${dir}, o.id ${dir} limit ${limit + 1}`,
          pageParams,
        );
  const nodes = rows.slice(0, limit).map((row) => {
    const node = toRow<OrderRow>(ctx.em, Order, row);
    ctx.loaders.orderById.prime(node.id, node);
    primeIncluded(ctx, node, row);
    return node;
  });
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node, sort), node }));
  const countSql = `select 1 ${from} ${whereSql(where)}`;
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: async () => {
      const counted = await readRows<{ n: string }>(
        ctx.em,
        `select count(*) as n from (${countSql}) m`,
        params,
      );
      return Number(counted[0].n);
    },
    totalCountEstimate: async () => {
      const [{ 'QUERY PLAN': plan }] = await readRows<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
        ctx.em,
        `explain (format json) ${countSql}`,
        params,
      );
      return Math.round(plan[0].Plan['Plan Rows']);
    },
  };
}

/** The page's extra columns for what it includes, each a JSON value (read-model's rowJson). */
function includedColumns(ctx: RequestContext, include: PageIncludes): string {
  let sql = '';
  // As text: every row of a page carries its channel, and most pages have one; it is parsed once per channel.
  if (include.channel) sql += `, ${rowJson(ctx.em, Channel, 'c')}::text as page_channel`;
  if (include.lines) {
    const line = include.lineProducts
      ? `json_build_object('line', ${rowJson(ctx.em, OrderLine, 'l')}, 'product', case when p.id is null then null else ${rowJson(ctx.em, Product, 'p')} end)`
      : `json_build_object('line', ${rowJson(ctx.em, OrderLine, 'l')})`;
    sql += `, (select coalesce(json_agg(${line} order by l.line_no), '[]'::json) from order_line l${
      include.lineProducts ? ' left join product p on p.id = l.product_id' : ''
    } where l.order_id = o.id) as page_lines`;
  }
  return sql;
}

/** Hands what the page read with its order to the loaders, so its field resolvers need no statement of their own. */
function primeIncluded(ctx: RequestContext, node: OrderRow, row: Record<string, unknown>): void {
  if (row.page_channel && !ctx.loaders.channelById.holds(node.channel.id)) {
    const channel = toRow<ChannelRow>(ctx.em, Channel, JSON.parse(row.page_channel as string));
    ctx.loaders.channelById.prime(channel.id, channel);
  }
  if (!row.page_lines) return;
  const lines = (
    row.page_lines as { line: Record<string, unknown>; product?: Record<string, unknown> | null }[]
  ).map(({ line, product }) => {
    if (product) {
      const read = toRow<ProductRow>(ctx.em, Product, product);
      ctx.loaders.productById.prime(read.id, read);
    }
    return toRow<OrderLineRow>(ctx.em, OrderLine, line);
  });
  ctx.loaders.linesByOrderId.prime(node.id, lines);
}

/** The WHERE clauses (with `?` placeholders) of an order filter, the caller's channel scope included. */
export function filterSql(ctx: RequestContext, filter: OrderFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  /** An empty list matches nothing, as a filter that names no value should. */
  const inList = (column: string, values: string[]) => {
    where.push(values.length ? `${column} in (${values.map(() => '?').join(', ')})` : 'false');
    params.push(...values);
  };
  const scope = channelScope(ctx);
  if (scope !== null) {
    if (filter.channelCodes?.some((code) => code !== scope)) {
      throw new ForbiddenError(`This key acts for channel "${scope}" only.`);
    }
    where.push('c.code = ?');
    params.push(scope);
  }
  if (filter.channelCodes) inList('c.code', filter.channelCodes);
  if (filter.platforms) inList('c.platform', filter.platforms);
  if (filter.statuses) inList('o.status', filter.statuses);
  if (filter.placedFrom) {
    where.push('o.placed_at >= ?');
    params.push(filter.placedFrom);
  }
  if (filter.placedTo) {
    where.push('o.placed_at < ?');
    params.push(filter.placedTo);
  }
  if (filter.customerName) {
    where.push(`o.customer_name ilike ? escape '\\'`);
    params.push(`%${filter.customerName.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  }
  if (filter.productCode) {
    where.push('exists (select 1 from order_line l where l.order_id = o.id and l.product_code = ?)');
    params.push(filter.productCode);
  }
  if (filter.externalId) {
    where.push('o.external_id = ?');
    params.push(filter.externalId);
  }
  // A split sale is one order with its parcels as sub-orders; lists show one of the two levels.
  const level = filter.level ?? OrderLevel.SALES;
  if (level === OrderLevel.SALES) where.push('o.parent_id is null');
  if (level === OrderLevel.PARCELS)
    where.push('not exists (select 1 from "order" k where k.parent_id = o.id)');
  if (filter.placedFrom && filter.placedTo && filter.placedFrom > filter.placedTo) {
    throw new BadUserInputError('placedFrom must not be after placedTo.', 'filter.placedFrom');
  }
  return { where, params };
}

interface Cursor {
  /** Which sort the cursor was made for: a cursor from another sort is refused, not misread. */
  s: string;
  v: string;
  id: string;
}

function sortValue(order: Order | OrderRow, field: OrderSortField): string {
  switch (field) {
    case OrderSortField.PLACED_AT:
      return order.placedAt.toISOString();
    case OrderSortField.TOTAL:
      return order.totalAmount;
    case OrderSortField.STATUS:
      return order.status;
  }
}

function encodeCursor(order: Order | OrderRow, sort: OrderSort): string {
  const cursor: Cursor = {
    s: `${sort.field}:${sort.direction}`,
    v: sortValue(order, sort.field),
    id: order.id,
  };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string, sort: OrderSort): { value: string; id: string } {
  const bad = () => new BadUserInputError('after is not a cursor this query handed out.', 'after');
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw bad();
  }
  if (
    typeof cursor !== 'object' ||
    cursor === null ||
    typeof cursor.v !== 'string' ||
    typeof cursor.id !== 'string'
  ) {
    throw bad();
  }
  if (cursor.s !== `${sort.field}:${sort.direction}`) {
    throw new BadUserInputError(
      'after was handed out for another sort order; start again without it.',
      'after',
    );
  }
  const validValue =
    sort.field === OrderSortField.PLACED_AT
      ? !Number.isNaN(Date.parse(cursor.v))
      : sort.field === OrderSortField.TOTAL
        ? /^-?\d+(\.\d+)?$/.test(cursor.v)
        : /^[A-Z_]+$/.test(cursor.v);
  if (!validValue) throw bad();
  try {
    return { value: cursor.v, id: parseId(cursor.id) };
  } catch {
    throw bad();
  }
}

/** Events after a seq, in seq order: the timeline of every visible order, and the replay feed. */
export async function listOrderEvents(
  ctx: RequestContext,
  after: string | null | undefined,
  first: number | null | undefined,
): Promise<OrderEvent[]> {
  const limit = pageSize(first, 100, 1000);
  if (after != null && !/^\d{1,19}$/.test(after)) {
    throw new BadUserInputError('after must be the seq of an order event.', 'after');
  }
  const scope = channelScope(ctx);
  // Events committed before this read but not numbered yet get their seq first, so the list shows them.
  await ctx.em.getConnection().execute('select 1 from hub_number_order_events()');
  return ctx.em.find(
    OrderEvent,
    {
      seq: after != null ? { $gt: after } : { $ne: null },
      ...(scope !== null ? { channelCode: scope } : {}),
    },
    // Read where the numbering was just written: a replica may not have it yet.
    { orderBy: { seq: 'asc' }, limit, connectionType: 'write' },
  );
}

/** The milestone each status keeps on the order: when it entered that status. */
const STATUS_MILESTONE: Partial<
  Record<OrderStatus, 'placedAt' | 'paidAt' | 'packedAt' | 'shippedAt' | 'deliveredAt'>
> = {
  PENDING_PAYMENT: 'placedAt',
  PAID: 'paidAt',
  PACKED: 'packedAt',
  SHIPPED: 'shippedAt',
  DELIVERED: 'deliveredAt',
};

/**
 * The same in SQL, as the `order_status_since_idx` index has it (the stuck orders read that index, one status
 * at a time). CANCELLED and REFUNDED have no milestone and are never stuck: placed_at stands in.
 */
const STATUS_SINCE_SQL = `case o.status when 'PAID' then o.paid_at when 'PACKED' then o.packed_at
  when 'SHIPPED' then o.shipped_at when 'DELIVERED' then o.delivered_at else o.placed_at end`;

export function statusSince(ctx: RequestContext, order: Order | OrderRow): Date | Promise<Date> {
  const milestone = STATUS_MILESTONE[order.status];
  const at = milestone ? order[milestone] : null;
  if (at) return at;
  // CANCELLED and REFUNDED keep no time of their own: the timeline's last move into the status tells.
  return whenLoaded(
    ctx.loaders.timelineByOrderId.load(order.id),
    (events) => events.filter((e) => e.toStatus === order.status).at(-1)?.at ?? order.updatedAt,
  );
}

/** Not finished: an order in one of these can be stuck. */
export const UNFINISHED_STATUSES: readonly OrderStatus[] = [
  OrderStatus.PENDING_PAYMENT,
  OrderStatus.PAID,
  OrderStatus.PACKED,
  OrderStatus.SHIPPED,
];

/**
 * The orders longest in an unfinished status, oldest statusSince first. A split sale moves through its
 * sub-orders, which are listed instead of it.
 */
export async function listStuckOrders(
  ctx: RequestContext,
  args: { channelCode?: string | null; statuses?: OrderStatus[] | null; first?: number | null },
): Promise<(Order | OrderRow)[]> {
  const limit = pageSize(args.first, 20, 200);
  const statuses = [...new Set(args.statuses?.length ? args.statuses : UNFINISHED_STATUSES)];
  const finished = statuses.filter((s) => !UNFINISHED_STATUSES.includes(s));
  if (finished.length) {
    throw new BadUserInputError(
      `statuses must be unfinished ones (${UNFINISHED_STATUSES.join(', ')}), not ${finished.join(', ')}.`,
      'statuses',
    );
  }
  const code = args.channelCode ?? channelScope(ctx);
  const channel = code ? await findChannel(ctx, code) : null;
  if (code && !channel) throw new NotFoundError('Channel', code);
  const byChannel = channel ? sql`and o.channel_id = ${channel.id}` : rawSql('');
  // One index range per status, merged: a single `status in (...)` could not read the index in since order.
  const perStatus = statuses.map(
    (status) =>
      sql`(select o.id, ${rawSql(STATUS_SINCE_SQL)} as since from "order" o
          where o.status = ${status}::order_status ${byChannel}
            and not exists (select 1 from "order" c where c.parent_id = o.id)
          order by ${rawSql(STATUS_SINCE_SQL)}, o.id limit ${limit})`,
  );
  const query = sql`select id from (${joinSql(perStatus, ' union all ')}) s order by since, id limit ${limit}`;
  const rows = await readRows<{ id: string }>(ctx.em, query.text, [...query.params]);
  const orders = await Promise.all(rows.map((r) => ctx.loaders.orderById.load(r.id)));
  return orders.filter((o): o is OrderRow => o !== null);
}
