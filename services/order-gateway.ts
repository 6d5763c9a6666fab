import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import { connectorFor } from '../connectors/index.js';
import type { CanonicalOrder } from '../connectors/canonical.js';
import {
  IngestOutcome,
  IngestSource,
  OrderEventType,
  OrderOrigin,
  OrderStatus,
  StockAlertKind,
} from '../common/enums.js';
import { databaseErrorOf } from '../common/database-errors.js';
import { BadUserInputError } from '../common/errors.js';
import { Order, type Channel } from '../entities/index.js';
import { assertChannelAccess } from './access.js';
import { requireChannelByCode } from './channels.js';
import type { RequestContext } from './context.js';
import { logFailed, logOutcomes, logReceivedMany, recordDeliveries } from './ingest-log.js';
import { insertLines, insertOrders, resolveLines, stockLines, type ResolvedLine } from './order-rows.js';
import { recordOrderEvents, STOCK_TAKEN } from './order-transitions.js';
import { applyPlatformUpdate, reportShortfall } from './platform-updates.js';
import { attachWaitingReturns } from './returns.js';
import { splitOrders } from './splitting.js';
import { evaluateOrderRisk } from './risk.js';
import { evaluateStockLevels } from './stock-levels.js';
import { holdMany, raiseAlert, takeMany } from './stock.js';
import { inTransaction } from './transactions.js';

/**
 * The one gateway every channel's orders come through: webhook, poll, CSV, API.
 * The raw body is logged first (ingest-log.ts); then one transaction per batch makes
 * the new orders with their lines, timeline and stock effect, and hands the known ones
 * to platform-updates.ts, idempotent on (channel, externalId).
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
  /** The platform's id of the delivery that brought it, recorded with its order. */
  deliveryId?: string | null;
}

/** Parses a body as JSON, naming the problem for the platform's operator. */
function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    // Not the parser's message: it quotes the body around the mistake (a name, an address).
    throw new BadUserInputError('The body is not valid JSON.');
  }
}

/** The door a payload came through is how its order entered the hub. */
const ORIGIN_OF: Record<IngestSource, OrderOrigin> = {
  [IngestSource.WEBHOOK]: OrderOrigin.WEBHOOK,
  [IngestSource.POLL]: OrderOrigin.POLL,
  [IngestSource.API]: OrderOrigin.API,
  [IngestSource.CSV]: OrderOrigin.CSV,
};

/**
 * Ingests raw payloads from one channel: logged first (unless they already have
 * log rows, as on replay), mapped by the channel's connector, then stored together.
 * A body stored before (the same bytes) is answered with its order and no work; the
 * same body twice in a batch is run once. A payload that cannot be mapped is recorded
 * on its log row (for replay) and answered with its error; the others are stored all the same.
 */
export async function ingestRawMany(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBodies: string[],
  options: {
    /** Their ingest log rows, when they have some already (replay). */
    logIds?: string[];
    /** The platform's id of each delivery, recorded with its order (webhooks). */
    deliveryIds?: (string | null)[];
  } = {},
): Promise<ItemResult[]> {
  if (rawBodies.length === 0) return [];
  const logged =
    options.logIds?.map((logId) => ({ logId, orderId: null, returnId: null })) ??
    (await logReceivedMany(ctx.em, channel.code, source, rawBodies));
  const connector = connectorFor(channel.platform);
  const results: ItemResult[] = new Array(rawBodies.length);
  const items: IngestItem[] = [];
  const positions: number[] = [];
  const runAt = new Map<string, number>();
  const repeats: [number, number][] = [];
  for (const [i, rawBody] of rawBodies.entries()) {
    const { logId, orderId } = logged[i];
    if (orderId) {
      results[i] = { orderId, outcome: IngestOutcome.DUPLICATE };
      continue;
    }
    if (runAt.has(logId)) {
      repeats.push([i, runAt.get(logId)!]);
      continue;
    }
    runAt.set(logId, i);
    try {
      const deliveryId = options.deliveryIds?.[i] ?? null;
      items.push({ order: connector.toOrder(parseJsonBody(rawBody)), logId, raw: rawBody, deliveryId });
      positions.push(i);
    } catch (err) {
      results[i] = { error: err as Error };
      await logFailed(ctx.em, logId, err);
    }
  }
  const stored = await ingestMany(ctx, channel, items, { origin: ORIGIN_OF[source] });
  stored.forEach((result, k) => (results[positions[k]] = result));
  for (const [i, first] of repeats) {
    const result = results[first];
    results[i] = 'error' in result ? result : { orderId: result.orderId, outcome: IngestOutcome.DUPLICATE };
  }
  // ingestMany counted what it stored; these were answered here (stored before, unmappable, repeats).
  const handed = new Set(positions);
  countOutcomes(
    ctx,
    channel,
    source,
    results.filter((_, i) => !handed.has(i)),
  );
  return results;
}

/** One payload: the batch of one. Throws the payload's error. */
export async function ingestRaw(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBody: string,
  logId?: string,
): Promise<IngestResult> {
  const [result] = await ingestRawMany(ctx, channel, source, [rawBody], {
    logIds: logId ? [logId] : undefined,
  });
  if ('error' in result) throw result.error;
  return result;
}

/** Stores one mapped order. Throws its error. */
export async function ingestCanonical(
  ctx: RequestContext,
  channel: Channel,
  order: CanonicalOrder,
  options: { origin: OrderOrigin; logId?: string; raw?: string | null; historical?: boolean },
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

/**
 * Stores mapped orders of one channel in one transaction: the ingestion path of
 * every door (webhook batches, polling pages, CSV chunks, the API). Orders that
 * fail validation are answered with their error; the rest are stored together.
 */
export async function ingestMany(
  ctx: RequestContext,
  channel: Channel,
  items: IngestItem[],
  options: { origin: OrderOrigin; historical?: boolean },
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
  if (valid.length === 0) {
    countOutcomes(ctx, channel, options.origin, results);
    return results;
  }
  const batch = valid.map((i) => items[i]);
  const holds = { taken: 0, refused: 0 };
  const stored = await inTransaction(ctx, (tx) => {
    // A transaction run again after a deadlock counts its holds anew.
    holds.taken = holds.refused = 0;
    return storeBatch(ctx, tx, channel, batch, options.origin, options.historical ?? false, holds);
  }).catch(async (err: unknown) => {
    // A payload the database refuses (bad data, class 22, or a constraint, class 23) is refused again
    // on every retry: alone in its batch, its log row says why (the code and names, no values) for a
    // replay after a fix.
    const only = batch.length === 1 ? batch[0].logId : undefined;
    if (only && isRefusedData(err)) await logFailed(ctx.em, only, err);
    // Nothing is counted: the caller may run the orders again one by one (the webhook batcher, the CSV
    // import), and counts those it gives up on as `failed`.
    throw err;
  });
  stored.forEach((result, k) => (results[valid[k]] = result));
  countOutcomes(ctx, channel, options.origin, results);
  ctx.hub.metrics.held('order', 'taken', holds.taken);
  ctx.hub.metrics.held('order', 'refused', holds.refused);
  if (results.some((r) => 'outcome' in r && r.outcome === IngestOutcome.CREATED))
    noteOrderArrived(ctx, channel.id);
  return results;
}

async function storeBatch(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  items: IngestItem[],
  origin: OrderOrigin,
  historical: boolean,
  holds: { taken: number; refused: number },
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
    origin,
    ctx.hub.settings,
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
    holds,
  );

  // After-sale cases that came before their order: attached now, their effects after the order's own.
  await attachWaitingReturns(
    ctx,
    tx,
    channel,
    created.map((c) => items[c.k].order.externalId),
    historical,
  );

  const createdAt = new Set(created.map((c) => c.k));
  const results: IngestResult[] = [];
  for (const [k, item] of items.entries()) {
    results.push(
      createdAt.has(k)
        ? { orderId: inserted.get(item.order.externalId)!.id, outcome: IngestOutcome.CREATED }
        : await applyPlatformUpdate(tx, channel, item.order, lines[k], historical),
    );
  }
  if (!historical) {
    // Safety stock and alerts: one statement for the whole batch, more only where a threshold is crossed.
    const touched = items.flatMap((_, k) =>
      createdAt.has(k) || results[k].outcome === IngestOutcome.UPDATED
        ? stockLines(lines[k]).map((l) => l.productId)
        : [],
    );
    await evaluateStockLevels(tx, touched, ctx.hub.settings);
  }
  await recordDeliveries(
    tx,
    channel.id,
    items.flatMap((item, k) =>
      item.deliveryId ? [{ deliveryId: item.deliveryId, orderId: results[k].orderId }] : [],
    ),
  );
  await logOutcomes(
    tx,
    items.flatMap((item, k) =>
      item.logId ? [{ logId: item.logId, externalId: item.order.externalId, ...results[k] }] : [],
    ),
  );
  return results;
}

/** Column limits, checked before the database so a long value is a clear 400, not an internal error. */
const MAX_TEXT = 255;
const MAX_CODE = 128;
const MAX_AMOUNT = new Decimal('999999999999.99');

export function validateCanonical(order: CanonicalOrder) {
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
  holds: { taken: number; refused: number },
) {
  if (created.length === 0) return;
  await insertLines(
    tx,
    created.map((c) => ({ orderId: c.id, lines: c.lines })),
  );
  await recordOrderEvents(
    tx,
    OrderEventType.CREATED,
    created.map((c) => ({
      orderId: c.id,
      channelCode: channel.code,
      status: c.status,
      source: channel.code,
      detail: {
        platformStatus: c.order.platformStatus,
        ...(historical ? { historical: true as const } : {}),
      },
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
  await evaluateOrderRisk(
    tx,
    created.map((c) => c.id),
  );
  const linesOf = (wanted: (status: OrderStatus) => boolean) =>
    created
      .filter((c) => wanted(c.status))
      .flatMap((c) => stockLines(c.lines).map((line) => ({ ...line, orderId: c.id })));
  const toHold = linesOf((s) => s === OrderStatus.PENDING_PAYMENT);
  const unheld = await holdMany(tx, channel.code, toHold, ctx.hub.settings.reservationTtlSeconds);
  holds.taken += toHold.length - unheld.length;
  holds.refused += unheld.length;
  const shortfalls = [
    ...unheld,
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

const OUTCOME_LABEL = {
  [IngestOutcome.CREATED]: 'created',
  [IngestOutcome.UPDATED]: 'updated',
  [IngestOutcome.DUPLICATE]: 'duplicate',
} as const;

/**
 * Counts answered orders (`hub_orders_ingested_total`) once the call succeeds; a payload refused for itself
 * (unmappable, invalid) is `rejected`.
 */
function countOutcomes(ctx: RequestContext, channel: Channel, source: string, results: ItemResult[]) {
  const counts = new Map<'created' | 'updated' | 'duplicate' | 'rejected', number>();
  for (const result of results) {
    const label = 'error' in result ? 'rejected' : OUTCOME_LABEL[result.outcome];
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  for (const [label, n] of counts) ctx.hub.metrics.ingested(channel.code, source, label, n);
}

/** lastOrderAt moves at most once a second per channel: one hot row must not serialise every ingestion. */
function noteOrderArrived(ctx: RequestContext, channelId: string) {
  const lastNoted = ctx.hub.lastOrderNoted;
  const now = Date.now();
  if (now - (lastNoted.get(channelId) ?? 0) < 1000) return;
  lastNoted.set(channelId, now);
  void ctx.em
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

/** The database refused the data itself (class 22 or 23): sending it again changes nothing. */
export function isRefusedData(err: unknown): boolean {
  return /^2[23]/.test(databaseErrorOf(err)?.code ?? '');
}
