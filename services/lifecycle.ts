import { OrderStatus } from '../common/enums.js';

const RANK: Record<OrderStatus, number> = {
  [OrderStatus.PENDING_PAYMENT]: 0,
  [OrderStatus.PAID]: 1,
  [OrderStatus.PACKED]: 2,
  [OrderStatus.SHIPPED]: 3,
  [OrderStatus.DELIVERED]: 4,
  [OrderStatus.CANCELLED]: 5,
  [OrderStatus.REFUNDED]: 5,
};

const TERMINAL = new Set([OrderStatus.CANCELLED, OrderStatus.REFUNDED]);

/** Statuses in which the order's stock has been taken from the pool (sold). */
export const STOCK_TAKEN = new Set([
  OrderStatus.PAID,
  OrderStatus.PACKED,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
]);

/**
 * Whether a status a platform reports moves the order forward. Platforms may skip
 * steps (PENDING_PAYMENT straight to SHIPPED), but never go back: a late, older
 * payload must not undo a newer one.
 */
export function isForward(from: OrderStatus, to: OrderStatus): boolean {
  if (from === to || TERMINAL.has(from)) return false;
  if (to === OrderStatus.CANCELLED) return RANK[from] < RANK[OrderStatus.SHIPPED];
  if (to === OrderStatus.REFUNDED) return RANK[from] >= RANK[OrderStatus.PAID];
  return RANK[to] > RANK[from];
}

/** Fulfilment statuses a split order takes from its sub-orders (the parcels). */
const FOLLOWS_CHILDREN = new Set([OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]);

/**
 * The status a split order moves to after one of its sub-orders moved, or null: it
 * is as far as its least advanced sub-order (SHIPPED once all are shipped). Payment
 * and cancellation are the parent's own and go the other way, parent to children.
 */
export function statusFollowingChildren(parent: OrderStatus, children: OrderStatus[]): OrderStatus | null {
  if (children.length === 0) return null;
  const least = children.reduce((a, b) => (RANK[b] < RANK[a] ? b : a));
  return FOLLOWS_CHILDREN.has(least) && isForward(parent, least) ? least : null;
}
