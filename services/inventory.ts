import type { EntityManager } from '@mikro-orm/postgresql';
import { InventoryItem, Reservation, StockAlert } from '../entities/index.js';
import { OrderStatus } from '../common/enums.js';
import { channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { carryToChildren } from './order-lifecycle.js';
import { releaseHolds } from './stock.js';
import { evaluateStockLevels } from './stock-levels.js';

/** The central stock pool. Every unit of stock changes here, whatever channel sells it. */

export async function findInventory(ctx: RequestContext, productCode: string): Promise<InventoryItem | null> {
  return ctx.em.findOne(InventoryItem, { productCode });
}

/** Items at or below their safety stock, emptiest first. */
export async function listLowStock(ctx: RequestContext): Promise<InventoryItem[]> {
  const rows = await ctx.em.execute<Record<string, unknown>[]>(
    `select * from inventory_item where on_hand - reserved <= safety_stock
     order by on_hand - reserved, product_code limit 1000`,
  );
  return rows.map((row) => ctx.em.map(InventoryItem, row));
}

export async function findReservation(ctx: RequestContext, id: string): Promise<Reservation | null> {
  const reservation = await ctx.em.findOne(Reservation, { id: parseId(id) });
  const scope = channelScope(ctx);
  return reservation && (scope === null || reservation.channelCode === scope) ? reservation : null;
}

export async function listStockAlerts(
  ctx: RequestContext,
  filter: { since?: Date | null; productCode?: string | null },
): Promise<StockAlert[]> {
  return ctx.em.find(
    StockAlert,
    {
      ...(filter.since ? { createdAt: { $gte: filter.since } } : {}),
      ...(filter.productCode ? { productCode: filter.productCode } : {}),
    },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: 1000 },
  );
}

/**
 * Releases holds whose time ran out, safely with several hub processes (each takes
 * rows the others have not locked) and in one transaction per batch, so a process
 * dying half-way loses nothing. The timeline of each order says so; an unpaid
 * storefront or API order is cancelled for payment timeout, while a marketplace
 * order waits for its platform to say what happened. Returns how many expired.
 */
export async function expireHolds(ctx: RequestContext, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await ctx.em.transactional(async (tx) => {
      const rows = await tx.execute<{ product_id: string; quantity: number; order_id: string | null }[]>(
        `with due as (select id from reservation where status = 'HELD' and expires_at <= now()
                      order by expires_at limit ? for update skip locked)
         update reservation r set status = 'EXPIRED', updated_at = now() from due where r.id = due.id
         returning r.product_id, r.quantity, r.order_id`,
        [batchSize],
      );
      const byProduct = new Map<string, number>();
      for (const r of rows) byProduct.set(r.product_id, (byProduct.get(r.product_id) ?? 0) + r.quantity);
      for (const [productId, quantity] of [...byProduct].sort(([a], [b]) => (a < b ? -1 : 1))) {
        await tx.execute(
          `update inventory_item set reserved = reserved - ?, updated_at = now() where product_id = ?`,
          [quantity, productId],
        );
      }
      const orderIds = [...new Set(rows.map((r) => r.order_id).filter((id): id is string => id !== null))];
      const released = orderIds.length ? await timeOutOrders(tx, orderIds) : [];
      await evaluateStockLevels(tx, [...byProduct.keys(), ...released], ctx.settings);
      return rows.length;
    });
    total += expired;
    if (expired < batchSize) return total;
  }
}

/** Returns the products whose other holds it released. */
async function timeOutOrders(tx: EntityManager, orderIds: string[]): Promise<string[]> {
  const list = orderIds.map(() => '?').join(', ');
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     select o.id, c.code, 'HOLD_EXPIRED', o.status, o.status, 'system', '{"reason": "payment timeout"}'::jsonb
     from "order" o join channel c on c.id = o.channel_id where o.id in (${list})`,
    orderIds,
  );
  // The hub owns the payment timeout of its own storefront's and the API's orders.
  const cancelled = await tx.execute<{ id: string }[]>(
    `update "order" o set status = 'CANCELLED', updated_at = now()
     from channel c where c.id = o.channel_id and o.id in (${list}) and o.status = 'PENDING_PAYMENT'
       and (c.platform = 'STOREFRONT' or o.raw is null)
     returning o.id`,
    orderIds,
  );
  if (cancelled.length === 0) return [];
  const ids = cancelled.map((c) => c.id);
  const idList = ids.map(() => '?').join(', ');
  await tx.execute(
    `insert into order_event (order_id, channel_code, type, from_status, to_status, source, detail)
     select o.id, c.code, 'STATUS_CHANGED', 'PENDING_PAYMENT', 'CANCELLED', 'system', '{"reason": "payment timeout"}'::jsonb
     from "order" o join channel c on c.id = o.channel_id where o.id in (${idList})`,
    ids,
  );
  // A split sale's sub-orders are cancelled with it.
  await carryToChildren(tx, ids, OrderStatus.CANCELLED, 'system', { reason: 'payment timeout' });
  const released: string[] = [];
  for (const id of ids) released.push(...(await releaseHolds(tx, id)));
  return released;
}
