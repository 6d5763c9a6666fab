import { InventoryItem, Reservation, StockAlert } from '../entities/index.js';
import { channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';

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
