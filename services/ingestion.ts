import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import { connectorFor } from '../connectors/index.js';
import { canonicalFromLoggedCsv } from '../connectors/csv.js';
import type { CanonicalOrder } from '../connectors/canonical.js';
import { Channel, IngestLog, Order, Product } from '../entities/index.js';
import { IngestOutcome, IngestSource, OrderStatus, StockAlertKind } from '../common/enums.js';
import { assertChannelAccess } from './access.js';
import type { DomainSettings, RequestContext } from './context.js';
import {
  BadUserInputError,
  ChannelClosedError,
  ConflictError,
  HubError,
  InsufficientStockError,
  NotFoundError,
} from '../common/errors.js';
import { isForward, STOCK_TAKEN } from './lifecycle.js';
import { carryToChildren } from './order-lifecycle.js';
import { isRemoteProvince } from './provinces.js';
import { splitOrders } from './splitting.js';
import { evaluateStockLevels } from './stock-levels.js';
import {
  commitLines,
  holdMany,
  raiseAlert,
  releaseHolds,
  restockCommitted,
  takeMany,
  type Shortfall,
  type StockLine,
} from './stock.js';

/**
 * The one gateway every channel's orders come through: webhook, poll, CSV, API.
 * The raw body is logged first; then one transaction makes or advances the order,
 * its timeline and its stock effect, idempotent on (channel, externalId).
 */

export interface IngestResult {
  orderId: string;
  outcome: IngestOutcome.CREATED | IngestOutcome.UPDATED | IngestOutcome.DUPLICATE;
}

/** One order of a batch: its result, or why it was not stored. */
export type ItemResult = IngestResult | { error: Error };

export interface IngestItem {
  order: CanonicalOrder;
  /** Its ingest log row, to record the outcome on. */
  logId?: string;
  /** The payload as received, kept on the order. */
  raw?: string | null;
}

interface ResolvedLine {
  lineNo: number;
  productCode: string;
  productId: string | null;
  platformSkuId: string | null;
  quantity: number;
  unitPrice: string;
  lineTotal: string;
}

export async function requireChannelByCode(em: EntityManager, code: string): Promise<Channel> {
  const channel = await em.findOne(Channel, { code }, { disableIdentityMap: true });
  if (!channel) throw new NotFoundError('Channel', code);
  return channel;
}

async function logFailed(em: EntityManager, logId: string, error: unknown) {
  const message = error instanceof HubError ? error.message : 'internal error; see the hub log';
  await em.execute(`update ingest_log set outcome = 'FAILED', error = ?, processed_at = now() where id = ?`, [
    message,
    logId,
  ]);
}

/** Parses a body as JSON, naming the problem for the platform's operator. */
function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch (err) {
    throw new BadUserInputError(`The body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes raw bodies to the ingest log in one statement of their own, before any is processed: nothing received is lost. */
async function logReceivedMany(
  em: EntityManager,
  channelCode: string,
  source: IngestSource,
  rawBodies: string[],
): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into ingest_log (channel_code, source, raw_body) values ${rawBodies.map(() => '(?, ?, ?)').join(', ')}
     returning id`,
    rawBodies.flatMap((body) => [channelCode, source, body]),
  );
  return rows.map((r) => String(r.id));
}

/**
 * Ingests raw payloads from one channel: logged first (unless they already have
 * log rows, as on replay), mapped by the channel's connector, then stored together.
 * A payload that cannot be mapped is recorded on its log row (for replay) and
 * answered with its error; the others are stored all the same.
 */
export async function ingestRawMany(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBodies: string[],
  logIds?: string[],
): Promise<ItemResult[]> {
  if (rawBodies.length === 0) return [];
  const ids = logIds ?? (await logReceivedMany(ctx.em, channel.code, source, rawBodies));
  const connector = connectorFor(channel.platform);
  const results: ItemResult[] = new Array(rawBodies.length);
  const items: IngestItem[] = [];
  const positions: number[] = [];
  for (const [i, rawBody] of rawBodies.entries()) {
    try {
      items.push({ order: connector.toOrder(parseJsonBody(rawBody)), logId: ids[i], raw: rawBody });
      positions.push(i);
    } catch (err) {
      results[i] = { error: err as Error };
      await logFailed(ctx.em, ids[i], err);
    }
  }
  const stored = await ingestMany(ctx, channel, items, {});
  stored.forEach((result, k) => (results[positions[k]] = result));
  return results;
}

/** One payload: the batch of one. Throws the payload's error. */
async function ingestRaw(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBody: string,
  logId?: string,
): Promise<IngestResult> {
  const [result] = await ingestRawMany(ctx, channel, source, [rawBody], logId ? [logId] : undefined);
  if ('error' in result) throw result.error;
  return result;
}

/** Stores one mapped order. Throws its error. */
async function ingestCanonical(
  ctx: RequestContext,
  channel: Channel,
  order: CanonicalOrder,
  options: { logId?: string; raw?: string | null; historical?: boolean },
): Promise<IngestResult> {
  const [result] = await ingestMany(
    ctx,
    channel,
    [{ order, logId: options.logId, raw: options.raw }],
    options,
  );
  if ('error' in result) throw result.error;
  return result;
}

/** PostgreSQL aborts one side of a deadlock or serialisation conflict; the whole batch is then simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Stores mapped orders of one channel in one transaction: the ingestion path of
 * every door (webhook batches, polling pages, CSV chunks, the API). Orders that
 * fail validation are answered with their error; the rest are stored together.
 */
export async function ingestMany(
  ctx: RequestContext,
  channel: Channel,
  items: IngestItem[],
  options: { historical?: boolean },
): Promise<ItemResult[]> {
  const results: ItemResult[] = new Array(items.length);
  const valid: number[] = [];
  for (const [i, item] of items.entries()) {
    try {
      validateCanonical(item.order);
      valid.push(i);
    } catch (err) {
      results[i] = { error: err as Error };
      if (item.logId) await logFailed(ctx.em, item.logId, err);
    }
  }
  if (valid.length === 0) return results;
  const batch = valid.map((i) => items[i]);
  for (let attempt = 1; ; attempt++) {
    try {
      const stored = await ctx.em.transactional((tx) =>
        storeBatch(ctx, tx, channel, batch, options.historical ?? false),
      );
      stored.forEach((result, k) => (results[valid[k]] = result));
      break;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      ctx.logger.debug({ attempt, code }, 'ingestion batch conflicted; running it again');
    }
  }
  if (results.some((r) => 'outcome' in r && r.outcome === IngestOutcome.CREATED))
    noteOrderArrived(ctx.em, channel.id);
  return results;
}

async function storeBatch(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  items: IngestItem[],
  historical: boolean,
): Promise<IngestResult[]> {
  const lines = await resolveLines(
    tx,
    channel,
    items.map((i) => i.order),
  );
  // The first payload of each order in the batch may create it; later ones update it like any repeat.
  const first = new Map<string, number>();
  items.forEach((item, k) => first.has(item.order.externalId) || first.set(item.order.externalId, k));
  const inserted = await insertOrders(
    tx,
    channel,
    [...first.values()].map((k) => items[k]),
    ctx.settings,
  );
  const created = [...first.entries()]
    .filter(([externalId]) => inserted.has(externalId))
    .map(([externalId, k]) => ({ k, ...inserted.get(externalId)! }));
  await onCreated(
    ctx,
    tx,
    channel,
    created.map((c) => ({ ...c, order: items[c.k].order, lines: lines[c.k] })),
    historical,
  );

  const createdAt = new Set(created.map((c) => c.k));
  const results: IngestResult[] = [];
  for (const [k, item] of items.entries()) {
    results.push(
      createdAt.has(k)
        ? { orderId: inserted.get(item.order.externalId)!.id, outcome: IngestOutcome.CREATED }
        : await onKnown(ctx, tx, channel, item.order, lines[k], historical),
    );
  }
  if (!historical) {
    // Safety stock and alerts: one statement for the whole batch, more only where a threshold is crossed.
    const touched = items.flatMap((_, k) =>
      createdAt.has(k) || results[k].outcome === IngestOutcome.UPDATED
        ? stockLines(lines[k]).map((l) => l.productId)
        : [],
    );
    await evaluateStockLevels(tx, touched, ctx.settings);
  }
  const logged = items.flatMap((item, k) =>
    item.logId ? [{ logId: item.logId, item, result: results[k] }] : [],
  );
  if (logged.length) {
    await tx.execute(
      `update ingest_log l set outcome = v.outcome, external_id = v.external_id, order_id = v.order_id::uuid,
         error = null, processed_at = now()
       from (values ${logged.map(() => '(?::bigint, ?, ?, ?)').join(', ')}) as v(id, outcome, external_id, order_id)
       where l.id = v.id`,
      logged.flatMap((l) => [l.logId, l.result.outcome, l.item.order.externalId, l.result.orderId]),
    );
  }
  return results;
}

/** Column limits, checked before the database so a long value is a clear 400, not an internal error. */
const MAX_TEXT = 255;
const MAX_CODE = 128;
const MAX_AMOUNT = new Decimal('999999999999.99');

function validateCanonical(order: CanonicalOrder) {
  const tooLong = (value: string | null | undefined, max: number, field: string) => {
    if (value && value.length > max)
      throw new BadUserInputError(`${field} must be at most ${max} characters.`, field);
  };
  if (!order.externalId) throw new BadUserInputError('externalId must not be empty.', 'externalId');
  tooLong(order.externalId, MAX_CODE, 'externalId');
  tooLong(order.customerName, MAX_TEXT, 'customerName');
  const a = order.shippingAddress;
  for (const field of ['name', 'phone', 'province', 'city', 'district', 'postalCode'] as const) {
    tooLong(a[field], MAX_TEXT, `shippingAddress.${field}`);
  }
  if (order.lines.length === 0) throw new BadUserInputError('An order needs at least one line.', 'lines');
  order.lines.forEach((line, i) => {
    tooLong(line.productCode, MAX_CODE, `lines[${i}].productCode`);
    tooLong(line.platformSkuId, MAX_CODE, `lines[${i}].platformSkuId`);
    if (new Decimal(line.lineTotal).gt(MAX_AMOUNT)) {
      throw new BadUserInputError(`lines[${i}] amounts must be below 10^12.`, `lines[${i}].lineTotal`);
    }
  });
  if (new Decimal(order.total).gt(MAX_AMOUNT))
    throw new BadUserInputError('total must be below 10^12.', 'total');
}

/** Codes resolved to products: the merchant's own code first, else the channel's SKU map. */
async function resolveLines(
  tx: EntityManager,
  channel: Channel,
  orders: CanonicalOrder[],
): Promise<ResolvedLine[][]> {
  const all = orders.flatMap((o) => o.lines);
  const codes = [...new Set(all.map((l) => l.productCode).filter((c): c is string => !!c))];
  const skuIds = [
    ...new Set(all.filter((l) => !l.productCode && l.platformSkuId).map((l) => l.platformSkuId!)),
  ];
  const byCode = new Map<string, string>();
  const bySku = new Map<string, { id: string; code: string }>();
  if (codes.length) {
    const rows = await tx.execute<{ id: string; product_code: string }[]>(
      `select id, product_code from product where product_code in (${codes.map(() => '?').join(', ')})`,
      codes,
    );
    for (const r of rows) byCode.set(r.product_code, r.id);
  }
  if (skuIds.length) {
    const rows = await tx.execute<{ platform_sku_id: string; id: string; product_code: string }[]>(
      `select s.platform_sku_id, p.id, p.product_code from channel_sku s join product p on p.id = s.product_id
       where s.channel_id = ? and s.platform_sku_id in (${skuIds.map(() => '?').join(', ')})`,
      [channel.id, ...skuIds],
    );
    for (const r of rows) bySku.set(r.platform_sku_id, { id: r.id, code: r.product_code });
  }
  return orders.map((order) =>
    order.lines.map((line, i) => {
      const mapped = line.productCode ? null : bySku.get(line.platformSkuId ?? '');
      return {
        lineNo: i + 1,
        productCode: line.productCode ?? mapped?.code ?? line.platformSkuId ?? `line-${i + 1}`,
        productId: line.productCode ? (byCode.get(line.productCode) ?? null) : (mapped?.id ?? null),
        platformSkuId: line.platformSkuId,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        lineTotal: line.lineTotal,
      };
    }),
  );
}

function initialStatus(order: CanonicalOrder): OrderStatus {
  return order.status ?? (order.paidAt ? OrderStatus.PAID : OrderStatus.PENDING_PAYMENT);
}

/**
 * The unique (channel, externalId) index is the guard: a concurrent duplicate waits
 * on it, then inserts nothing and is handled as a known order. Returns the orders
 * this statement created, by externalId.
 */
async function insertOrders(
  tx: EntityManager,
  channel: Channel,
  items: IngestItem[],
  settings: DomainSettings,
): Promise<Map<string, { id: string; status: OrderStatus; remote: boolean }>> {
  const rows = await tx.execute<
    { id: string; external_id: string; status: OrderStatus; ship_remote: boolean }[]
  >(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, ship_postal_code, ship_country, ship_remote, total_amount, currency_code,
       placed_at, paid_at, raw)
     values ${items.map(() => '(gen_random_uuid(), ?, ?, ?::order_status, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)').join(', ')}
     on conflict (channel_id, external_id) do nothing returning id, external_id, status, ship_remote`,
    items.flatMap(({ order, raw }) => {
      const a = order.shippingAddress;
      return [
        channel.id,
        order.externalId,
        initialStatus(order),
        order.customerName,
        a.name,
        a.phone,
        a.province,
        a.city,
        a.district,
        a.line1,
        a.postalCode,
        a.country,
        isRemoteProvince(a.province, settings.remoteProvinces),
        order.total,
        order.currencyCode,
        order.placedAt,
        order.paidAt,
        raw ?? null,
      ];
    }),
  );
  return new Map(rows.map((r) => [r.external_id, { id: r.id, status: r.status, remote: r.ship_remote }]));
}

async function insertLines(tx: EntityManager, orders: { orderId: string; lines: ResolvedLine[] }[]) {
  const rows = orders.flatMap((o) => o.lines.map((line) => ({ orderId: o.orderId, line })));
  if (rows.length === 0) return;
  await tx.execute(
    `insert into order_line (id, order_id, line_no, product_code, product_id, platform_sku_id, quantity, unit_price, line_total)
     values ${rows.map(() => '(gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    rows.flatMap(({ orderId, line: l }) => [
      orderId,
      l.lineNo,
      l.productCode,
      l.productId,
      l.platformSkuId,
      l.quantity,
      l.unitPrice,
      l.lineTotal,
    ]),
  );
}

interface NewEvent {
  orderId: string;
  channelCode: string;
  type: string;
  from: OrderStatus | null;
  to: OrderStatus | null;
  source: string;
  detail?: Record<string, unknown>;
}

async function addEvents(tx: EntityManager, events: NewEvent[]) {
  if (events.length === 0) return;
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     values ${events.map(() => '(?, ?, ?, ?::order_status, ?::order_status, ?, ?::jsonb)').join(', ')}`,
    events.flatMap((e) => [
      e.orderId,
      e.channelCode,
      e.type,
      e.from,
      e.to,
      e.source,
      e.detail ? JSON.stringify(e.detail) : null,
    ]),
  );
}

function stockLines(lines: ResolvedLine[]): StockLine[] {
  return lines
    .filter((l) => l.productId)
    .map((l) => ({ productId: l.productId!, productCode: l.productCode, quantity: l.quantity }));
}

/** New orders: their lines, a CREATED entry each, the split rules, alerts for unknown codes, and their stock effect. */
async function onCreated(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  created: {
    id: string;
    status: OrderStatus;
    remote: boolean;
    order: CanonicalOrder;
    lines: ResolvedLine[];
  }[],
  historical: boolean,
) {
  if (created.length === 0) return;
  await insertLines(
    tx,
    created.map((c) => ({ orderId: c.id, lines: c.lines })),
  );
  await addEvents(
    tx,
    created.map((c) => ({
      orderId: c.id,
      channelCode: channel.code,
      type: 'CREATED',
      from: null,
      to: c.status,
      source: channel.code,
      detail: { platformStatus: c.order.platformStatus, ...(historical ? { historical: true } : {}) },
    })),
  );
  await splitOrders(
    ctx,
    tx,
    created.map((c) => ({
      id: c.id,
      externalId: c.order.externalId,
      channelCode: channel.code,
      status: c.status,
      remote: c.remote,
    })),
    'system',
  );
  for (const c of created) {
    for (const line of c.lines.filter((l) => !l.productId)) {
      await raiseAlert(tx, {
        kind: StockAlertKind.UNKNOWN_PRODUCT,
        productId: null,
        productCode: line.productCode,
        available: 0,
        orderId: c.id,
        message: `Order ${c.order.externalId} on ${channel.code} has a line "${line.productCode}" that neither the SKU map nor the catalog knows; it was stored without a product.`,
      });
    }
  }
  if (historical) return;
  const linesOf = (wanted: (status: OrderStatus) => boolean) =>
    created
      .filter((c) => wanted(c.status))
      .flatMap((c) => stockLines(c.lines).map((line) => ({ ...line, orderId: c.id })));
  const shortfalls = [
    ...(await holdMany(
      tx,
      channel.code,
      linesOf((s) => s === OrderStatus.PENDING_PAYMENT),
      ctx.settings.reservationTtlSeconds,
    )),
    ...(await takeMany(
      tx,
      channel.code,
      linesOf((s) => STOCK_TAKEN.has(s)),
      channel.code,
    )),
  ];
  const externalIds = new Map(created.map((c) => [c.id, c.order.externalId]));
  for (const s of shortfalls) await reportShortfall(tx, channel, externalIds.get(s.orderId)!, s);
}

async function onKnown(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  order: CanonicalOrder,
  lines: ResolvedLine[],
  historical: boolean,
) {
  const [current] = await tx.execute<{ id: string; status: OrderStatus }[]>(
    `select id, status from "order" where channel_id = ? and external_id = ? for update`,
    [channel.id, order.externalId],
  );
  const to = order.status;
  if (to === null) {
    await addEvents(tx, [
      {
        orderId: current.id,
        channelCode: channel.code,
        type: 'HELD_BY_PLATFORM',
        from: current.status,
        to: current.status,
        source: channel.code,
        detail: { platformStatus: order.platformStatus },
      },
    ]);
    return { orderId: current.id, outcome: IngestOutcome.UPDATED as const };
  }
  if (!isForward(current.status, to))
    return { orderId: current.id, outcome: IngestOutcome.DUPLICATE as const };

  await tx.execute(
    `update "order" set status = ?::order_status, updated_at = now(),
       paid_at = coalesce(paid_at, ?, case when ?::order_status in ('PAID','PACKED','SHIPPED','DELIVERED') then now() end),
       shipped_at = case when ?::order_status in ('SHIPPED','DELIVERED') then coalesce(shipped_at, now()) else shipped_at end,
       delivered_at = case when ?::order_status = 'DELIVERED' then coalesce(delivered_at, now()) else delivered_at end
     where id = ?`,
    [to, order.paidAt, to, to, to, current.id],
  );
  await addEvents(tx, [
    {
      orderId: current.id,
      channelCode: channel.code,
      type: 'STATUS_CHANGED',
      from: current.status,
      to,
      source: channel.code,
      detail: { platformStatus: order.platformStatus },
    },
  ]);
  // The platform speaks for the whole sale: a split order's sub-orders follow it.
  await carryToChildren(tx, [current.id], to, channel.code, { platformStatus: order.platformStatus });
  if (!historical) {
    const target = { id: current.id, channelCode: channel.code };
    const wasTaken = STOCK_TAKEN.has(current.status);
    if (!wasTaken && STOCK_TAKEN.has(to)) {
      const shortfalls = await commitLines(tx, target, stockLines(lines), channel.code);
      for (const s of shortfalls)
        await reportShortfall(tx, channel, order.externalId, { ...s, orderId: current.id });
    } else if (to === OrderStatus.CANCELLED) {
      if (wasTaken) await restockCommitted(tx, current.id, channel.code);
      else await releaseHolds(tx, current.id);
    }
  }
  return { orderId: current.id, outcome: IngestOutcome.UPDATED as const };
}

/** A marketplace sale already happened: the order is kept, and the shortfall is an OUT_OF_STOCK alert naming it. */
async function reportShortfall(
  tx: EntityManager,
  channel: Channel,
  externalId: string,
  s: Shortfall & { orderId: string },
) {
  await raiseAlert(tx, {
    kind: StockAlertKind.OUT_OF_STOCK,
    productId: s.productId,
    productCode: s.productCode,
    available: s.available,
    orderId: s.orderId,
    message: `Order ${externalId} on ${channel.code} needs ${s.quantity} of "${s.productCode}" but only ${s.available} are available.`,
  });
}

/** lastOrderAt moves at most once a second per channel: one hot row must not serialise every ingestion. */
const lastNoted = new Map<string, number>();
function noteOrderArrived(em: EntityManager, channelId: string) {
  const now = Date.now();
  if (now - (lastNoted.get(channelId) ?? 0) < 1000) return;
  lastNoted.set(channelId, now);
  void em
    .execute(
      `update channel set last_order_at = now() where id = ? and (last_order_at is null or last_order_at < now())`,
      [channelId],
    )
    .catch(() => lastNoted.delete(channelId));
}

/** `ingestChannelOrder`: the API door of the gateway, for connectors and operators. */
export async function ingestChannelOrder(
  ctx: RequestContext,
  channelCode: string,
  payload: unknown,
): Promise<Order> {
  assertChannelAccess(ctx, channelCode);
  const channel = await requireChannelByCode(ctx.em, channelCode);
  const { orderId } = await ingestRaw(ctx, channel, IngestSource.API, JSON.stringify(payload));
  return ctx.em.findOneOrFail(Order, { id: orderId });
}

/** Re-runs stored payloads that failed or were never finished; returns how each went. */
export async function replayIngestLog(
  ctx: RequestContext,
  filter: { failedOnly: boolean; channelCode?: string | null; limit: number },
): Promise<{ replayed: number; succeeded: number; failed: number }> {
  const rows = await ctx.em.find(
    IngestLog,
    {
      outcome: filter.failedOnly
        ? IngestOutcome.FAILED
        : { $in: [IngestOutcome.FAILED, IngestOutcome.RECEIVED] },
      ...(filter.channelCode ? { channelCode: filter.channelCode } : {}),
    },
    { orderBy: { id: 'asc' }, limit: filter.limit },
  );
  let succeeded = 0;
  for (const row of rows) {
    try {
      const channel = await requireChannelByCode(ctx.em, row.channelCode);
      if (row.source === IngestSource.CSV) {
        // A logged CSV order is its rows, mapped again the way the import mapped them.
        const { order, historical } = canonicalFromLoggedCsv(row.rawBody);
        await ingestCanonical(ctx, channel, order, { logId: row.id, raw: row.rawBody, historical });
      } else {
        await ingestRaw(ctx, channel, row.source, row.rawBody, row.id);
      }
      succeeded++;
    } catch (err) {
      await logFailed(ctx.em, row.id, err);
      ctx.logger.warn({ ingestLogId: row.id, err }, 'replay failed');
    }
  }
  return { replayed: rows.length, succeeded, failed: rows.length - succeeded };
}

export interface PlaceOrderInput {
  channelCode: string;
  externalId: string;
  customerName: string;
  shippingAddress: {
    name?: string | null;
    phone?: string | null;
    province?: string | null;
    city?: string | null;
    district?: string | null;
    line1: string;
    postalCode?: string | null;
    country: string;
  };
  lines: { productCode: string; quantity: number; unitPrice: string }[];
  currencyCode: string;
}

const MAX_LINE_QUANTITY = 100_000;

/**
 * An order from the merchant's own storefront or the API: unlike a marketplace
 * sale it is only taken when every line can be held, all or nothing, on an open
 * channel; otherwise it fails with INSUFFICIENT_STOCK or CHANNEL_CLOSED and
 * stores nothing. Placing the same (channel, externalId) again answers the
 * order already placed.
 */
export async function placeOrder(ctx: RequestContext, input: PlaceOrderInput): Promise<Order> {
  assertChannelAccess(ctx, input.channelCode);
  const order = canonicalFromInput(input);
  validateCanonical(order);
  const channel = await requireChannelByCode(ctx.em, input.channelCode);
  const existing = await ctx.em.findOne(Order, { channel: channel.id, externalId: order.externalId });
  if (existing) return existing;
  if (!channel.salesOpen) throw new ChannelClosedError(channel.code);

  const codes = [...new Set(order.lines.map((l) => l.productCode!))];
  const products = await ctx.em.find(Product, { productCode: { $in: codes } });
  for (const code of codes) {
    const product = products.find((p) => p.productCode === code);
    if (!product) throw new NotFoundError('Product', code);
    if (product.closedOnChannels.includes(channel.code)) throw new ChannelClosedError(channel.code, code);
  }

  try {
    const orderId = await ctx.em.transactional(async (tx) => {
      const [lines] = await resolveLines(tx, channel, [order]);
      const inserted = await insertOrders(tx, channel, [{ order, raw: null }], ctx.settings);
      const created = inserted.get(order.externalId);
      if (!created)
        throw new ConflictError(`Order "${order.externalId}" is being placed right now; ask again.`);
      await insertLines(tx, [{ orderId: created.id, lines }]);
      await addEvents(tx, [
        {
          orderId: created.id,
          channelCode: channel.code,
          type: 'CREATED',
          from: null,
          to: OrderStatus.PENDING_PAYMENT,
          source: 'api',
        },
      ]);
      await splitOrders(
        ctx,
        tx,
        [
          {
            id: created.id,
            externalId: order.externalId,
            channelCode: channel.code,
            status: created.status,
            remote: created.remote,
          },
        ],
        'system',
      );
      const wanted = stockLines(lines).map((l) => ({ ...l, orderId: created.id }));
      const short = await holdMany(tx, channel.code, wanted, ctx.settings.reservationTtlSeconds);
      if (short.length)
        throw new InsufficientStockError(short[0].productCode, short[0].quantity, short[0].available);
      await evaluateStockLevels(
        tx,
        wanted.map((l) => l.productId),
        ctx.settings,
      );
      return created.id;
    });
    return await ctx.em.findOneOrFail(Order, { id: orderId });
  } catch (err) {
    if (err instanceof ConflictError) {
      const placed = await ctx.em.findOne(Order, { channel: channel.id, externalId: order.externalId });
      if (placed) return placed;
    }
    throw err;
  }
}

function canonicalFromInput(input: PlaceOrderInput): CanonicalOrder {
  if (!input.customerName.trim())
    throw new BadUserInputError('customerName must not be empty.', 'customerName');
  if (!input.shippingAddress.line1.trim()) {
    throw new BadUserInputError('shippingAddress.line1 must not be empty.', 'shippingAddress.line1');
  }
  if (!/^[A-Z]{2}$/.test(input.shippingAddress.country)) {
    throw new BadUserInputError(
      'shippingAddress.country must be a two-letter ISO code such as "CN".',
      'country',
    );
  }
  if (!/^[A-Z]{3}$/.test(input.currencyCode)) {
    throw new BadUserInputError(
      'currencyCode must be a three-letter ISO code such as "CNY".',
      'currencyCode',
    );
  }
  const lines = input.lines.map((line, i) => {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0 || line.quantity > MAX_LINE_QUANTITY) {
      throw new BadUserInputError(
        `lines[${i}].quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}.`,
        `lines[${i}].quantity`,
      );
    }
    const unit = new Decimal(line.unitPrice);
    if (unit.isNegative() || unit.decimalPlaces() > 2) {
      throw new BadUserInputError(
        `lines[${i}].unitPrice must be zero or more with at most two decimals.`,
        `lines[${i}].unitPrice`,
      );
    }
    return {
      productCode: line.productCode,
      platformSkuId: null,
      quantity: line.quantity,
      unitPrice: unit.toFixed(2),
      lineTotal: unit.times(line.quantity).toFixed(2),
    };
  });
  const a = input.shippingAddress;
  return {
    externalId: input.externalId.trim(),
    status: OrderStatus.PENDING_PAYMENT,
    platformStatus: 'API',
    customerName: input.customerName.trim(),
    shippingAddress: {
      name: a.name ?? null,
      phone: a.phone ?? null,
      province: a.province ?? null,
      city: a.city ?? null,
      district: a.district ?? null,
      line1: a.line1.trim(),
      postalCode: a.postalCode ?? null,
      country: a.country,
    },
    lines,
    total: lines.reduce((sum, l) => sum.plus(l.lineTotal), new Decimal(0)).toFixed(2),
    currencyCode: input.currencyCode,
    placedAt: new Date(),
    paidAt: null,
  };
}
