import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { ReservationType } from '../schema/order.js';
import { DateTimeScalar } from '../schema/scalars.js';
import { InventoryItemType, StockAlertType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import { findInventory, findReservation, listLowStock, listStockAlerts } from '../services/inventory.js';
import { READ_CATALOG, READ_OPERATIONS, READ_ORDERS } from './roles.js';

@Resolver(() => InventoryItemType)
export class InventoryResolver {
  @Authorized(READ_CATALOG)
  @Query(() => InventoryItemType, { nullable: true })
  inventory(@Ctx() ctx: RequestContext, @Arg('productCode', () => String) productCode: string) {
    return findInventory(ctx, productCode);
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [InventoryItemType])
  lowStock(@Ctx() ctx: RequestContext) {
    return listLowStock(ctx);
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [StockAlertType])
  stockAlerts(
    @Ctx() ctx: RequestContext,
    @Arg('since', () => DateTimeScalar, { nullable: true }) since: Date | null,
    @Arg('productCode', () => String, { nullable: true }) productCode: string | null,
  ) {
    return listStockAlerts(ctx, { since, productCode });
  }

  @Authorized(READ_ORDERS)
  @Query(() => ReservationType, { nullable: true })
  reservation(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return findReservation(ctx, id);
  }
}
