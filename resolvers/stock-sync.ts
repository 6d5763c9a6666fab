import { Arg, Authorized, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import { ChannelStockType } from '../schema/stock-sync.js';
import { setChannelStockCap, syncStock } from '../services/channel-stock.js';
import type { RequestContext } from '../services/context.js';
import { WRITE_STOCK } from './roles.js';

@Resolver()
export class StockSyncResolver {
  @Authorized(WRITE_STOCK)
  @Mutation(() => ChannelStockType, {
    nullable: true,
    description:
      "Shows at most `cap` units of the product on the channel (null lifts it); answers the product's listing there, null when it has none.",
  })
  setChannelStockCap(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('productCode', () => String) productCode: string,
    @Arg('cap', () => Int, { nullable: true }) cap: number | null,
  ) {
    return setChannelStockCap(ctx, channelCode, productCode, cap);
  }

  @Authorized(WRITE_STOCK)
  @Mutation(() => Int, {
    description:
      "Pushes the channel's listings now (of these products only, when given), FAILED ones included; answers how many were queued.",
  })
  syncStock(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('productCodes', () => [String], { nullable: true }) productCodes: string[] | null,
  ) {
    return syncStock(ctx, channelCode, productCodes);
  }
}
