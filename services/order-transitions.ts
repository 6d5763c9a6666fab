import type { EntityManager } from '@mikro-orm/postgresql';
import { OrderEventType, OrderStatus } from '../common/enums.js';
import type { OrderEventDetails, OrderNote, StatusChangeDetail } from '../common/order-event-details.js';
import { InvalidTransitionError, NotFoundError } from '../common/errors.js';
import { assertChannelAccess } from './access.js';
import type { RequestContext } from './context.js';

/**
 * The owner of the order lifecycle: the only code that writes an order's status and
 * appends to its timeline (the `order_event` table, which is also the subscriptions'
 * outbox). Every move, whoever asks for it (a platform, an operator, a carrier, the
 * hold sweeper, a split family), goes through `transitionOrders`, in the caller's
 * transaction, checked against one table of allowed moves.
 */

/**
 * Every move an order may make. Platforms may skip steps (PENDING_PAYMENT straight to
 * SHIPPED) but never go back, so a late, older payload cannot undo a newer one; an order
 * cancels only before it ships and is refunded only after it was paid; CANCELLED and
 * REFUNDED are final. The API's own moves (markPacked, shipOrder, ...) are stricter still
 * and check their own starting status before asking for the move.
 */
export const ALLOWED_MOVES: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  [OrderStatus.PENDING_PAYMENT]: [
    OrderStatus.PAID,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
  ],
  [OrderStatus.PAID]: [
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
  ],
  [OrderStatus.PACKED]: [
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
  ],
  [OrderStatus.SHIPPED]: [OrderStatus.DELIVERED, OrderStatus.REFUNDED],
  [OrderStatus.DELIVERED]: [OrderStatus.REFUNDED],
  [OrderStatus.CANCELLED]: [],
  [OrderStatus.REFUNDED]: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED_MOVES[from].includes(to);
}

/** INVALID_TRANSITION unless the table allows the move: for callers that check before other work. */
export function assertTransition(order: { id: string; status: OrderStatus }, to: OrderStatus): void {
  if (!canTransition(order.status, to)) throw new InvalidTransitionError(order.id, order.status, to);
}

/** Statuses in which the order's stock has been taken from the pool (sold). */
export const STOCK_TAKEN: ReadonlySet<OrderStatus> = new Set([
  OrderStatus.PAID,
  OrderStatus.PACKED,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
]);

/** Lifecycle order, the two endings last: how far a sub-order has got, for its parent to follow. */
const RANK: Readonly<Record<OrderStatus, number>> = {
  [OrderStatus.PENDING_PAYMENT]: 0,
  [OrderStatus.PAID]: 1,
  [OrderStatus.PACKED]: 2,
  [OrderStatus.SHIPPED]: 3,
  [OrderStatus.DELIVERED]: 4,
  [OrderStatus.CANCELLED]: 5,
  [OrderStatus.REFUNDED]: 5,
};

/** Fulfilment statuses a split order takes from its sub-orders (the parcels). */
const FOLLOWS_CHILDREN: ReadonlySet<OrderStatus> = new Set([
  OrderStatus.PACKED,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
]);

/**
 * The status a split order moves to after one of its sub-orders moved, or null: it is as
 * far as its least advanced sub-order (SHIPPED once all are shipped). Payment and
 * cancellation are the parent's own and go the other way, parent to children.
 */
export function statusFollowingChildren(parent: OrderStatus, children: OrderStatus[]): OrderStatus | null {
  if (children.length === 0) return null;
  const least = children.reduce((a, b) => (RANK[b] < RANK[a] ? b : a));
  return FOLLOWS_CHILDREN.has(least) && canTransition(parent, least) ? least : null;
}

/** An order as a move needs it: locked by the caller (`lockOrder`, or `for update` in its own query). */
export interface LockedOrder {
  id: string;
  status: OrderStatus;
  channel_code: string;
  parent_id: string | null;
}

export interface MoveCause {
  /** A channel code, "api", "logistics" or "system". */
  source: string;
  detail?: StatusChangeDetail | null;
  /** When the move happened, if not now: a carrier's delivery time. */
  at?: Date | null;
  /** The payment time a platform reported. */
  paidAt?: Date | null;
}

/**
 * Moves locked orders to `to` in the caller's transaction: the status and its times in
 * one statement, one STATUS_CHANGED entry each. A move the table does not allow is
 * INVALID_TRANSITION, thrown before anything is written. The times are kept once set; a
 * sub-order takes its parent's where it has none. Updates each order's `status`.
 */
export async function transitionOrders(
  tx: EntityManager,
  orders: LockedOrder[],
  to: OrderStatus,
  cause: MoveCause,
): Promise<void> {
  if (orders.length === 0) return;
  for (const order of orders) assertTransition(order, to);
  await tx.execute(
    `update "order" o set status = ?::order_status, updated_at = now(),
       paid_at = coalesce(o.paid_at, ?::timestamptz, p.paid_at,
         case when ?::order_status in ('PAID', 'PACKED', 'SHIPPED', 'DELIVERED') then now() end),
       packed_at = case when ?::order_status = 'PACKED' then coalesce(o.packed_at, p.packed_at, now()) else o.packed_at end,
       shipped_at = case when ?::order_status in ('SHIPPED', 'DELIVERED')
         then coalesce(o.shipped_at, p.shipped_at, now()) else o.shipped_at end,
       delivered_at = case when ?::order_status = 'DELIVERED'
         then coalesce(o.delivered_at, ?::timestamptz, p.delivered_at, now()) else o.delivered_at end
     from "order" o2 left join "order" p on p.id = o2.parent_id
     where o2.id = o.id and o.id in (${orders.map(() => '?').join(', ')})`,
    [to, cause.paidAt ?? null, to, to, to, to, cause.at ?? null, ...orders.map((o) => o.id)],
  );
  await insertEvents(
    tx,
    orders.map((o) => ({
      orderId: o.id,
      channelCode: o.channel_code,
      type: OrderEventType.STATUS_CHANGED,
      from: o.status,
      to,
      source: cause.source,
      detail: cause.detail,
    })),
  );
  for (const o of orders) o.status = to;
}

/**
 * Timeline entries that do not move the status (CREATED, SHIPMENT_UPDATED, SPLIT, ...),
 * each kind with its own detail shape.
 */
export async function recordOrderEvents<T extends Exclude<OrderEventType, OrderEventType.STATUS_CHANGED>>(
  tx: EntityManager,
  type: T,
  notes: OrderNote<T>[],
): Promise<void> {
  await insertEvents(
    tx,
    notes.map((n) => ({
      orderId: n.orderId,
      channelCode: n.channelCode,
      type,
      // A CREATED entry shows the first status as where it went; a parcel's or an after-sale case's news is not
      // about the order's status.
      from: type === OrderEventType.CREATED || NOT_ABOUT_STATUS.has(type) ? null : n.status,
      to: NOT_ABOUT_STATUS.has(type) ? null : n.status,
      source: n.source,
      detail: n.detail,
    })),
  );
}

const NOT_ABOUT_STATUS: ReadonlySet<OrderEventType> = new Set([
  OrderEventType.SHIPMENT_UPDATED,
  OrderEventType.RETURN_UPDATED,
]);

interface EventRow {
  orderId: string;
  channelCode: string;
  type: OrderEventType;
  from: OrderStatus | null;
  to: OrderStatus | null;
  source: string;
  detail: OrderEventDetails[OrderEventType] | null | undefined;
}

async function insertEvents(tx: EntityManager, events: EventRow[]) {
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

// ---------------------------------------------------------------------------
// Locking, and split families: a split order is the sale, its sub-orders the parcels.
// ---------------------------------------------------------------------------

const LOCKED_COLUMNS = `o.id, o.status, o.parent_id, c.code as channel_code`;

/** Locks orders by id, in id order (so two callers never deadlock on them). */
export async function lockOrders(tx: EntityManager, ids: string[]): Promise<LockedOrder[]> {
  if (ids.length === 0) return [];
  return tx.execute<LockedOrder[]>(
    `select ${LOCKED_COLUMNS} from "order" o join channel c on c.id = o.channel_id
     where o.id in (${ids.map(() => '?').join(', ')}) order by o.id for update of o`,
    ids,
  );
}

/**
 * Locks the order for a move, or says why this key cannot move it. A sub-order's parent
 * is locked first, so moves of one split family queue on the parent and never deadlock;
 * parent_id never changes, so it may be read unlocked.
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
  const parent = family?.parent_id ? ((await lockOrders(tx, [family.parent_id]))[0] ?? null) : null;
  const [order] = await lockOrders(tx, [id]);
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

/**
 * Payment, cancellation and a platform's word about the whole sale carry over to a split
 * order's sub-orders in the same transaction (the callers have locked the parents; the
 * sub-orders are locked next). Sub-orders already as far, or past, stay as they are.
 */
export async function carryToChildren(
  tx: EntityManager,
  parentIds: string[],
  to: OrderStatus,
  cause: Pick<MoveCause, 'source' | 'detail'>,
): Promise<void> {
  if (parentIds.length === 0) return;
  const children = await tx.execute<LockedOrder[]>(
    `select ${LOCKED_COLUMNS} from "order" o join channel c on c.id = o.channel_id
     where o.parent_id in (${parentIds.map(() => '?').join(', ')}) order by o.id for update of o`,
    parentIds,
  );
  const moving = children.filter((c) => canTransition(c.status, to));
  // Each sub-order's entry names its parent; its times come from the parent (transitionOrders).
  for (const parentId of new Set(moving.map((c) => c.parent_id!))) {
    await transitionOrders(
      tx,
      moving.filter((c) => c.parent_id === parentId),
      to,
      { source: cause.source, detail: { ...cause.detail, parentId } },
    );
  }
}

/** After a sub-order moved: its parent follows when every sub-order got as far (statusFollowingChildren). */
export async function followChildren(tx: EntityManager, parent: LockedOrder): Promise<void> {
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
  await transitionOrders(tx, [parent], to, {
    source: 'system',
    detail: { reason: `all sub-orders ${to}` },
    at: to === OrderStatus.DELIVERED ? lastDelivery : null,
  });
}
