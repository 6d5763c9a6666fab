import { OrderStatus } from '../schema/enums.js';

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
