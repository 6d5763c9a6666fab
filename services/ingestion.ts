import type { EntityManager } from '@mikro-orm/postgresql';
import { connectorFor } from '../connectors/index.js';
import type { CanonicalOrder } from '../connectors/canonical.js';
import { Channel, IngestLog, Order } from '../entities/index.js';
import { IngestOutcome, IngestSource, OrderStatus, StockAlertKind } from '../schema/enums.js';
import { assertChannelAccess } from './access.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, HubError, NotFoundError } from './errors.js';
import { isForward, STOCK_TAKEN } from './lifecycle.js';
import {
  commitLines,
  holdLines,
  raiseAlert,
  releaseHolds,
  restockCommitted,
  type Shortfall,
  type StockLine,
} from './stock.js';

/**
 * The one gateway every channel's orders come through: webhook, poll, CSV, API.
 * The raw body is logged first; then one transaction makes or advances the order,
 * its timeline and its stock effect, idempotent on (channel, externalId).
 */

export interface IngestResult {
  order: Order;
  outcome: IngestOutcome.CREATED | IngestOutcome.UPDATED | IngestOutcome.DUPLICATE;
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

/** Writes the raw body to the ingest log on its own, before any processing, so nothing received is ever lost. */
export async function logReceived(
  em: EntityManager,
  channelCode: string,
  source: IngestSource,
  rawBody: string,
): Promise<string> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into ingest_log (channel_code, source, raw_body) values (?, ?, ?) returning id`,
    [channelCode, source, rawBody],
  );
  return String(rows[0].id);
}

async function logFailed(em: EntityManager, logId: string, error: unknown) {
  const message = error instanceof HubError ? error.message : 'internal error; see the hub log';
  await em.execute(`update ingest_log set outcome = 'FAILED', error = ?, processed_at = now() where id = ?`, [
    message,
    logId,
  ]);
}

/** Parses a body as JSON, naming the problem for the platform's operator. */
export function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch (err) {
    throw new BadUserInputError(`The body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Ingests one raw payload from a channel: logged, mapped by the channel's
 * connector, stored. A mapping failure is recorded on the log row (for replay)
 * and thrown; a database failure leaves the log row as RECEIVED, to be replayed.
 */
export async function ingestRaw(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBody: string,
  logId?: string,
): Promise<IngestResult> {
  const id = logId ?? (await logReceived(ctx.em, channel.code, source, rawBody));
  let canonical: CanonicalOrder;
  try {
    canonical = connectorFor(channel.platform).toOrder(parseJsonBody(rawBody));
  } catch (err) {
    await logFailed(ctx.em, id, err);
    throw err;
  }
  return ingestCanonical(ctx, channel, canonical, { logId: id, raw: rawBody });
}

/** Stores a mapped order: the transaction behind every ingestion path. */
export async function ingestCanonical(
  ctx: RequestContext,
  channel: Channel,
  order: CanonicalOrder,
  options: { logId?: string; raw?: string | null; historical?: boolean },
): Promise<IngestResult> {
  validateCanonical(order);
  const result = await ctx.em.transactional(async (tx) => {
    const lines = await resolveLines(tx, channel, order);
    const inserted = await insertOrder(tx, channel, order, options.raw ?? null);
    const result = inserted
      ? await onCreated(ctx, tx, channel, inserted, order, lines, options.historical ?? false)
      : await onKnown(ctx, tx, channel, order, lines, options.historical ?? false);
    if (options.logId) {
      await tx.execute(
        `update ingest_log set outcome = ?, external_id = ?, order_id = ?, error = null, processed_at = now() where id = ?`,
        [result.outcome, order.externalId, result.orderId, options.logId],
      );
    }
    return result;
  });
  if (result.outcome === IngestOutcome.CREATED) noteOrderArrived(ctx.em, channel.id);
  const stored = await ctx.em.findOneOrFail(Order, { id: result.orderId }, { refresh: true });
  return { order: stored, outcome: result.outcome };
}

function validateCanonical(order: CanonicalOrder) {
  if (!order.externalId || order.externalId.length > 128) {
    throw new BadUserInputError('externalId must be 1 to 128 characters.', 'externalId');
  }
  if (order.lines.length === 0) throw new BadUserInputError('An order needs at least one line.', 'lines');
}

/** Codes resolved to products: the merchant's own code first, else the channel's SKU map. */
async function resolveLines(
  tx: EntityManager,
  channel: Channel,
  order: CanonicalOrder,
): Promise<ResolvedLine[]> {
  const codes = [...new Set(order.lines.map((l) => l.productCode).filter((c): c is string => !!c))];
  const skuIds = [
    ...new Set(order.lines.filter((l) => !l.productCode && l.platformSkuId).map((l) => l.platformSkuId!)),
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
  return order.lines.map((line, i) => {
    const mapped = line.productCode ? null : bySku.get(line.platformSkuId ?? '');
    const productCode = line.productCode ?? mapped?.code ?? line.platformSkuId ?? `line-${i + 1}`;
    return {
      lineNo: i + 1,
      productCode,
      productId: line.productCode ? (byCode.get(line.productCode) ?? null) : (mapped?.id ?? null),
      platformSkuId: line.platformSkuId,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      lineTotal: line.lineTotal,
    };
  });
}

/** The unique (channel, externalId) index is the guard: concurrent duplicates wait on it, then find the winner. */
async function insertOrder(
  tx: EntityManager,
  channel: Channel,
  order: CanonicalOrder,
  raw: string | null,
): Promise<{ id: string; status: OrderStatus } | null> {
  const status = order.status ?? (order.paidAt ? OrderStatus.PAID : OrderStatus.PENDING_PAYMENT);
  const a = order.shippingAddress;
  const rows = await tx.execute<{ id: string }[]>(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, ship_postal_code, ship_country, total_amount, currency_code,
       placed_at, paid_at, raw)
     values (gen_random_uuid(), ?, ?, ?::order_status, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (channel_id, external_id) do nothing returning id`,
    [
      channel.id,
      order.externalId,
      status,
      order.customerName,
      a.name,
      a.phone,
      a.province,
      a.city,
      a.district,
      a.line1,
      a.postalCode,
      a.country,
      order.total,
      order.currencyCode,
      order.placedAt,
      order.paidAt,
      raw,
    ],
  );
  return rows.length ? { id: rows[0].id, status } : null;
}

async function insertLines(tx: EntityManager, orderId: string, lines: ResolvedLine[]) {
  const values = lines.map(() => '(gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
  await tx.execute(
    `insert into order_line (id, order_id, line_no, product_code, product_id, platform_sku_id, quantity, unit_price, line_total)
     values ${values}`,
    lines.flatMap((l) => [
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

async function addEvent(
  tx: EntityManager,
  event: {
    orderId: string;
    channelCode: string;
    type: string;
    from: OrderStatus | null;
    to: OrderStatus | null;
    source: string;
    detail?: Record<string, unknown>;
  },
) {
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     values (?, ?, ?, ?::order_status, ?::order_status, ?, ?::jsonb)`,
    [
      event.orderId,
      event.channelCode,
      event.type,
      event.from,
      event.to,
      event.source,
      event.detail ? JSON.stringify(event.detail) : null,
    ],
  );
}

function stockLines(lines: ResolvedLine[]): StockLine[] {
  return lines
    .filter((l) => l.productId)
    .map((l) => ({ productId: l.productId!, productCode: l.productCode, quantity: l.quantity }));
}

async function onCreated(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  inserted: { id: string; status: OrderStatus },
  order: CanonicalOrder,
  lines: ResolvedLine[],
  historical: boolean,
) {
  await insertLines(tx, inserted.id, lines);
  await addEvent(tx, {
    orderId: inserted.id,
    channelCode: channel.code,
    type: 'CREATED',
    from: null,
    to: inserted.status,
    source: channel.code,
    detail: { platformStatus: order.platformStatus, ...(historical ? { historical: true } : {}) },
  });
  for (const line of lines.filter((l) => !l.productId)) {
    await raiseAlert(tx, {
      kind: StockAlertKind.UNKNOWN_PRODUCT,
      productId: null,
      productCode: line.productCode,
      available: 0,
      orderId: inserted.id,
      message: `Order ${order.externalId} on ${channel.code} has a line "${line.productCode}" that neither the SKU map nor the catalog knows; it was stored without a product.`,
    });
  }
  if (!historical) {
    const target = { id: inserted.id, channelCode: channel.code };
    const stock = stockLines(lines);
    if (inserted.status === OrderStatus.PENDING_PAYMENT) {
      await reportShortfalls(
        tx,
        channel,
        order,
        inserted.id,
        await holdLines(tx, target, stock, ctx.settings.reservationTtlSeconds),
      );
    } else if (STOCK_TAKEN.has(inserted.status)) {
      await reportShortfalls(
        tx,
        channel,
        order,
        inserted.id,
        await commitLines(tx, target, stock, channel.code),
      );
    }
  }
  return { orderId: inserted.id, outcome: IngestOutcome.CREATED as const };
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
    await addEvent(tx, {
      orderId: current.id,
      channelCode: channel.code,
      type: 'HELD_BY_PLATFORM',
      from: current.status,
      to: current.status,
      source: channel.code,
      detail: { platformStatus: order.platformStatus },
    });
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
  await addEvent(tx, {
    orderId: current.id,
    channelCode: channel.code,
    type: 'STATUS_CHANGED',
    from: current.status,
    to,
    source: channel.code,
    detail: { platformStatus: order.platformStatus },
  });
  if (!historical) {
    const target = { id: current.id, channelCode: channel.code };
    const wasTaken = STOCK_TAKEN.has(current.status);
    if (!wasTaken && STOCK_TAKEN.has(to)) {
      await reportShortfalls(
        tx,
        channel,
        order,
        current.id,
        await commitLines(tx, target, stockLines(lines), channel.code),
      );
    } else if (to === OrderStatus.CANCELLED) {
      if (wasTaken) await restockCommitted(tx, current.id, channel.code);
      else await releaseHolds(tx, current.id);
    }
  }
  return { orderId: current.id, outcome: IngestOutcome.UPDATED as const };
}

/** A marketplace sale already happened: the order is kept, and each shortfall is an OUT_OF_STOCK alert naming it. */
async function reportShortfalls(
  tx: EntityManager,
  channel: Channel,
  order: CanonicalOrder,
  orderId: string,
  shortfalls: Shortfall[],
) {
  for (const s of shortfalls) {
    await raiseAlert(tx, {
      kind: StockAlertKind.OUT_OF_STOCK,
      productId: s.productId,
      productCode: s.productCode,
      available: s.available,
      orderId,
      message: `Order ${order.externalId} on ${channel.code} needs ${s.quantity} of "${s.productCode}" but only ${s.available} are available.`,
    });
  }
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
  const { order } = await ingestRaw(ctx, channel, IngestSource.API, JSON.stringify(payload));
  return order;
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
      await ingestRaw(ctx, channel, row.source, row.rawBody, row.id);
      succeeded++;
    } catch (err) {
      await logFailed(ctx.em, row.id, err);
      ctx.logger.warn({ ingestLogId: row.id, err }, 'replay failed');
    }
  }
  return { replayed: rows.length, succeeded, failed: rows.length - succeeded };
}
