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
 * (`risk_flag`, once per order and kind) and a RISK stock alert per new flag, in the caller's transaction.
 * Each rule is one set-based statement per batch, whatever its size. Buyers are compared by the keys of the
 * risk migration's SQL functions (hub_risk_address, hub_risk_phone, hub_risk_buyer), each indexed with the
 * order's time, so a look-up reads one buyer's orders in one window.
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
  [RiskKind.VELOCITY]: z.strictObject({
    /** One product's orders on one channel in the window of this many minutes up to the newest order ... */
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    /** ... against the same window on each of this many days before ... */
    baselineDays: z.number().int().min(3).max(90),
    /** ... flagged at this robust z-score ((count - median) / (1.4826 × MAD), the MAD taken as at least 1) ... */
    zScore: z.number().positive(),
    /** ... and at least this many orders in the window. */
    minOrders: z.number().int().min(1),
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
 * z-score of 6 over its last two weeks' same hour (20 orders at least), a line at more than 70% off.
 * Velocity is off until switched on: its statement reads every order of the window and of the baseline's
 * windows for each product of a batch, which cut ingestion to 0.05–0.26× of its rate (BENCHMARKS.md, bench:risk).
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
    enabled: false,
    params: { windowMinutes: 60, baselineDays: 14, zScore: 6, minOrders: 20 },
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

/**
 * Velocity: for each product and channel of the orders given, the orders with that product in the window up to
 * the newest of them, against the same window on each of the days before: a robust z-score (median and MAD, so
 * one earlier spike does not hide the next). The baseline is counted only when the window reaches `minOrders`.
 * Counted from the orders and their lines (sales_hourly has no product).
 */
function velocity(orderIds: string, p: RiskParams[RiskKind.VELOCITY]): Finding {
  // The baseline's windows: per order of the channel's window, its lines by order id (a product's lines may be many
  // more than a window's orders).
  const count = (from: string, to: string) => `(
    select count(*) from "order" o
    where o.channel_id = w.channel_id and o.parent_id is null and o.placed_at > ${from} and o.placed_at <= ${to}
      and exists (select 1 from order_line l where l.order_id = o.id and l.product_code = w.product_code))`;
  const width = `make_interval(mins => ${p.windowMinutes})`;
  return {
    sql: `
      with w as materialized (
        select l.product_code, o.channel_id, max(o.placed_at) as t
        from "order" o join order_line l on l.order_id = o.id
        where o.id = any(?::uuid[]) and o.parent_id is null
        group by l.product_code, o.channel_id
      ),
      n as materialized (
        select w.product_code, w.channel_id, w.t, count(o.id) as orders
        from w
        left join "order" o on o.channel_id = w.channel_id and o.parent_id is null
          and o.placed_at > w.t - ${width} and o.placed_at <= w.t
          and exists (select 1 from order_line l where l.order_id = o.id and l.product_code = w.product_code)
        group by w.product_code, w.channel_id, w.t
      ),
      z as materialized (
        select w.*, m.median, a.mad, (w.orders - m.median) / greatest(1.4826 * a.mad, 1) as score
        from (select * from n where orders >= ?) w
        cross join lateral (
          select array_agg(${count(
            `w.t - make_interval(days => d) - ${width}`,
            'w.t - make_interval(days => d)',
          )}) as counts
          from generate_series(1, ${p.baselineDays}) d
        ) b
        cross join lateral (select percentile_cont(0.5) within group (order by c) as median from unnest(b.counts) c) m
        cross join lateral (
          select percentile_cont(0.5) within group (order by abs(c - m.median)) as mad from unnest(b.counts) c
        ) a
      )
      select distinct on (o.id) o.id as order_id, z.score / ? as score,
        z.product_code || ': ' || z.orders || ' orders in ' || ${p.windowMinutes} || ' min against a median of '
          || z.median || ' in the same window on the ' || ${p.baselineDays} || ' days before (robust z-score '
          || round(z.score::numeric, 1) || ')' as reason,
        jsonb_build_object('productCode', z.product_code, 'orders', z.orders, 'median', z.median, 'mad', z.mad,
          'zScore', round(z.score::numeric, 2)) as detail
      from z
      join "order" o on o.channel_id = z.channel_id and o.parent_id is null
        and o.placed_at > z.t - ${width} and o.placed_at <= z.t
        and exists (select 1 from order_line l where l.order_id = o.id and l.product_code = z.product_code)
      where z.score >= ?
      order by o.id, z.score desc`,
    params: [orderIds, p.minOrders, p.zScore, p.zScore],
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

const RULES: { [K in RiskKind]: (orderIds: string, params: RiskParams[K]) => Finding } = {
  [RiskKind.BRUSHING]: brushing,
  [RiskKind.SERIAL_RETURNER]: serialReturner,
  [RiskKind.VELOCITY]: velocity,
  [RiskKind.MISMATCH]: mismatch,
};

async function evaluate(tx: EntityManager, orderIds: string[], kinds: RiskKind[]): Promise<number> {
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
 * Every rule for orders that just arrived (the order gateway and placeOrder call it, in their transaction).
 * Answers how many flags are new.
 */
export function evaluateOrderRisk(tx: EntityManager, orderIds: string[]): Promise<number> {
  return evaluate(tx, orderIds, Object.values(RiskKind));
}

/**
 * The serial-returner rule for orders an after-sale case was stored, moved or attached for (services/returns.ts
 * calls it in that transaction).
 */
export function evaluateRefundRisk(tx: EntityManager, orderIds: string[]): Promise<number> {
  return evaluate(tx, orderIds, [RiskKind.SERIAL_RETURNER]);
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
