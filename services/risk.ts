import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { RiskKind, StockAlertKind } from '../common/enums.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { RiskFlag } from '../entities/index.js';
import { assertChannelAccess, channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { actorOf } from './stock-levels.js';
import { inTransaction } from './transactions.js';

/**
 * Risky orders: four rules, their thresholds as data (`risk_rule`), their findings as flags on the order
 * (`risk_flag`, once per order and kind) and a RISK stock alert. Brushing, serial returner and mismatch judge each
 * batch of orders as it arrives, in the caller's transaction, one set-based statement per rule whatever the
 * batch's size, with a RISK alert per new flag. Buyers are compared by the keys of the risk migration's SQL
 * functions (hub_risk_address, hub_risk_phone, hub_risk_buyer), each indexed with the order's time, so a look-up
 * reads one buyer's orders in one window. Velocity is judged apart, once per window (judgeVelocity).
 */

const decimalText = z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'a decimal amount such as "5.00"');

/** Each kind's thresholds and windows; setRiskRule checks what it is given against these. */
const PARAMS = {
  [RiskKind.BRUSHING]: z.strictObject({
    /** Orders to one address or one unmasked phone placed within this many hours up to an order ... */
    windowHours: z
      .number()
      .positive()
      .max(24 * 90),
    /** ... flag every one of them at this many ... */
    minOrders: z.number().int().min(2).max(1000),
    /** ... or at this many when they come from two channels or more, or this many are tiny. */
    minOrdersWithSignal: z.number().int().min(2).max(1000),
    /** A total at or under this is tiny (the canonical order has no shipping fee: tiny totals stand for it). */
    tinyAmount: decimalText,
  }),
  [RiskKind.SERIAL_RETURNER]: z.strictObject({
    /** A buyer's last this many orders are judged ... */
    lastOrders: z.number().int().min(1).max(1000),
    /** ... once there are at least this many ... */
    minOrders: z.number().int().min(1).max(1000),
    /** ... and flagged when this share of them has an after-sale case (not rejected or cancelled). */
    returnRate: z.number().gt(0).max(1),
  }),
  [RiskKind.VELOCITY]: z
    .strictObject({
      /** One product's orders on one channel in a window of this many minutes (whole UTC hours: the roll-up's) ... */
      windowMinutes: z
        .number()
        .int()
        .min(60)
        .max(24 * 60)
        .refine((m) => m % 60 === 0, 'a whole number of hours in minutes (60, 120, ...)'),
      /** ... against the same window on each of this many days before ... */
      baselineDays: z.number().int().min(3).max(90),
      /** ... flagged at this robust z-score ((count - median) / (1.4826 × MAD), the MAD taken as at least 1) ... */
      zScore: z.number().positive(),
      /** ... with at least this many orders in the window ... */
      minOrders: z.number().int().min(1),
      /** ... when the product sold on the channel on at least this many of those days (a launch is no spike). */
      minHistoryDays: z.number().int().min(1).max(90),
    })
    .refine((p) => p.minHistoryDays <= p.baselineDays, {
      message: 'at most baselineDays',
      path: ['minHistoryDays'],
    }),
  [RiskKind.MISMATCH]: z.strictObject({
    /** A line paid more than this percent below its product's list price × quantity is flagged. */
    maxDiscountPercent: z.number().min(0).max(100),
  }),
} satisfies Record<RiskKind, z.ZodType>;

export type RiskParams = { [K in RiskKind]: z.infer<(typeof PARAMS)[K]> };

/**
 * The defaults: a brushing ring (six orders to one address in three days, or four from two channels or at
 * 5 yuan or less), a buyer with half of four or more recent orders sent back, a product selling at a robust
 * z-score of 6 over its last two weeks' same hour (20 orders at least, sold on 7 of those days), a line at more
 * than 70% off.
 */
export const DEFAULT_RISK_RULES: { [K in RiskKind]: { enabled: boolean; params: RiskParams[K] } } = {
  [RiskKind.BRUSHING]: {
    enabled: true,
    params: { windowHours: 72, minOrders: 6, minOrdersWithSignal: 4, tinyAmount: '5.00' },
  },
  [RiskKind.SERIAL_RETURNER]: {
    enabled: true,
    params: { lastOrders: 10, minOrders: 4, returnRate: 0.5 },
  },
  [RiskKind.VELOCITY]: {
    enabled: true,
    params: { windowMinutes: 60, baselineDays: 14, zScore: 6, minOrders: 20, minHistoryDays: 7 },
  },
  [RiskKind.MISMATCH]: { enabled: true, params: { maxDiscountPercent: 70 } },
};

export interface RiskRuleView {
  kind: RiskKind;
  enabled: boolean;
  params: Record<string, unknown>;
  /** Null while the rule runs on its defaults. */
  updatedAt: Date | null;
  updatedBy: string | null;
}

type Rules = { [K in RiskKind]: { enabled: boolean; params: RiskParams[K] } };

/** The rules as stored, each kind without a row on its defaults. */
export async function loadRiskRules(em: EntityManager): Promise<Rules & { views: RiskRuleView[] }> {
  // em.execute, not its connection's: inside an ingestion transaction the read must use that transaction's
  // connection, or every concurrent order waits for a second one from the pool.
  const rows = await em.execute<
    {
      kind: RiskKind;
      enabled: boolean;
      params: Record<string, unknown>;
      updated_at: Date;
      updated_by: string;
    }[]
  >('select kind, enabled, params, updated_at, updated_by from risk_rule');
  const rules = structuredClone(DEFAULT_RISK_RULES) as Rules;
  const views: RiskRuleView[] = [];
  for (const kind of Object.values(RiskKind)) {
    const row = rows.find((r) => r.kind === kind);
    // Stored params were checked when set; the defaults fill a key a later version added.
    if (row)
      Object.assign(rules[kind], { enabled: row.enabled, params: { ...rules[kind].params, ...row.params } });
    views.push({
      kind,
      enabled: rules[kind].enabled,
      params: rules[kind].params,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    });
  }
  return { ...rules, views };
}

export async function listRiskRules(ctx: RequestContext): Promise<RiskRuleView[]> {
  return (await loadRiskRules(ctx.em)).views;
}

/** `setRiskRule`: the kind's switch, and the params given over the ones it has (checked whole). */
export async function setRiskRule(
  ctx: RequestContext,
  kind: RiskKind,
  enabled: boolean,
  params: unknown,
): Promise<RiskRuleView> {
  if (params !== null && params !== undefined && (typeof params !== 'object' || Array.isArray(params)))
    throw new BadUserInputError('params must be an object of the rule’s thresholds.', 'params');
  const current = await loadRiskRules(ctx.em);
  const parsed = PARAMS[kind].safeParse({ ...current[kind].params, ...(params as object | null) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['params', ...issue.path.map(String)].join('.');
    throw new BadUserInputError(`${field}: ${issue.message}.`, field);
  }
  await ctx.em.getConnection().execute(
    `insert into risk_rule (kind, enabled, params, updated_at, updated_by) values (?, ?, ?::jsonb, now(), ?)
       on conflict (kind) do update set enabled = excluded.enabled, params = excluded.params,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    [kind, enabled, JSON.stringify(parsed.data), actorOf(ctx)],
  );
  return (await loadRiskRules(ctx.em)).views.find((v) => v.kind === kind)!;
}

/** A rule's findings: one row per order, with how far past the threshold, why, and the figures. */
interface Finding {
  sql: string;
  params: unknown[];
}

/**
 * Stores a rule's findings as flags, once per (order, kind), and raises one RISK alert per flag that is new,
 * in one statement. Answers how many flags are new.
 */
async function storeFindings(tx: EntityManager, kind: RiskKind, finding: Finding): Promise<number> {
  const rows = await tx.execute<{ order_id: string }[]>(
    `with found as (${finding.sql}),
     flagged as (
       insert into risk_flag (order_id, kind, score, reason, detail)
       select order_id, ?, score, reason, detail from found order by order_id
       on conflict (order_id, kind) do nothing
       returning order_id, reason
     )
     insert into stock_alert (kind, product_code, available, message, order_id, channel_code)
     select ?, '', 0, 'Order ' || o.external_id || ' on ' || c.code || ' flagged ${kind}: ' || f.reason,
       f.order_id, c.code
     from flagged f join "order" o on o.id = f.order_id join channel c on c.id = o.channel_id
     order by f.order_id
     returning order_id`,
    [...finding.params, kind, StockAlertKind.RISK],
  );
  return rows.length;
}

/** Ids as one array parameter (`?::uuid[]`): the driver would spread a JavaScript array into a list. */
function idArray(ids: string[]): string {
  return `{${ids.join(',')}}`;
}

const ADDRESS_KEY = (o: string) =>
  `hub_risk_address(${o}.ship_province, ${o}.ship_city, ${o}.ship_district, ${o}.ship_line1)`;
const PHONE_KEY = (o: string) => `hub_risk_phone(${o}.ship_phone)`;
const BUYER_KEY = (o: string) =>
  `hub_risk_buyer(${o}.ship_phone, coalesce(${o}.ship_name, ${o}.customer_name), ${o}.ship_province, ${o}.ship_city, ${o}.ship_district, ${o}.ship_line1)`;

/**
 * Brushing: for each order, the orders (sales, not parcels) to its address or its unmasked phone placed in the
 * window up to it. When they are enough, each of them is flagged, the earlier ones too: they are the ring.
 */
function brushing(orderIds: string, p: RiskParams[RiskKind.BRUSHING]): Finding {
  const window = `o.placed_at > b.placed_at - make_interval(secs => ${p.windowHours * 3600})
    and o.placed_at <= b.placed_at and o.parent_id is null`;
  return {
    sql: `
      with b as (
        select o.id, o.placed_at, ${ADDRESS_KEY('o')} as addr, ${PHONE_KEY('o')} as phone
        from "order" o where o.id = any(?::uuid[]) and o.parent_id is null
      ),
      m as (
        select b.id as trigger_id, m.id, m.channel_id, m.total_amount from b
        cross join lateral (
          select o.id, o.channel_id, o.total_amount from "order" o where ${ADDRESS_KEY('o')} = b.addr and ${window}
          union
          select o.id, o.channel_id, o.total_amount from "order" o
          where b.phone is not null and ${PHONE_KEY('o')} = b.phone and ${window}
        ) m
      ),
      t as (
        select trigger_id, count(*) as orders, count(distinct channel_id) as channels,
          count(*) filter (where total_amount <= ?::numeric) as tiny
        from m group by trigger_id
      )
      select distinct on (m.id) m.id as order_id, t.orders::float / ? as score,
        t.orders || ' orders to one address or phone within ' || ? || ' h (' || t.channels || ' channel(s), '
          || t.tiny || ' at or under ' || ? || ')' as reason,
        jsonb_build_object('orders', t.orders, 'channels', t.channels, 'tinyOrders', t.tiny,
          'address', b.addr, 'phone', b.phone) as detail
      from t join b on b.id = t.trigger_id join m on m.trigger_id = t.trigger_id
      where t.orders >= ? or (t.orders >= ? and (t.channels >= 2 or t.tiny >= ?))
      order by m.id, t.orders desc`,
    params: [
      orderIds,
      p.tinyAmount,
      p.minOrders,
      String(p.windowHours),
      p.tinyAmount,
      p.minOrders,
      p.minOrdersWithSignal,
      p.minOrdersWithSignal,
    ],
  };
}

/**
 * Serial returner: each buyer of the orders given (hub_risk_buyer: masked phone or name, at one address), judged
 * on their last orders; a case counts unless it was rejected or cancelled, whether on the sale or one of its
 * parcels. When the share is over the threshold, each of those orders is flagged.
 */
function serialReturner(orderIds: string, p: RiskParams[RiskKind.SERIAL_RETURNER]): Finding {
  const live = `x.status not in ('REJECTED', 'CANCELLED')`;
  return {
    sql: `
      with r as (
        select b.buyer, r.id, r.returned from (
          select distinct ${BUYER_KEY('o')} as buyer from "order" o where o.id = any(?::uuid[])
        ) b
        cross join lateral (
          select o.id, exists (select 1 from order_return x where x.order_id = o.id and ${live})
            or exists (select 1 from "order" s join order_return x on x.order_id = s.id
                       where s.parent_id = o.id and ${live}) as returned
          from "order" o where ${BUYER_KEY('o')} = b.buyer and o.parent_id is null
          order by o.placed_at desc limit ${p.lastOrders}
        ) r
        where b.buyer is not null
      ),
      t as (
        select buyer, count(*) as orders, count(*) filter (where returned) as returns from r group by buyer
      )
      select r.id as order_id, (t.returns::float / t.orders) / ? as score,
        t.returns || ' of the buyer''s last ' || t.orders || ' orders came back (a share of ' || ? ||
          ' or more of at least ' || ? || ' orders is flagged)' as reason,
        jsonb_build_object('orders', t.orders, 'returns', t.returns, 'buyer', t.buyer) as detail
      from t join r on r.buyer = t.buyer
      where t.orders >= ? and t.returns >= ?::float8 * t.orders`,
    params: [orderIds, p.returnRate, String(p.returnRate), String(p.minOrders), p.minOrders, p.returnRate],
  };
}

/** Mismatch: a line of a product with a list price, paid more than the allowed discount below it; the worst line says why. */
function mismatch(orderIds: string, p: RiskParams[RiskKind.MISMATCH]): Finding {
  const paid = `l.line_total / (p.list_price * l.quantity)`;
  return {
    sql: `
      select distinct on (o.id) o.id as order_id, (1 - ${paid}) / (?::numeric / 100) as score,
        l.product_code || ': ' || l.line_total || ' paid for ' || l.quantity || ' at a list price of '
          || p.list_price || ' (' || round((1 - ${paid}) * 100, 1) || '% off; more than ' || ? || '% is flagged)'
          as reason,
        jsonb_build_object('productCode', l.product_code, 'lineTotal', l.line_total::text,
          'listPrice', p.list_price::text, 'quantity', l.quantity) as detail
      from "order" o join order_line l on l.order_id = o.id join product p on p.id = l.product_id
      where o.id = any(?::uuid[]) and o.parent_id is null and p.list_price > 0
        and l.line_total < p.list_price * l.quantity * (1 - ?::numeric / 100)
      order by o.id, ${paid}`,
    params: [p.maxDiscountPercent, String(p.maxDiscountPercent), orderIds, p.maxDiscountPercent],
  };
}

/** The rules judged per batch of orders; velocity is judged per window (judgeVelocity). */
type BatchKind = Exclude<RiskKind, RiskKind.VELOCITY>;

const RULES: { [K in BatchKind]: (orderIds: string, params: RiskParams[K]) => Finding } = {
  [RiskKind.BRUSHING]: brushing,
  [RiskKind.SERIAL_RETURNER]: serialReturner,
  [RiskKind.MISMATCH]: mismatch,
};

async function evaluate(tx: EntityManager, orderIds: string[], kinds: BatchKind[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  const rules = await loadRiskRules(tx);
  let flagged = 0;
  for (const kind of kinds) {
    if (!rules[kind].enabled) continue;
    const rule = RULES[kind] as (ids: string, params: unknown) => Finding;
    flagged += await storeFindings(tx, kind, rule(idArray(orderIds), rules[kind].params));
  }
  return flagged;
}

/**
 * The per-batch rules for orders that just arrived (the order gateway and placeOrder call it, in their
 * transaction). Answers how many flags are new.
 */
export function evaluateOrderRisk(tx: EntityManager, orderIds: string[]): Promise<number> {
  return evaluate(tx, orderIds, [RiskKind.BRUSHING, RiskKind.SERIAL_RETURNER, RiskKind.MISMATCH]);
}

/**
 * The serial-returner rule for orders an after-sale case was stored, moved or attached for (services/returns.ts
 * calls it in that transaction).
 */
export function evaluateRefundRisk(tx: EntityManager, orderIds: string[]): Promise<number> {
  return evaluate(tx, orderIds, [RiskKind.SERIAL_RETURNER]);
}

const HOUR_MS = 3_600_000;
/** An hour is rolled up this long after it closes, so the orders a webhook's retries bring late are in it. */
const SETTLE_MS = 5 * 60_000;
/** The windows judged are those that closed within this long: after the hubs were down, the ones they missed. */
const CATCH_UP_MS = 24 * HOUR_MS;
/** History is kept for the longest baseline allowed (90 days) and its longest window, and a day to spare. */
const KEEP_MS = 92 * 24 * HOUR_MS;

export interface VelocityJudgement {
  /** Hours rolled up into product_orders_hourly by this run. */
  hours: number;
  /** Windows judged (one ends with each whole window of hours rolled up). */
  windows: number;
  /** New spikes (velocity_spike rows), each with one RISK alert. */
  spikes: number;
  /** New VELOCITY flags. */
  flagged: number;
}

/**
 * Velocity, judged once per window, outside any ingestion (the scheduler's velocity job; every hub process may
 * run it at once). In one transaction: the hours closed since the last run, within the baseline's reach, are
 * rolled up from the orders into product_orders_hourly (orders per channel, product and UTC hour; each hour's
 * row in product_orders_hour_rolled lets one process roll it once, a concurrent one waits for it and then finds
 * it taken); then each window that ends with one of those hours (windows are `windowMinutes` since the Unix
 * epoch) is judged from the roll-up alone: per channel and product with `minOrders` or more in it, the same
 * window on each of the `baselineDays` days before, a robust z-score (median and MAD, so one earlier spike does
 * not hide the next). A spike is stored once per (channel, product, window) by velocity_spike's key, flags each
 * order of the window with the product (once per order and kind, as every rule) and raises one RISK alert.
 * Nothing when the rule is off.
 */
export async function judgeVelocity(em: EntityManager, now = new Date()): Promise<VelocityJudgement> {
  const rule = (await loadRiskRules(em))[RiskKind.VELOCITY];
  if (!rule.enabled) return { hours: 0, windows: 0, spikes: 0, flagged: 0 };
  const p = rule.params;
  const windowMs = p.windowMinutes * 60_000;
  const closed = Math.floor((now.getTime() - SETTLE_MS) / HOUR_MS) * HOUR_MS;
  const from = closed - p.baselineDays * 24 * HOUR_MS - windowMs;
  return em.transactional(async (tx) => {
    const rolled = await tx.execute<{ at: number }[]>(
      `with h as (
         insert into product_orders_hour_rolled (hour)
         select generate_series(?::timestamptz, ?::timestamptz, interval '1 hour') order by 1
         on conflict (hour) do nothing
         returning hour
       ),
       counted as (
         insert into product_orders_hourly (channel_id, product_code, hour, orders)
         select o.channel_id, l.product_code, h.hour, count(distinct o.id)
         from h
         join "order" o on o.placed_at >= h.hour and o.placed_at < h.hour + interval '1 hour' and o.parent_id is null
         join order_line l on l.order_id = o.id
         group by 1, 2, 3
       )
       select extract(epoch from hour)::float8 * 1000 as at from h`,
      [new Date(from), new Date(closed - HOUR_MS)],
    );
    if (rolled.length === 0) return { hours: 0, windows: 0, spikes: 0, flagged: 0 };
    const keep = new Date(now.getTime() - KEEP_MS);
    await tx.execute('delete from product_orders_hourly where hour < ?', [keep]);
    await tx.execute('delete from product_orders_hour_rolled where hour < ?', [keep]);
    const ends = rolled
      .map((r) => r.at + HOUR_MS)
      .filter((end) => end % windowMs === 0 && end > now.getTime() - CATCH_UP_MS)
      .sort((a, b) => a - b);
    if (ends.length === 0) return { hours: rolled.length, windows: 0, spikes: 0, flagged: 0 };
    const [judged] = await tx.execute<{ spikes: number; flagged: number }[]>(velocitySql(p), [
      `{${ends.map((end) => new Date(end).toISOString()).join(',')}}`,
      p.minOrders,
      p.minHistoryDays,
      p.zScore,
      p.zScore,
      RiskKind.VELOCITY,
      StockAlertKind.RISK,
    ]);
    return { hours: rolled.length, windows: ends.length, ...judged };
  });
}

/**
 * The windows ending at the times given (`?::timestamptz[]`), judged, stored as spikes, flagged and alerted, in
 * one statement; answers (spikes, flagged). Reads the roll-up, and the orders only of a spike's window.
 */
function velocitySql(p: RiskParams[RiskKind.VELOCITY]): string {
  const width = `make_interval(mins => ${p.windowMinutes})`;
  const days = `make_interval(days => ${p.baselineDays})`;
  const same = (b: string, n: string) =>
    `${b}.channel_id = ${n}.channel_id and ${b}.product_code = ${n}.product_code and ${b}.s = ${n}.s`;
  return `
    with w as (select e - ${width} as s, e from unnest(?::timestamptz[]) e),
    n as materialized (
      select w.s, w.e, p.channel_id, p.product_code, sum(p.orders)::int as orders
      from w join product_orders_hourly p on p.hour >= w.s and p.hour < w.e
      group by 1, 2, 3, 4 having sum(p.orders) >= ?
    ),
    -- The same window on each day before: its orders, 0 when none.
    b as materialized (
      select n.s, n.channel_id, n.product_code, coalesce(sum(p.orders), 0) as c
      from n cross join generate_series(1, ${p.baselineDays}) d
      left join product_orders_hourly p on p.channel_id = n.channel_id and p.product_code = n.product_code
        and p.hour >= n.s - make_interval(days => d) and p.hour < n.e - make_interval(days => d)
      group by n.s, n.channel_id, n.product_code, d
    ),
    -- The days of the baseline (24 hours each, back from the window) on which the product sold on the channel.
    h as (
      select n.s, n.channel_id, n.product_code,
        count(distinct floor(extract(epoch from n.s - p.hour - interval '1 hour') / 86400)) as days
      from n join product_orders_hourly p on p.channel_id = n.channel_id and p.product_code = n.product_code
        and p.hour >= n.s - ${days} and p.hour < n.s
      group by 1, 2, 3
    ),
    z as (
      select n.*, m.median, a.mad, (n.orders - m.median) / greatest(1.4826 * a.mad, 1) as score
      from n join h on ${same('h', 'n')}
      cross join lateral (
        select percentile_cont(0.5) within group (order by b.c) as median from b where ${same('b', 'n')}
      ) m
      cross join lateral (
        select percentile_cont(0.5) within group (order by abs(b.c - m.median)) as mad from b where ${same('b', 'n')}
      ) a
      where h.days >= ?
    ),
    spike as (
      insert into velocity_spike (channel_id, product_code, window_start, window_minutes, orders, median, mad, z_score)
      select channel_id, product_code, s, ${p.windowMinutes}, orders, median, mad, score from z where score >= ?
      order by channel_id, product_code, s
      on conflict do nothing
      returning *
    ),
    found as (
      select distinct on (o.id) o.id as order_id, sp.z_score / ? as score,
        sp.product_code || ': ' || sp.orders || ' orders in the ${p.windowMinutes} min from '
          || to_char(sp.window_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') || ' UTC against a median of '
          || sp.median || ' in the same window on the ${p.baselineDays} days before (robust z-score '
          || round(sp.z_score::numeric, 1) || ')' as reason,
        jsonb_build_object('productCode', sp.product_code, 'orders', sp.orders, 'median', sp.median,
          'mad', sp.mad, 'zScore', round(sp.z_score::numeric, 2), 'windowStart', sp.window_start) as detail
      from spike sp
      join "order" o on o.channel_id = sp.channel_id and o.parent_id is null
        and o.placed_at >= sp.window_start and o.placed_at < sp.window_start + ${width}
        and exists (select 1 from order_line l where l.order_id = o.id and l.product_code = sp.product_code)
      order by o.id, sp.z_score desc
    ),
    flagged as (
      insert into risk_flag (order_id, kind, score, reason, detail)
      select order_id, ?, score, reason, detail from found order by order_id
      on conflict (order_id, kind) do nothing
      returning order_id
    ),
    alerted as (
      insert into stock_alert (kind, product_id, product_code, available, message, channel_code, bucket_start,
        expected_orders, actual_orders)
      select ?, (select id from product where product_code = sp.product_code), sp.product_code, 0,
        sp.product_code || ' on ' || c.code || ': ' || sp.orders || ' orders in the ${p.windowMinutes} min from '
          || to_char(sp.window_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') || ' UTC against a median of '
          || sp.median || ' (robust z-score ' || round(sp.z_score::numeric, 1) || '): its orders flagged VELOCITY',
        c.code, sp.window_start, sp.median, sp.orders
      from spike sp join channel c on c.id = sp.channel_id
      order by c.code, sp.product_code, sp.window_start
      returning id
    )
    select (select count(*) from spike)::int as spikes, (select count(*) from flagged)::int as flagged`;
}

/** `resolveRiskFlag`: who looked into the flag and when, with their note; a resolved flag stays as it was resolved. */
export async function resolveRiskFlag(ctx: RequestContext, flagId: string, note: string): Promise<RiskFlag> {
  const id = parseId(flagId, 'flagId');
  const text = note.trim();
  if (!text) throw new BadUserInputError('note must not be empty.', 'note');
  if (text.length > MAX_NOTE)
    throw new BadUserInputError(`note must be at most ${MAX_NOTE} characters.`, 'note');
  return inTransaction(ctx, async (tx) => {
    const [flag] = await tx.execute<{ channel_code: string }[]>(
      `select c.code as channel_code from risk_flag f join "order" o on o.id = f.order_id
       join channel c on c.id = o.channel_id where f.id = ? for update of f`,
      [id],
    );
    if (!flag) throw new NotFoundError('RiskFlag', id);
    assertChannelAccess(ctx, flag.channel_code);
    await tx.execute(
      `update risk_flag set resolved_at = now(), resolved_by = ?, resolution_note = ?, updated_at = now()
       where id = ? and resolved_at is null`,
      [actorOf(ctx), text, id],
    );
    return tx.findOneOrFail(RiskFlag, { id }, { refresh: true });
  });
}

const MAX_NOTE = 1000;

/** `riskFlags`: the newest flags first (unresolved only, unless asked), a channel's key its own channel's only. */
export async function listRiskFlags(
  ctx: RequestContext,
  options: { unresolvedOnly: boolean; kind: RiskKind | null; first: number },
): Promise<RiskFlag[]> {
  if (options.first < 1 || options.first > 500)
    throw new BadUserInputError('first must be between 1 and 500.', 'first');
  const scope = channelScope(ctx);
  return ctx.em.find(
    RiskFlag,
    {
      ...(options.unresolvedOnly ? { resolvedAt: null } : {}),
      ...(options.kind ? { kind: options.kind } : {}),
      ...(scope ? { order: { channel: { code: scope } } } : {}),
    },
    { orderBy: { at: 'desc', id: 'desc' }, limit: options.first },
  );
}
