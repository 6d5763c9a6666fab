import type { EntityManager } from '@mikro-orm/postgresql';
import { Order, Shipment } from '../entities/index.js';
import { OrderStatus, ShipmentStatus } from '../common/enums.js';
import { assertChannelAccess, requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import {
  BadUserInputError,
  ConflictError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
} from '../common/errors.js';
import { parseId } from './ids.js';
import { isForward, statusFollowingChildren, STOCK_TAKEN } from './lifecycle.js';
import { actorOf, evaluateStockLevels } from './stock-levels.js';
import { commitLines, releaseHolds, restockCommitted } from './stock.js';

/**
 * Status moves made through the API (an operator or the storefront), each one
 * transaction: the order row is locked first (a sub-order's parent before it, and a
 * parent before its sub-orders), then the stock rows in product-id order; the new
 * status, its timeline entry and its stock effect commit together.
 *
 * A split order (see splitting.ts) is the sale, its sub-orders are the parcels:
 * payment and cancellation act on the parent and carry over to the sub-orders;
 * packing, shipping and delivery act on the sub-orders and the parent follows.
 */

const MAX_REASON = 500;

/** PostgreSQL aborts one side of a deadlock (e.g. with the hold sweeper); the move is then simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

export interface LockedOrder {
  id: string;
  status: OrderStatus;
  channel_code: string;
  parent_id: string | null;
}

export async function inTransaction<T>(
  ctx: RequestContext,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.em.transactional(work);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      ctx.logger.debug({ attempt, code }, 'order status move conflicted; running it again');
    }
  }
}

async function lockRow(tx: EntityManager, id: string): Promise<LockedOrder | undefined> {
  const [order] = await tx.execute<LockedOrder[]>(
    `select o.id, o.status, o.parent_id, c.code as channel_code from "order" o join channel c on c.id = o.channel_id
     where o.id = ? for update of o`,
    [id],
  );
  return order;
}

/**
 * Locks the order for the move, or says why it cannot be moved by this key. A
 * sub-order's parent is locked first, so moves of one split family queue on the
 * parent and never deadlock; parent_id never changes, so it may be read unlocked.
 */
export async function lockOrder(
  ctx: RequestContext,
  tx: EntityManager,
  id: string,
): Promise<LockedOrder & { parent: LockedOrder | null }> {
  const [family] = await tx.execute<{ parent_id: string | null }[]>(
    'select parent_id from "order" where id = ?',
    [id],
  );
  const parent = family?.parent_id ? ((await lockRow(tx, family.parent_id)) ?? null) : null;
  const order = await lockRow(tx, id);
  if (!order) throw new NotFoundError('Order', id);
  assertChannelAccess(ctx, order.channel_code);
  return { ...order, parent };
}

/** The ids of a split order's sub-orders (none for an order that is not split). */
export async function childIds(tx: EntityManager, parentId: string): Promise<string[]> {
  const rows = await tx.execute<{ id: string }[]>(
    'select id from "order" where parent_id = ? order by external_id, id',
    [parentId],
  );
  return rows.map((r) => r.id);
}

/** A sub-order is a parcel of its parent's sale: payment and cancellation go to the parent. */
function refuseSubOrder(order: LockedOrder, to: OrderStatus, action: string) {
  if (order.parent_id)
    throw new InvalidTransitionError(
      order.id,
      order.status,
      to,
      `Order ${order.id} is a sub-order of ${order.parent_id}: ${action} that order instead.`,
    );
}

/** A split order's parcels are its sub-orders: packing and shipping go to them. */
async function refuseSplitParent(tx: EntityManager, order: LockedOrder, to: OrderStatus, action: string) {
  const children = await childIds(tx, order.id);
  if (children.length)
    throw new InvalidTransitionError(
      order.id,
      order.status,
      to,
      `Order ${order.id} is split into sub-orders ${children.join(', ')}: ${action} them instead.`,
    );
}

/**
 * Payment and cancellation of a split order carry over to its sub-orders in the same
 * transaction (the callers have locked the parents; the sub-orders are locked next).
 * Each sub-order that moves gets its own timeline entry; it takes its parent's times.
 */
export async function carryToChildren(
  tx: EntityManager,
  parentIds: string[],
  to: OrderStatus,
  source: string,
  detail: Record<string, unknown> | null,
): Promise<void> {
  if (parentIds.length === 0) return;
  const children = await tx.execute<LockedOrder[]>(
    `select o.id, o.status, o.parent_id, c.code as channel_code from "order" o join channel c on c.id = o.channel_id
     where o.parent_id in (${parentIds.map(() => '?').join(', ')}) order by o.id for update of o`,
    parentIds,
  );
  const moving = children.filter((c) => isForward(c.status, to));
  if (moving.length === 0) return;
  await tx.execute(
    `update "order" c set status = ?::order_status, updated_at = now(), paid_at = coalesce(c.paid_at, p.paid_at),
       shipped_at = coalesce(c.shipped_at, p.shipped_at), delivered_at = coalesce(c.delivered_at, p.delivered_at)
     from "order" p where p.id = c.parent_id and c.id in (${moving.map(() => '?').join(', ')})`,
    [to, ...moving.map((c) => c.id)],
  );
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     values ${moving.map(() => `(?, ?, 'STATUS_CHANGED', ?::order_status, ?::order_status, ?, ?::jsonb)`).join(', ')}`,
    moving.flatMap((c) => [
      c.id,
      c.channel_code,
      c.status,
      to,
      source,
      JSON.stringify({ ...detail, parentId: c.parent_id }),
    ]),
  );
}

/** After a sub-order moved: its parent follows when every sub-order got as far (statusFollowingChildren). */
async function followChildren(tx: EntityManager, parent: LockedOrder) {
  const children = await tx.execute<{ status: OrderStatus; delivered_at: Date | null }[]>(
    'select status, delivered_at from "order" where parent_id = ?',
    [parent.id],
  );
  const to = statusFollowingChildren(
    parent.status,
    children.map((c) => c.status),
  );
  if (!to) return;
  // Delivered when the last parcel was, by the carriers' times.
  const lastDelivery = children.reduce<Date | null>(
    (last, c) => (c.delivered_at && (!last || c.delivered_at > last) ? c.delivered_at : last),
    null,
  );
  await moveTo(
    tx,
    parent,
    to,
    { reason: `all sub-orders ${to}` },
    'system',
    to === OrderStatus.DELIVERED ? lastDelivery : null,
  );
}

async function lineProducts(tx: EntityManager, orderId: string) {
  return tx.execute<{ productId: string; productCode: string; quantity: number }[]>(
    `select product_id as "productId", product_code as "productCode", quantity from order_line
     where order_id = ? and product_id is not null order by line_no`,
    [orderId],
  );
}

async function moveTo(
  tx: EntityManager,
  order: LockedOrder,
  to: OrderStatus,
  detail: Record<string, unknown> | null,
  source = 'api',
  /** When the move happened, if not now (a carrier's delivery time). */
  at: Date | null = null,
) {
  await tx.execute(
    `update "order" set status = ?::order_status, updated_at = now(),
       paid_at = case when ?::order_status = 'PAID' then coalesce(paid_at, now()) else paid_at end,
       shipped_at = case when ?::order_status = 'SHIPPED' then coalesce(shipped_at, now()) else shipped_at end,
       delivered_at = case when ?::order_status = 'DELIVERED'
         then coalesce(delivered_at, ?::timestamptz, now()) else delivered_at end
     where id = ?`,
    [to, to, to, to, at, order.id],
  );
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     values (?, ?, 'STATUS_CHANGED', ?::order_status, ?::order_status, ?, ?::jsonb)`,
    [order.id, order.channel_code, order.status, to, source, detail ? JSON.stringify(detail) : null],
  );
  order.status = to;
}

/**
 * The order is paid: its holds become committed stock (on hand and reserved both
 * drop), and it moves PENDING_PAYMENT -> PAID. A line whose hold is gone (expired)
 * takes its units now; when they are no longer there the payment fails with
 * INSUFFICIENT_STOCK and nothing changes.
 */
export async function markPaid(ctx: RequestContext, orderId: string): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    refuseSubOrder(order, OrderStatus.PAID, 'pay');
    if (order.status !== OrderStatus.PENDING_PAYMENT || !isForward(order.status, OrderStatus.PAID))
      throw new InvalidTransitionError(id, order.status, OrderStatus.PAID);
    const lines = await lineProducts(tx, id);
    const short = await commitLines(tx, { id, channelCode: order.channel_code }, lines, actorOf(ctx));
    if (short.length)
      throw new InsufficientStockError(short[0].productCode, short[0].quantity, short[0].available);
    await moveTo(tx, order, OrderStatus.PAID, null);
    await carryToChildren(tx, [id], OrderStatus.PAID, 'api', null);
    await evaluateStockLevels(
      tx,
      lines.map((l) => l.productId),
      ctx.settings,
    );
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

/**
 * Cancels an order that has not shipped: an unpaid order's holds are released, a
 * paid or packed order's committed units go back on the shelf. The reason is kept
 * in the timeline.
 */
export async function cancelOrder(ctx: RequestContext, orderId: string, reason: string): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  const why = reason.trim();
  if (!why) throw new BadUserInputError('reason must say why the order is cancelled.', 'reason');
  if (why.length > MAX_REASON)
    throw new BadUserInputError(`reason must be at most ${MAX_REASON} characters.`, 'reason');
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    refuseSubOrder(order, OrderStatus.CANCELLED, 'cancel');
    if (!isForward(order.status, OrderStatus.CANCELLED))
      throw new InvalidTransitionError(id, order.status, OrderStatus.CANCELLED);
    // A parcel on its way cannot be taken back by cancelling the sale.
    const [shipped] = await tx.execute<{ id: string }[]>(
      `select id from "order" where parent_id = ? and status in ('SHIPPED', 'DELIVERED') limit 1`,
      [id],
    );
    if (shipped)
      throw new InvalidTransitionError(
        id,
        order.status,
        OrderStatus.CANCELLED,
        `Order ${id} has a shipped sub-order (${shipped.id}), so it can no longer be cancelled.`,
      );
    const touched = STOCK_TAKEN.has(order.status)
      ? await restockCommitted(tx, id, actorOf(ctx))
      : await releaseHolds(tx, id);
    await moveTo(tx, order, OrderStatus.CANCELLED, { reason: why });
    await carryToChildren(tx, [id], OrderStatus.CANCELLED, 'api', { reason: why });
    await evaluateStockLevels(tx, touched, ctx.settings);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

// ---------------------------------------------------------------------------
// Shipping: the warehouse scan-out and the carriers' tracking events.
// ---------------------------------------------------------------------------

const MAX_CARRIER = 64;
const MAX_TRACKING = 128;
const MAX_DESCRIPTION = 1000;
/** A tracking event dated further ahead than this is refused: it would pin the shipment's status. */
const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

function requiredText(value: string, field: string, max: number): string {
  const text = value.trim();
  if (!text) throw new BadUserInputError(`${field} must not be empty.`, field);
  if (text.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters.`, field);
  return text;
}

async function shipmentUpdated(tx: EntityManager, order: LockedOrder, detail: Record<string, unknown>) {
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, source, detail)
     values (?, ?, 'SHIPMENT_UPDATED', 'logistics', ?::jsonb)`,
    [order.id, order.channel_code, JSON.stringify(detail)],
  );
}

/** The warehouse has packed a paid order: PAID -> PACKED. */
export async function markPacked(ctx: RequestContext, orderId: string): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    await refuseSplitParent(tx, order, OrderStatus.PACKED, 'pack');
    if (order.status !== OrderStatus.PAID)
      throw new InvalidTransitionError(id, order.status, OrderStatus.PACKED);
    await moveTo(tx, order, OrderStatus.PACKED, null);
    if (order.parent) await followChildren(tx, order.parent);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

/**
 * The warehouse scan-out: the parcel leaves with `carrier` under `trackingNumber`.
 * Creates the shipment in LABEL_CREATED (the hub knows a label exists and the parcel
 * left the dock; the carrier's own PICKED_UP scan confirms it has it) and moves the
 * order PACKED (or PAID, when packing is not recorded) -> SHIPPED. Scanning the same
 * order out again with the same tracking number answers the order unchanged; a
 * tracking number another order already carries is a CONFLICT.
 */
export async function shipOrder(
  ctx: RequestContext,
  orderId: string,
  carrier: string,
  trackingNumber: string,
): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  const carrierName = requiredText(carrier, 'carrier', MAX_CARRIER);
  const tracking = requiredText(trackingNumber, 'trackingNumber', MAX_TRACKING);
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    const [known] = await tx.execute<{ order_id: string }[]>(
      'select order_id from shipment where tracking_number = ?',
      [tracking],
    );
    if (known && known.order_id === id) return; // the same scan again
    if (known) throw new ConflictError(`Tracking number "${tracking}" belongs to another order.`);
    await refuseSplitParent(tx, order, OrderStatus.SHIPPED, 'ship');
    if (order.status !== OrderStatus.PACKED && order.status !== OrderStatus.PAID)
      throw new InvalidTransitionError(id, order.status, OrderStatus.SHIPPED);
    // Another order may take the same number at the same moment: the unique key decides.
    const [created] = await tx.execute<{ id: string }[]>(
      `insert into shipment (order_id, carrier, tracking_number, status) values (?, ?, ?, ?)
       on conflict (tracking_number) do nothing returning id`,
      [id, carrierName, tracking, ShipmentStatus.LABEL_CREATED],
    );
    if (!created) throw new ConflictError(`Tracking number "${tracking}" belongs to another order.`);
    await moveTo(
      tx,
      order,
      OrderStatus.SHIPPED,
      { carrier: carrierName, trackingNumber: tracking },
      'logistics',
    );
    await shipmentUpdated(tx, order, {
      shipmentId: created.id,
      carrier: carrierName,
      trackingNumber: tracking,
      status: ShipmentStatus.LABEL_CREATED,
    });
    if (order.parent) await followChildren(tx, order.parent);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

export interface ShipmentEventOptions {
  /** Set by a carrier's webhook: only that carrier's shipments are found (case-insensitive). */
  carrier?: string;
}

/**
 * A carrier's tracking event. Stored once per (shipment, status, occurredAt): the same
 * event delivered again changes nothing. The shipment takes the event's status only
 * when it is the newest event (an older one arriving late is kept in the history but
 * does not undo a newer status). A new DELIVERED event moves a SHIPPED order to
 * DELIVERED, with deliveredAt the carrier's time.
 */
export async function recordShipmentEvent(
  ctx: RequestContext,
  trackingNumber: string,
  status: ShipmentStatus,
  description: string | null | undefined,
  occurredAt: Date | null | undefined,
  options: ShipmentEventOptions = {},
): Promise<Shipment> {
  requirePrincipal(ctx);
  const tracking = requiredText(trackingNumber, 'trackingNumber', MAX_TRACKING);
  const text = description?.trim() || null;
  if (text && text.length > MAX_DESCRIPTION)
    throw new BadUserInputError(`description must be at most ${MAX_DESCRIPTION} characters.`, 'description');
  const at = occurredAt ?? new Date();
  if (Number.isNaN(at.getTime()))
    throw new BadUserInputError('occurredAt is not a valid time.', 'occurredAt');
  if (at.getTime() > Date.now() + MAX_CLOCK_SKEW_MS)
    throw new BadUserInputError('occurredAt must not be in the future.', 'occurredAt');
  const shipmentId = await inTransaction(ctx, async (tx) => {
    const [shipment] = await tx.execute<{ id: string; order_id: string; carrier: string }[]>(
      'select id, order_id, carrier from shipment where tracking_number = ?',
      [tracking],
    );
    if (!shipment || (options.carrier && shipment.carrier.toLowerCase() !== options.carrier.toLowerCase()))
      throw new NotFoundError('Shipment', tracking);
    // The order row is the lock for everything about the order, its shipments included.
    const order = await lockOrder(ctx, tx, shipment.order_id);
    const [latest] = await tx.execute<{ newest: Date | null }[]>(
      'select max(occurred_at) as newest from shipment_event where shipment_id = ?',
      [shipment.id],
    );
    const [stored] = await tx.execute<{ id: string }[]>(
      `insert into shipment_event (shipment_id, status, description, occurred_at) values (?, ?, ?, ?)
       on conflict on constraint shipment_event_once do nothing returning id`,
      [shipment.id, status, text, at],
    );
    if (!stored) return shipment.id; // delivered before: applied once already
    const newest = !latest?.newest || at.getTime() >= new Date(latest.newest).getTime();
    if (newest)
      await tx.execute('update shipment set status = ?, updated_at = now() where id = ?', [
        status,
        shipment.id,
      ]);
    await shipmentUpdated(tx, order, {
      shipmentId: shipment.id,
      trackingNumber: tracking,
      status,
      description: text,
      occurredAt: at.toISOString(),
      newest,
    });
    if (status === ShipmentStatus.DELIVERED && order.status === OrderStatus.SHIPPED) {
      await moveTo(tx, order, OrderStatus.DELIVERED, { trackingNumber: tracking }, 'logistics', at);
      if (order.parent) await followChildren(tx, order.parent);
    }
    return shipment.id;
  });
  return ctx.em.findOneOrFail(Shipment, { id: shipmentId }, { refresh: true });
}
