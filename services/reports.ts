import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import { ReturnsGroupBy, SalesGroupBy, StockAlertKind } from '../common/enums.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { assertChannelAccess, channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { readQuery } from './read-db.js';
import { joinSql, rawSql, sql, type SqlFragment } from './sql-fragment.js';

/**
 * The analysts' reports, computed in PostgreSQL. Sales are orders without a parent (a split sale counts once,
 * its sub-orders are its parcels). salesReport sums `sales_hourly` (kept by the database in each change's
 * transaction, see the reports migration) for whole UTC hours, and the orders themselves for the parts of hours
 * at the ends of the range; volumeAnomalies counts whole hours from the same sums. In a time zone whose offset is
 * not a whole number of hours the hourly sums do not fit its days and hours, so both read the orders instead.
 * fulfillmentReport reads the milestone times the status owner keeps on each order (paid, packed, shipped,
 * delivered), by their indexes.
 *
 * salesReport's refunds sum `refunds_hourly` (kept by the database like `sales_hourly`, see the refunds roll-up
 * migration) where the sales sum theirs, and for PRODUCT always (the grouping has no days); the cases themselves
 * elsewhere. returnsReport reads the cases by their requestedAt index. Both split a case's amount over products by
 * `hub_refund_lines`, the one rule the roll-up counts by too.
 */

export const DEFAULT_REPORT_TIME_ZONE = 'Asia/Shanghai';
/** Statuses that brought no sale: left out of every grouping but STATUS (SQL, written in for the planner). */
const NOT_SOLD = `'CANCELLED', 'REFUNDED'`;
/** The currency zero rows show when the range has no sale at all (the hub's default). */
const DEFAULT_CURRENCY = 'CNY';
/** The most days a DAY report lists (about ten years). */
const MAX_DAYS = 3660;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface Money {
  amount: string;
  currencyCode: string;
}

export interface SalesRow {
  key: string;
  orders: number;
  units: number;
  revenue: Money;
  /** Sales of every status but CANCELLED: revenue plus the sales since refunded in full. */
  grossRevenue: Money;
  /** Money that went back in the range (by refundedAt), for sales of the group. */
  refunds: Money;
  /** grossRevenue - refunds. */
  netRevenue: Money;
}

export interface StageDuration {
  stage: FulfillmentStage;
  orders: number;
  avgSeconds: number;
  p50Seconds: number;
  p90Seconds: number;
}

export interface VolumeAnomaly {
  channelCode: string;
  bucketStart: Date;
  orders: number;
  baseline: number;
  deviationPercent: number;
}

export type FulfillmentStage =
  'PLACED_TO_PAID' | 'PAID_TO_PACKED' | 'PACKED_TO_SHIPPED' | 'SHIPPED_TO_DELIVERED';

/** Runs one statement (`?` placeholders) and returns its rows. */
export type Run = <T extends object>(sql: string, params: unknown[]) => Promise<T[]>;

interface Range {
  from: Date;
  to: Date;
}

/**
 * Orders, units and revenue per group over [from, to) by placedAt, and the refunds paid out in [from, to) by
 * refundedAt; one row per group and currency.
 */
export async function salesReport(ctx: RequestContext, input: SalesInput): Promise<SalesRow[]> {
  return readSalesReport((sql, params) => readQuery(ctx, sql, params), input);
}

export type SalesInput = Range & { groupBy: SalesGroupBy; timeZone?: string | null };

/**
 * salesReport on the caller's connection. `exact` reads the orders and cases themselves where the hourly sums
 * would serve: the baseline the sums are checked and measured against (tests, bench/reports.ts).
 */
export async function readSalesReport(
  run: Run,
  input: SalesInput,
  { exact = false }: { exact?: boolean } = {},
): Promise<SalesRow[]> {
  const timeZone = checkTimeZone(input.timeZone);
  if (!checkRange(input)) return [];
  const days = input.groupBy === SalesGroupBy.DAY ? localDays(input, timeZone) : [];
  // Products have no days: their refunds' hours fit any time zone.
  const hours = exact ? null : wholeHours(input, input.groupBy === SalesGroupBy.PRODUCT ? 'UTC' : timeZone);
  const rows =
    input.groupBy === SalesGroupBy.PRODUCT
      ? await salesByProduct(run, input, hours)
      : await salesFromHours(run, input, hours, input.groupBy, timeZone);
  return input.groupBy === SalesGroupBy.DAY ? withEveryDay(rows, days) : rows;
}

interface SalesSqlRow {
  key: string;
  currency_code: string;
  orders: string;
  units: string;
  revenue: string;
  gross: string;
  refunds: string;
}

/** A sale left out of gross, refunds and net in every grouping: it brought no money to give back. */
const NO_MONEY = `'CANCELLED'`;

async function salesFromHours(
  run: Run,
  range: Range,
  hours: Range | null,
  groupBy: SalesGroupBy,
  timeZone: string,
) {
  const key =
    groupBy === SalesGroupBy.CHANNEL
      ? rawSql('c.code')
      : groupBy === SalesGroupBy.PLATFORM
        ? rawSql('c.platform::text')
        : groupBy === SalesGroupBy.STATUS
          ? rawSql('s.status::text')
          : sql`to_char(s.at at time zone ${timeZone}, 'YYYY-MM-DD')`;
  // A refund is placed on the day its money went back.
  const refundKey =
    groupBy === SalesGroupBy.DAY ? sql`to_char(s.at at time zone ${timeZone}, 'YYYY-MM-DD')` : key;
  const counted = groupBy === SalesGroupBy.STATUS ? 'true' : `s.status not in (${NOT_SOLD})`;
  const sold = rawSql(groupBy === SalesGroupBy.STATUS ? '' : `where s.status not in (${NO_MONEY})`);
  const order =
    groupBy === SalesGroupBy.STATUS
      ? 'coalesce(a.status, b.status), 2'
      : groupBy === SalesGroupBy.DAY
        ? '1, 2'
        : 'coalesce(a.revenue, 0) desc, 1, 2';
  const rows = await runSql<SalesSqlRow>(
    run,
    sql`with sold as (
       select ${key} as key, s.currency_code, min(s.status) as status,
              sum(s.orders) filter (where ${rawSql(counted)}) as orders,
              sum(s.units) filter (where ${rawSql(counted)}) as units,
              sum(s.revenue) filter (where ${rawSql(counted)}) as revenue,
              sum(s.revenue) filter (where s.status not in (${rawSql(NO_MONEY)})) as gross
       from (${saleSource(range, hours)}) s join channel c on c.id = s.channel_id
       ${sold}
       group by 1, 2
       having sum(s.orders) filter (where ${rawSql(counted)}) <> 0
         or sum(s.units) filter (where ${rawSql(counted)}) <> 0
         or sum(s.revenue) filter (where ${rawSql(counted)}) <> 0
         or sum(s.revenue) filter (where s.status not in (${rawSql(NO_MONEY)})) <> 0
     ),
     refunded as (
       select ${refundKey} as key, s.currency_code, min(s.status) as status, sum(s.amount) as refunds
       from (${refundSource(range, hours)}) s join channel c on c.id = s.channel_id
       group by 1, 2
       having sum(s.cases) <> 0
     )
     select coalesce(a.key, b.key) as key, coalesce(a.currency_code, b.currency_code) as currency_code,
            coalesce(a.orders, 0)::text as orders, coalesce(a.units, 0)::text as units,
            coalesce(a.revenue, 0)::text as revenue, coalesce(a.gross, 0)::text as gross,
            coalesce(b.refunds, 0)::text as refunds
     from sold a full join refunded b on b.key = a.key and b.currency_code = a.currency_code
     order by ${rawSql(order)}`,
  );
  return rows.map(toSalesRow);
}

/**
 * The cases whose money went back in the ranges, as (id, order_id, refund_amount, currency_code, refunded_at,
 * channel_id, status: the sale's): only those attached to an order, and not of a cancelled sale (its money is
 * in neither gross nor refunds). A case on a sub-order counts for its sale. `hub_refund_counted` (the roll-up)
 * counts the same cases.
 */
function refundedCases(ranges: Range[]): SqlFragment {
  const within = joinSql(
    ranges.map((r) => sql`(r.refunded_at >= ${r.from} and r.refunded_at < ${r.to})`),
    ' or ',
  );
  return sql`select r.id, r.order_id, r.refund_amount, r.currency_code, r.refunded_at, r.channel_id,
      coalesce(sale.status, o.status) as status
    from order_return r
    join "order" o on o.id = r.order_id
    left join "order" sale on sale.id = o.parent_id
    where (${within}) and coalesce(sale.status, o.status) not in ${rawSql(`(${NO_MONEY})`)}`;
}

/**
 * Refunds as (at, channel_id, status, currency_code, cases, amount): the hourly sums for the whole hours, the
 * cases themselves for the rest. A group shows where some case counts (cases <> 0), even of no amount.
 */
function refundSource(range: Range, hours: Range | null): SqlFragment {
  const parts = hourlyRefunds(hours, 'hour as at, channel_id, status, currency_code, cases, amount');
  const rest = outsideHours(range, hours);
  if (rest.length) {
    parts.push(
      sql`select refunded_at as at, channel_id, status, currency_code, 1::bigint as cases, refund_amount as amount
        from (${refundedCases(rest)}) r`,
    );
  }
  return joinSql(parts, ' union all ');
}

/** Refunds per product as (product_code, currency_code, cases, amount), from the same sources as refundSource. */
function refundSharesSource(range: Range, hours: Range | null): SqlFragment {
  const parts = hourlyRefunds(hours, 'product_code, currency_code, cases, amount', `and product_code <> ''`);
  const rest = outsideHours(range, hours);
  if (rest.length) {
    parts.push(
      sql`select * from (with ${caseLines(refundedCases(rest))}
        select product_code, currency_code, 1::bigint as cases, amount from shares) e`,
    );
  }
  return joinSql(parts, ' union all ');
}

function hourlyRefunds(hours: Range | null, columns: string, where = ''): SqlFragment[] {
  if (!hours) return [];
  return ['refunds_hourly', 'refunds_hourly_change'].map(
    (table) =>
      sql`select ${rawSql(columns)} from ${rawSql(table)}
        where hour >= ${hours.from} and hour < ${hours.to} ${rawSql(where)}`,
  );
}

/**
 * The common table expressions `k` (the cases: id, currency_code and whatever else the caller selects) and
 * `shares` (return_id, product_code, units, currency_code, amount: the lines each case covers and its refund
 * amount apportioned to them, by `hub_refund_lines`, see the refunds roll-up migration), to start a `with`.
 */
function caseLines(cases: SqlFragment): SqlFragment {
  return sql`k as (${cases}),
    shares as (
      select l.return_id, l.product_code, l.units, k.currency_code, l.amount
      from hub_refund_lines(array(select id from k)) l join k on k.id = l.return_id
    )`;
}

/**
 * The whole UTC hours of the range, which the hourly sums carry, or null where they do not serve: no whole hour,
 * or a time zone whose offset is not a whole number of hours (the sums' hours do not fit its days).
 */
function wholeHours(range: Range, timeZone: string): Range | null {
  const from = new Date(Math.ceil(range.from.getTime() / HOUR_MS) * HOUR_MS);
  const to = new Date(Math.floor(range.to.getTime() / HOUR_MS) * HOUR_MS);
  return from < to && wholeHourOffsets(timeZone, range) ? { from, to } : null;
}

/** The parts of the range outside its whole hours (all of it without them): read row by row. */
function outsideHours(range: Range, hours: Range | null): Range[] {
  if (!hours) return [range];
  return [
    { from: range.from, to: hours.from },
    { from: hours.to, to: range.to },
  ].filter((r) => r.from < r.to);
}

/**
 * Sales as (at, channel_id, status, currency_code, orders, units, revenue): hourly sums for the whole hours,
 * single orders for the rest.
 */
function saleSource(range: Range, hours: Range | null): SqlFragment {
  const parts: SqlFragment[] = [];
  if (hours) {
    for (const table of ['sales_hourly', 'sales_hourly_change']) {
      parts.push(
        sql`select hour as at, channel_id, status, currency_code, orders, units, revenue from ${rawSql(table)}
         where hour >= ${hours.from} and hour < ${hours.to}`,
      );
    }
  }
  const rest = outsideHours(range, hours);
  if (rest.length) {
    const within = joinSql(
      rest.map(({ from, to }) => sql`(o.placed_at >= ${from} and o.placed_at < ${to})`),
      ' or ',
    );
    parts.push(
      sql`select o.placed_at as at, o.channel_id, o.status, o.currency_code, 1::bigint as orders,
              coalesce((select sum(l.quantity) from order_line l where l.order_id = o.id), 0) as units,
              o.total_amount as revenue
       from "order" o
       where o.parent_id is null and (${within})`,
    );
  }
  return joinSql(parts, ' union all ');
}

async function salesByProduct(run: Run, range: Range, hours: Range | null): Promise<SalesRow[]> {
  const rows = await runSql<SalesSqlRow>(
    run,
    sql`with sold as (
       select l.product_code as key, o.currency_code,
              count(distinct o.id) filter (where o.status not in ${rawSql(`(${NOT_SOLD})`)}) as orders,
              sum(l.quantity) filter (where o.status not in ${rawSql(`(${NOT_SOLD})`)}) as units,
              sum(l.line_total) filter (where o.status not in ${rawSql(`(${NOT_SOLD})`)}) as revenue,
              sum(l.line_total) as gross
       from "order" o join order_line l on l.order_id = o.id
       where o.parent_id is null and o.placed_at >= ${range.from} and o.placed_at < ${range.to}
         and o.status not in ${rawSql(`(${NO_MONEY})`)}
       group by 1, 2
     ),
     refunded as (
       select product_code as key, currency_code, sum(amount) as refunds
       from (${refundSharesSource(range, hours)}) s
       group by 1, 2
       having sum(cases) <> 0
     )
     select coalesce(a.key, b.key) as key, coalesce(a.currency_code, b.currency_code) as currency_code,
            coalesce(a.orders, 0)::text as orders, coalesce(a.units, 0)::text as units,
            coalesce(a.revenue, 0)::text as revenue, coalesce(a.gross, 0)::text as gross,
            coalesce(b.refunds, 0)::text as refunds
     from sold a full join refunded b on b.key = a.key and b.currency_code = a.currency_code
     order by coalesce(a.revenue, 0) desc, 1, 2`,
  );
  return rows.map(toSalesRow);
}

function toSalesRow(row: SalesSqlRow): SalesRow {
  const money = (amount: Decimal.Value) => ({
    amount: new Decimal(amount).toFixed(2),
    currencyCode: row.currency_code,
  });
  return {
    key: row.key,
    orders: Number(row.orders),
    units: Number(row.units),
    revenue: money(row.revenue),
    grossRevenue: money(row.gross),
    refunds: money(row.refunds),
    netRevenue: money(new Decimal(row.gross).minus(row.refunds)),
  };
}

/** Every day of the range gets a row in each currency of the report, zero where nothing was sold. */
function withEveryDay(rows: SalesRow[], days: string[]): SalesRow[] {
  const currencies = [...new Set(rows.map((r) => r.revenue.currencyCode))].sort();
  if (currencies.length === 0) currencies.push(DEFAULT_CURRENCY);
  const byKey = new Map(rows.map((r) => [`${r.key} ${r.revenue.currencyCode}`, r]));
  return days.flatMap((day) =>
    currencies.map(
      (currencyCode) =>
        byKey.get(`${day} ${currencyCode}`) ?? {
          key: day,
          orders: 0,
          units: 0,
          revenue: { amount: '0.00', currencyCode },
          grossRevenue: { amount: '0.00', currencyCode },
          refunds: { amount: '0.00', currencyCode },
          netRevenue: { amount: '0.00', currencyCode },
        },
    ),
  );
}

/** The local dates (YYYY-MM-DD) [from, to) touches in the time zone. */
function localDays(range: Range, timeZone: string): string[] {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const first = format.format(range.from);
  const last = format.format(new Date(range.to.getTime() - 1));
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); ; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push(day);
    if (day >= last) return days;
    if (days.length > MAX_DAYS) {
      throw new BadUserInputError(`A DAY report covers at most ${MAX_DAYS} days; narrow from and to.`, 'to');
    }
  }
}

export interface ReturnsRow {
  key: string;
  cases: number;
  units: number;
  unitsSold: number;
  /** units / unitsSold to 4 decimal places; null when nothing was sold. */
  returnRate: number | null;
  /** One per currency, by currency code. */
  refundAmounts: Money[];
}

/** Statuses of a case that brought nothing back. */
const NOT_RETURNED = `'REJECTED', 'CANCELLED'`;

/**
 * The after-sale cases asked for in [from, to) (by requestedAt; REJECTED and CANCELLED ones left out) per group:
 * how many, the units they return (none for a case whose goods stay with the buyer), the amounts they refund,
 * and the return rate against the units of the sales placed in [from, to) (every status but CANCELLED) of the
 * same channel or product, or on the same day (in the time zone), or of all of them for a reason class or who is
 * responsible. Most units first; by DAY the days with cases, oldest first.
 */
export async function returnsReport(
  ctx: RequestContext,
  input: Range & { groupBy: ReturnsGroupBy; channelCode?: string | null; timeZone?: string | null },
): Promise<ReturnsRow[]> {
  const timeZone = checkTimeZone(input.timeZone);
  if (input.channelCode) assertChannelAccess(ctx, input.channelCode);
  const channelCode = input.channelCode ?? channelScope(ctx);
  if (!checkRange(input)) return [];
  const run: Run = (text, params) => readQuery(ctx, text, params);
  const channelId = channelCode ? await channelIdOf(run, channelCode) : null;
  const channel = (column: string) => (channelId ? sql`and ${rawSql(column)} = ${channelId}` : rawSql(''));
  // Goods come back unless the case says they stay, or, when it does not say, it asks for money only.
  const cases = sql`select r.id, r.order_id, r.refund_amount, r.currency_code, r.channel_id, r.reason_class,
      r.responsible, r.requested_at, coalesce(r.goods_returned, r.kind <> 'REFUND_ONLY') as goods_back
    from order_return r
    where r.requested_at >= ${input.from} and r.requested_at < ${input.to}
      and r.status not in ${rawSql(`(${NOT_RETURNED})`)} ${channel('r.channel_id')}`;
  const byProduct = input.groupBy === ReturnsGroupBy.PRODUCT;
  const byDay = input.groupBy === ReturnsGroupBy.DAY;
  const day = (column: string) => sql`to_char(${rawSql(column)} at time zone ${timeZone}, 'YYYY-MM-DD')`;
  const key =
    input.groupBy === ReturnsGroupBy.CHANNEL
      ? rawSql('c.code')
      : input.groupBy === ReturnsGroupBy.REASON_CLASS
        ? rawSql('k.reason_class')
        : byDay
          ? day('k.requested_at')
          : rawSql('k.responsible');
  const returned = byProduct
    ? sql`select s.product_code as key, s.currency_code, count(distinct s.return_id) as cases,
          sum(case when k.goods_back then s.units else 0 end) as units, sum(s.amount) as amount
        from shares s join k on k.id = s.return_id
        group by 1, 2`
    : sql`select ${key} as key, k.currency_code, count(*) as cases,
          sum(case when k.goods_back then coalesce(u.units, 0) else 0 end) as units, sum(k.refund_amount) as amount
        from k join channel c on c.id = k.channel_id
        left join (select return_id, sum(units) as units from shares group by 1) u on u.return_id = k.id
        group by 1, 2`;
  // Units sold per channel, per day, or all of them (a reason class or who is responsible is no sale's).
  const soldBy =
    input.groupBy === ReturnsGroupBy.CHANNEL ? rawSql('c.code') : byDay ? day('s.at') : rawSql(`''`);
  const sold = byProduct
    ? sql`select l.product_code as key, sum(l.quantity) as units
        from "order" o join order_line l on l.order_id = o.id
        where o.parent_id is null and o.placed_at >= ${input.from} and o.placed_at < ${input.to}
          and o.status not in ${rawSql(`(${NO_MONEY})`)} ${channel('o.channel_id')}
          and l.product_code in (select product_code from shares)
        group by 1`
    : sql`select ${soldBy} as key, sum(s.units) as units
        from (${saleSource(input, wholeHours(input, byDay ? timeZone : 'UTC'))}) s join channel c on c.id = s.channel_id
        where s.status not in ${rawSql(`(${NO_MONEY})`)} ${channel('s.channel_id')}
        group by 1`;
  const soldKey = input.groupBy === ReturnsGroupBy.CHANNEL || byProduct || byDay ? 'r.key' : `''`;
  const rows = await runSql<{
    key: string;
    currency_code: string;
    cases: string;
    units: string;
    amount: string;
    sold: string;
  }>(
    run,
    sql`with ${caseLines(cases)}, returned as (${returned}), sold as (${sold})
      select r.key, r.currency_code, r.cases::text as cases, r.units::text as units, r.amount::text as amount,
             coalesce(sold.units, 0)::text as sold
      from returned r left join sold on sold.key = ${rawSql(soldKey)}
      order by r.key, r.currency_code`,
  );
  const groups = new Map<string, ReturnsRow>();
  for (const row of rows) {
    let group = groups.get(row.key);
    if (!group) {
      const unitsSold = Number(row.sold);
      group = { key: row.key, cases: 0, units: 0, unitsSold, returnRate: null, refundAmounts: [] };
      groups.set(row.key, group);
    }
    group.cases += Number(row.cases);
    group.units += Number(row.units);
    group.refundAmounts.push({
      amount: new Decimal(row.amount).toFixed(2),
      currencyCode: row.currency_code,
    });
  }
  const list = [...groups.values()];
  for (const group of list) {
    if (group.unitsSold > 0) group.returnRate = round(group.units / group.unitsSold, 4);
  }
  if (byDay) return list.sort((a, b) => (a.key < b.key ? -1 : 1));
  return list.sort((a, b) => b.units - a.units || b.cases - a.cases || (a.key < b.key ? -1 : 1));
}

/**
 * Per stage, the orders whose stage ended in [from, to) and how long it took. Paying is a sale's step (placed
 * to paid); packing, shipping and delivery are a parcel's (an order that was not split, or a sub-order).
 */
export async function fulfillmentReport(
  ctx: RequestContext,
  input: Range & { channelCode?: string | null },
): Promise<StageDuration[]> {
  const stages: FulfillmentStage[] = [
    'PLACED_TO_PAID',
    'PAID_TO_PACKED',
    'PACKED_TO_SHIPPED',
    'SHIPPED_TO_DELIVERED',
  ];
  const empty = (stage: FulfillmentStage): StageDuration => ({
    stage,
    orders: 0,
    avgSeconds: 0,
    p50Seconds: 0,
    p90Seconds: 0,
  });
  if (!checkRange(input)) return stages.map(empty);
  const run: Run = (sql, params) => readQuery(ctx, sql, params);
  const channelId = input.channelCode ? await channelIdOf(run, input.channelCode) : null;
  const channel = channelId ? sql`and o.channel_id = ${channelId}` : rawSql('');
  // A parent of sub-orders is packed, shipped and delivered through them: its own times repeat theirs.
  const parents = '(select distinct parent_id from "order" where parent_id is not null)';
  const parcel = `o.id not in ${parents}`;
  const steps: [FulfillmentStage, string, string, string][] = [
    ['PLACED_TO_PAID', 'placed_at', 'paid_at', 'o.parent_id is null'],
    ['PAID_TO_PACKED', 'paid_at', 'packed_at', parcel],
    ['PACKED_TO_SHIPPED', 'packed_at', 'shipped_at', parcel],
    ['SHIPPED_TO_DELIVERED', 'shipped_at', 'delivered_at', parcel],
  ];
  // One statement per stage, run side by side on connections of their own: each reads its milestone's index
  // and sorts its durations once for both percentiles.
  const rows = await Promise.all(
    steps.map(async ([stage, start, end, which]) => {
      const [row] = await runSql<{ orders: string; avg: number | null; p: number[] | null }>(
        run,
        sql`select count(*)::text as orders, avg(s) as avg,
                percentile_cont(array[0.5, 0.9]) within group (order by s) as p
         from (
           -- A platform's clock may put a step a moment before the one it follows: counted as no time at all.
           select greatest(extract(epoch from ${rawSql(`o.${end} - o.${start}`)}), 0)::float8 as s
           from "order" o
           where ${rawSql(`o.${end}`)} >= ${input.from} and ${rawSql(`o.${end}`)} < ${input.to}
             and ${rawSql(`o.${start} is not null and ${which}`)} ${channel}
         ) d`,
      );
      return { ...row, stage };
    }),
  );
  const byStage = new Map(rows.map((r) => [r.stage, r]));
  return stages.map((stage) => {
    const row = byStage.get(stage);
    if (!row?.p) return empty(stage);
    return {
      stage,
      orders: Number(row.orders),
      avgSeconds: round(Number(row.avg), 3),
      p50Seconds: round(row.p[0], 3),
      p90Seconds: round(row.p[1], 3),
    };
  });
}

export interface OrderFlowBucket {
  bucketStart: Date;
  channelCode: string;
  orders: number;
}

/** The most buckets one orderFlow answers: a day by the minute. */
const MAX_FLOW_BUCKETS = 1440;

/**
 * Sales placed per channel and bucket of [from, to), by placedAt; buckets are whole multiples of bucketMinutes
 * since the Unix epoch (so whole minutes, hours), and only those with orders are listed, oldest first.
 */
export async function orderFlow(
  ctx: RequestContext,
  input: Range & { channelCode?: string | null; bucketMinutes?: number | null },
): Promise<OrderFlowBucket[]> {
  const minutes = input.bucketMinutes ?? 1;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new BadUserInputError('bucketMinutes must be a whole number from 1 to 1440.', 'bucketMinutes');
  }
  if (!checkRange(input)) return [];
  if (input.to.getTime() - input.from.getTime() > MAX_FLOW_BUCKETS * minutes * 60_000) {
    throw new BadUserInputError(
      `orderFlow answers at most ${MAX_FLOW_BUCKETS} buckets; narrow from and to or widen bucketMinutes.`,
      'to',
    );
  }
  const run: Run = (text, params) => readQuery(ctx, text, params);
  const channelId = input.channelCode ? await channelIdOf(run, input.channelCode) : null;
  const channel = channelId ? sql`and o.channel_id = ${channelId}` : rawSql('');
  const rows = await runSql<{ bucket_start: Date | string; channel_code: string; orders: string }>(
    run,
    sql`select date_bin(make_interval(mins => ${minutes}::int), o.placed_at, 'epoch'::timestamptz) as bucket_start,
          c.code as channel_code, count(*)::text as orders
        from "order" o join channel c on c.id = o.channel_id
        where o.placed_at >= ${input.from} and o.placed_at < ${input.to} and o.parent_id is null ${channel}
        group by 1, 2 order by 1, 2`,
  );
  return rows.map((r) => ({
    bucketStart: new Date(r.bucket_start),
    channelCode: r.channel_code,
    orders: Number(r.orders),
  }));
}

export interface VolumeInput extends Range {
  tolerancePercent?: number | null;
  timeZone?: string | null;
  /** Buckets whose baseline is below this many orders are not judged (a quiet night hour swings widely). */
  minBaseline?: number | null;
  channelCode?: string | null;
}

export const DEFAULT_TOLERANCE_PERCENT = 30;
export const DEFAULT_MIN_BASELINE = 5;

/**
 * Per channel and hour of [from, to) (hours in the time zone, only those already over), the orders placed
 * against the baseline, the mean of the same hour on the 7 days before, where they differ by more than the
 * tolerance. A channel that went silent shows as -100%.
 */
export async function volumeAnomalies(ctx: RequestContext, input: VolumeInput): Promise<VolumeAnomaly[]> {
  return findVolumeAnomalies((sql, params) => readQuery(ctx, sql, params), input);
}

export async function findVolumeAnomalies(run: Run, input: VolumeInput): Promise<VolumeAnomaly[]> {
  const timeZone = checkTimeZone(input.timeZone);
  const tolerance = input.tolerancePercent ?? DEFAULT_TOLERANCE_PERCENT;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new BadUserInputError(
      'tolerancePercent must be a number of percent, 0 or more.',
      'tolerancePercent',
    );
  }
  const minBaseline = input.minBaseline ?? DEFAULT_MIN_BASELINE;
  if (!Number.isFinite(minBaseline) || minBaseline < 0) {
    throw new BadUserInputError('minBaseline must be a number of orders, 0 or more.', 'minBaseline');
  }
  if (!checkRange(input)) return [];
  if (input.to.getTime() - input.from.getTime() > 400 * DAY_MS) {
    throw new BadUserInputError('volumeAnomalies covers at most 400 days; narrow from and to.', 'to');
  }
  const channelId = input.channelCode ? await channelIdOf(run, input.channelCode) : null;
  // Eight days back: the seventh day before, in local time, may be an hour further across a DST change.
  const since = new Date(Math.floor(input.from.getTime() / HOUR_MS) * HOUR_MS - 8 * DAY_MS);
  const until = new Date(Math.ceil(input.to.getTime() / HOUR_MS) * HOUR_MS);
  const channel = channelId ? sql`and channel_id = ${channelId}` : rawSql('');
  const counts = wholeHourOffsets(timeZone, { from: since, to: until })
    ? sql`select channel_id, hour as b, sum(orders) as n from (
         select channel_id, hour, orders from sales_hourly where hour >= ${since} and hour < ${until} ${channel}
         union all
         select channel_id, hour, orders from sales_hourly_change
         where hour >= ${since} and hour < ${until} ${channel}
       ) h group by 1, 2`
    : sql`select channel_id, date_trunc('hour', placed_at at time zone ${timeZone}) at time zone ${timeZone} as b,
              count(*) as n
       from "order" where parent_id is null and placed_at >= ${since} and placed_at < ${until} ${channel}
       group by 1, 2`;
  // Each hour's count is the hour's own (k = 0) and a seventh of the baseline of the same hour on each of the
  // 7 days after it (k = 1..7, in local time): one aggregate, no join to misplan. An hour with no orders of its
  // own but a baseline still gets its row (a channel gone silent). Judged: the hours from the one `from` falls
  // in to the one `to` ends in, each whole and over.
  const rows = await runSql<{ channel_code: string; b: Date; orders: string; baseline: number }>(
    run,
    sql`select c.code as channel_code, j.b, j.orders::text as orders, j.baseline::float8 as baseline
     from (
       select h.channel_id, t.b, coalesce(sum(h.n) filter (where k = 0), 0) as orders,
              coalesce(sum(h.n) filter (where k > 0), 0) / 7.0 as baseline
       from (${counts}) h
       cross join generate_series(0, 7) as k
       cross join lateral (
         select ((h.b at time zone ${timeZone}) + make_interval(days => k)) at time zone ${timeZone} as b
       ) t
       group by 1, 2
     ) j
     join channel c on c.id = j.channel_id
     where j.b >= date_trunc('hour', ${input.from}::timestamptz at time zone ${timeZone}) at time zone ${timeZone}
       and j.b < ${input.to} and j.b + interval '1 hour' <= now()
       and j.baseline > 0 and j.baseline >= ${minBaseline}
       and abs(j.orders - j.baseline) * 100 > ${tolerance} * j.baseline
     order by j.b, c.code`,
  );
  return rows.map((row) => {
    const orders = Number(row.orders);
    return {
      channelCode: row.channel_code,
      bucketStart: new Date(row.b),
      orders,
      baseline: round(row.baseline, 3),
      deviationPercent: round(((orders - row.baseline) / row.baseline) * 100, 1),
    };
  });
}

/**
 * The hub's own hourly look (every hub process may run it; the alert's unique key keeps one per channel and
 * hour): the last two whole UTC hours are judged, and each anomaly is stored as a VOLUME_ANOMALY alert, which
 * is pushed and sent out like every stock alert. Returns the alerts it stored.
 */
export async function raiseVolumeAlerts(
  em: EntityManager,
  settings: { tolerancePercent: number; minBaseline: number },
  now = new Date(),
): Promise<number> {
  const to = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const anomalies = await findVolumeAnomalies((sql, params) => em.execute(sql, params), {
    from: new Date(to.getTime() - 2 * HOUR_MS),
    to,
    timeZone: 'UTC',
    ...settings,
  });
  if (anomalies.length === 0) return 0;
  const stored = await em.execute<{ id: string }[]>(
    `insert into stock_alert (kind, product_code, available, message, channel_code, bucket_start,
       expected_orders, actual_orders)
     select ?, '', 0, a.message, a.channel_code, a.bucket_start, a.expected, a.actual
     from jsonb_to_recordset(?::jsonb) as a(message text, channel_code text, bucket_start timestamptz,
       expected float8, actual int)
     on conflict (channel_code, bucket_start) where kind = 'VOLUME_ANOMALY' do nothing
     returning id`,
    [
      StockAlertKind.VOLUME_ANOMALY,
      JSON.stringify(
        anomalies.map((a) => ({
          message: volumeMessage(a),
          channel_code: a.channelCode,
          bucket_start: a.bucketStart.toISOString(),
          expected: a.baseline,
          actual: a.orders,
        })),
      ),
    ],
  );
  return stored.length;
}

/**
 * Folds the appended sales and refund changes into `sales_hourly` and `refunds_hourly`; returns the hourly rows it
 * touched (0: another process is at it).
 */
export async function foldSalesChanges(em: EntityManager): Promise<number> {
  const [row] = await em.execute<{ folded: string }[]>('select hub_sales_rollup()::text as folded');
  return Number(row.folded);
}

function volumeMessage(a: VolumeAnomaly): string {
  const hour = a.bucketStart.toISOString().slice(0, 13);
  const sign = a.deviationPercent > 0 ? '+' : '';
  return (
    `${a.channelCode}: ${a.orders} orders in the hour from ${hour}:00 UTC against ${a.baseline} expected ` +
    `(the same hour on the 7 days before), ${sign}${a.deviationPercent}%.`
  );
}

async function channelIdOf(run: Run, code: string): Promise<string> {
  const [row] = await runSql<{ id: string }>(run, sql`select id from channel where code = ${code}`);
  if (!row) throw new NotFoundError('Channel', code);
  return row.id;
}

function runSql<T extends object>(run: Run, fragment: SqlFragment): Promise<T[]> {
  return run<T>(fragment.text, [...fragment.params]);
}

/** false when the range is empty (from = to); from after to is refused. */
function checkRange(range: Range): boolean {
  if (range.from > range.to) throw new BadUserInputError('from must not be after to.', 'from');
  return range.from < range.to;
}

function checkTimeZone(timeZone: string | null | undefined): string {
  const name = timeZone ?? DEFAULT_REPORT_TIME_ZONE;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new BadUserInputError(
      `timeZone must be an IANA time zone such as Asia/Shanghai, not "${name}".`,
      'timeZone',
    );
  }
}

/** Whether the zone's offset is a whole number of hours all through the range (checked weekly and at its ends). */
function wholeHourOffsets(timeZone: string, range: Range): boolean {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  for (let t = range.from.getTime(); ; t += 7 * DAY_MS) {
    const at = Math.min(t, range.to.getTime());
    const offset = format.formatToParts(new Date(at)).find((part) => part.type === 'timeZoneName')?.value;
    if (!offset || !/^GMT(?:[+-]\d{2}:00)?$/.test(offset)) return false;
    if (at >= range.to.getTime()) return true;
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
