import { Order } from '../entities/index.js';
import { OrderStatus } from '../common/enums.js';
import { BadUserInputError, InsufficientStockError, InvalidTransitionError } from '../common/errors.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import {
  assertTransition,
  carryToChildren,
  childIds,
  followChildren,
  lockOrder,
  STOCK_TAKEN,
  transitionOrders,
  type LockedOrder,
} from './order-transitions.js';
import { actorOf, evaluateStockLevels } from './stock-levels.js';
import { commitLines, releaseHolds, restockCommitted } from './stock.js';
import { inTransaction } from './transactions.js';

/**
 * The status moves an operator or the storefront asks for through the API: payment,
 * cancellation and packing (shipping.ts has the parcel's moves). Each is one
 * transaction: the order row is locked first (a sub-order's parent before it), then the
 * stock rows in product-id order; the move (order-transitions.ts), its timeline entry and
 * its stock effect commit together.
 *
 * A split order (see splitting.ts) is the sale, its sub-orders are the parcels:
 * payment and cancellation act on the parent and carry over to the sub-orders;
 * packing, shipping and delivery act on the sub-orders and the parent follows.
 */

const MAX_REASON = 500;

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
export async function refuseSplitParent(
  tx: EntityManager,
  order: LockedOrder,
  to: OrderStatus,
  action: string,
): Promise<void> {
  const children = await childIds(tx, order.id);
  if (children.length)
    throw new InvalidTransitionError(
      order.id,
      order.status,
      to,
      `Order ${order.id} is split into sub-orders ${children.join(', ')}: ${action} them instead.`,
    );
}

async function lineProducts(tx: EntityManager, orderId: string) {
  return tx.execute<{ productId: string; productCode: string; quantity: number }[]>(
    `select product_id as "productId", product_code as "productCode", quantity from order_line
     where order_id = ? and product_id is not null order by line_no`,
    [orderId],
  );
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
    if (order.status !== OrderStatus.PENDING_PAYMENT)
      throw new InvalidTransitionError(id, order.status, OrderStatus.PAID);
    const lines = await lineProducts(tx, id);
    const short = await commitLines(tx, { id, channelCode: order.channel_code }, lines, actorOf(ctx));
    if (short.length)
      throw new InsufficientStockError(short[0].productCode, short[0].quantity, short[0].available);
    await transitionOrders(tx, [order], OrderStatus.PAID, { source: 'api' });
    await carryToChildren(tx, [id], OrderStatus.PAID, { source: 'api' });
    await evaluateStockLevels(
      tx,
      lines.map((l) => l.productId),
      ctx.hub.settings,
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
    assertTransition(order, OrderStatus.CANCELLED);
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
    await transitionOrders(tx, [order], OrderStatus.CANCELLED, { source: 'api', detail: { reason: why } });
    await carryToChildren(tx, [id], OrderStatus.CANCELLED, { source: 'api', detail: { reason: why } });
    await evaluateStockLevels(tx, touched, ctx.hub.settings);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
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
    await transitionOrders(tx, [order], OrderStatus.PACKED, { source: 'api' });
    if (order.parent) await followChildren(tx, order.parent);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}
