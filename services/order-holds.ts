import type { EntityManager } from '@mikro-orm/postgresql';
import { OrderEventType, OrderStatus } from '../common/enums.js';
import { BadUserInputError, ConflictError, OrderHeldError } from '../common/errors.js';
import { Order } from '../entities/index.js';
import { requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { lockOrder, recordOrderEvents, type LockedOrder } from './order-transitions.js';
import { actorOf } from './stock-levels.js';
import { inTransaction } from './transactions.js';

/**
 * Holding an order from shipping (a risky order, while someone looks into it). A hold is not a status: the order
 * keeps moving through payment and packing, only `shipOrder` refuses it (ORDER_HELD). Holding and releasing write
 * the timeline (HELD, RELEASED) in the same transaction, the order row locked first as for every move.
 */

const MAX_REASON = 500;
/** An order that has shipped or ended has nothing left to hold. */
const HOLDABLE: ReadonlySet<OrderStatus> = new Set([
  OrderStatus.PENDING_PAYMENT,
  OrderStatus.PAID,
  OrderStatus.PACKED,
]);

async function reloaded(ctx: RequestContext, id: string): Promise<Order> {
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

/** `holdOrder`: holding a held order again changes nothing (the first reason stays). */
export async function holdOrder(ctx: RequestContext, orderId: string, reason: string): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  const why = reason.trim();
  if (!why) throw new BadUserInputError('reason must not be empty.', 'reason');
  if (why.length > MAX_REASON)
    throw new BadUserInputError(`reason must be at most ${MAX_REASON} characters.`, 'reason');
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    if (!HOLDABLE.has(order.status))
      throw new ConflictError(
        `Order ${id} is ${order.status}: only an order that has not shipped can be held.`,
      );
    const held = await tx.execute<{ id: string }[]>(
      `update "order" set held_at = now(), held_reason = ?, held_by = ?, updated_at = now()
       where id = ? and held_at is null returning id`,
      [why, actorOf(ctx), id],
    );
    if (held.length === 0) return;
    await recordOrderEvents(tx, OrderEventType.HELD, [
      {
        orderId: id,
        channelCode: order.channel_code,
        status: order.status,
        source: 'api',
        detail: { reason: why, by: actorOf(ctx) },
      },
    ]);
  });
  return reloaded(ctx, id);
}

/** `releaseOrder`: the order may ship again; releasing one that is not held changes nothing. */
export async function releaseOrder(ctx: RequestContext, orderId: string): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    const [was] = await tx.execute<{ held_reason: string }[]>(
      `select held_reason from "order" where id = ? and held_at is not null`,
      [id],
    );
    if (!was) return;
    await tx.execute(
      `update "order" set held_at = null, held_reason = null, held_by = null, updated_at = now() where id = ?`,
      [id],
    );
    await recordOrderEvents(tx, OrderEventType.RELEASED, [
      {
        orderId: id,
        channelCode: order.channel_code,
        status: order.status,
        source: 'api',
        detail: { by: actorOf(ctx), heldFor: was.held_reason },
      },
    ]);
  });
  return reloaded(ctx, id);
}

/** ORDER_HELD when the order, or the sale it is a parcel of, is held. Both rows are locked by the caller. */
export async function refuseHeld(
  tx: EntityManager,
  order: LockedOrder & { parent: LockedOrder | null },
): Promise<void> {
  const ids = order.parent ? [order.id, order.parent.id] : [order.id];
  const held = await tx.execute<{ id: string; held_reason: string }[]>(
    `select id, held_reason from "order" where id in (${ids.map(() => '?').join(', ')}) and held_at is not null
     order by id = ? desc`,
    [...ids, order.id],
  );
  if (held.length) throw new OrderHeldError(order.id, held[0].held_reason, held[0].id);
}
