import type { EntityManager } from '@mikro-orm/postgresql';
import { Order } from '../entities/index.js';
import { OrderStatus } from '../schema/enums.js';
import { assertChannelAccess, requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import {
  BadUserInputError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
} from './errors.js';
import { parseId } from './ids.js';
import { isForward, STOCK_TAKEN } from './lifecycle.js';
import { actorOf, evaluateStockLevels } from './stock-levels.js';
import { commitLines, releaseHolds, restockCommitted } from './stock.js';

/**
 * Status moves made through the API (an operator or the storefront), each one
 * transaction: the order row is locked first, then the stock rows in product-id
 * order; the new status, its timeline entry and its stock effect commit together.
 */

const MAX_REASON = 500;

/** PostgreSQL aborts one side of a deadlock (e.g. with the hold sweeper); the move is then simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

interface LockedOrder {
  id: string;
  status: OrderStatus;
  channel_code: string;
}

async function inTransaction<T>(ctx: RequestContext, work: (tx: EntityManager) => Promise<T>): Promise<T> {
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

/** Locks the order for the move, or says why it cannot be moved by this key. */
async function lockOrder(ctx: RequestContext, tx: EntityManager, id: string): Promise<LockedOrder> {
  const [order] = await tx.execute<LockedOrder[]>(
    `select o.id, o.status, c.code as channel_code from "order" o join channel c on c.id = o.channel_id
     where o.id = ? for update of o`,
    [id],
  );
  if (!order) throw new NotFoundError('Order', id);
  assertChannelAccess(ctx, order.channel_code);
  return order;
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
) {
  await tx.execute(
    `update "order" set status = ?::order_status, updated_at = now(),
       paid_at = case when ?::order_status = 'PAID' then coalesce(paid_at, now()) else paid_at end
     where id = ?`,
    [to, to, order.id],
  );
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     values (?, ?, 'STATUS_CHANGED', ?::order_status, ?::order_status, 'api', ?::jsonb)`,
    [order.id, order.channel_code, order.status, to, detail ? JSON.stringify(detail) : null],
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
    if (order.status !== OrderStatus.PENDING_PAYMENT || !isForward(order.status, OrderStatus.PAID))
      throw new InvalidTransitionError(id, order.status, OrderStatus.PAID);
    const lines = await lineProducts(tx, id);
    const short = await commitLines(tx, { id, channelCode: order.channel_code }, lines, actorOf(ctx));
    if (short.length)
      throw new InsufficientStockError(short[0].productCode, short[0].quantity, short[0].available);
    await moveTo(tx, order, OrderStatus.PAID, null);
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
    if (!isForward(order.status, OrderStatus.CANCELLED))
      throw new InvalidTransitionError(id, order.status, OrderStatus.CANCELLED);
    const touched = STOCK_TAKEN.has(order.status)
      ? await restockCommitted(tx, id, actorOf(ctx))
      : await releaseHolds(tx, id);
    await moveTo(tx, order, OrderStatus.CANCELLED, { reason: why });
    await evaluateStockLevels(tx, touched, ctx.settings);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}
