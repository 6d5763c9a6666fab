import type { EntityManager } from '@mikro-orm/postgresql';
import { InventoryItem, Reservation, StockAlert } from '../entities/index.js';
import { OrderEventType, OrderStatus } from '../common/enums.js';
import { channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { readRows } from './read-db.js';
import {
  carryToChildren,
  recordOrderEvents,
  transitionOrders,
  type LockedOrder,
} from './order-transitions.js';
import { releaseHolds } from './stock.js';
import { evaluateStockLevels } from './stock-levels.js';

/** The central stock pool as operators see it (items, low stock, alerts, holds), and the hold sweeper. */

export async function findInventory(ctx: RequestContext, productCode: string): Promise<InventoryItem | null> {
  return ctx.em.findOne(InventoryItem, { productCode });
}

/** Items at or below their safety stock, emptiest first. */
export async function listLowStock(ctx: RequestContext): Promise<InventoryItem[]> {
  const rows = await readRows<Record<string, unknown>>(
    ctx.em,
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
      await evaluateStockLevels(tx, [...byProduct.keys(), ...released], ctx.hub.settings);
      return {
        all: rows.length,
        ofOrders: rows.filter((r) => r.order_id !== null).length,
      };
    });
    // Counted once committed: a batch rolled back expired nothing.
    ctx.hub.metrics.held('order', 'expired', expired.ofOrders);
    ctx.hub.metrics.held('reservation', 'expired', expired.all - expired.ofOrders);
    total += expired.all;
    if (expired.all < batchSize) return total;
  }
}

/**
 * The timeline of each order whose holds ran out says so. The hub owns the payment
 * timeout only of orders it took itself (placeOrder, and its own storefront channel):
 * those are cancelled, with their other holds released; a marketplace order waits
 * for its platform to say what happened. Returns the products whose other holds it released.
 */
async function timeOutOrders(tx: EntityManager, orderIds: string[]): Promise<string[]> {
  const orders = await tx.execute<(LockedOrder & { owned: boolean })[]>(
    `select o.id, o.status, o.parent_id, c.code as channel_code,
       (o.origin = 'PLACED' or c.platform = 'STOREFRONT') as owned
     from "order" o join channel c on c.id = o.channel_id
     where o.id in (${orderIds.map(() => '?').join(', ')}) order by o.id for update of o`,
    orderIds,
  );
  await recordOrderEvents(
    tx,
    OrderEventType.HOLD_EXPIRED,
    orders.map((o) => ({
      orderId: o.id,
      channelCode: o.channel_code,
      status: o.status,
      source: 'system',
      detail: TIMEOUT,
    })),
  );
  const cancelled = orders.filter((o) => o.owned && o.status === OrderStatus.PENDING_PAYMENT);
  if (cancelled.length === 0) return [];
  await transitionOrders(tx, cancelled, OrderStatus.CANCELLED, { source: 'system', detail: TIMEOUT });
  // A split sale's sub-orders are cancelled with it.
  const ids = cancelled.map((o) => o.id);
  await carryToChildren(tx, ids, OrderStatus.CANCELLED, { source: 'system', detail: TIMEOUT });
  const released: string[] = [];
  for (const id of ids) released.push(...(await releaseHolds(tx, id)));
  return released;
}

const TIMEOUT = { reason: 'payment timeout' };
