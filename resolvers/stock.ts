import { Arg, Authorized, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import { InventoryItemType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import { adjustStock, setSafetyStock } from '../services/stock-levels.js';
import { WRITE_STOCK } from './roles.js';

@Resolver()
export class StockLevelResolver {
  @Authorized(WRITE_STOCK)
  @Mutation(() => InventoryItemType)
  adjustStock(
    @Ctx() ctx: RequestContext,
    @Arg('productCode', () => String) productCode: string,
    @Arg('delta', () => Int) delta: number,
    @Arg('reason', () => String) reason: string,
  ) {
    return adjustStock(ctx, productCode, delta, reason);
  }

  @Authorized(WRITE_STOCK)
  @Mutation(() => InventoryItemType)
  setSafetyStock(
    @Ctx() ctx: RequestContext,
    @Arg('productCode', () => String) productCode: string,
    @Arg('safetyStock', () => Int) safetyStock: number,
  ) {
    return setSafetyStock(ctx, productCode, safetyStock);
  }
}
