import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { OrderType } from '../schema/order.js';
import type { RequestContext } from '../services/context.js';
import { splitOrder } from '../services/splitting.js';
import { SPLIT_ORDERS } from './roles.js';

@Resolver()
export class SplittingResolver {
  @Authorized(SPLIT_ORDERS)
  @Mutation(() => [OrderType], { description: 'Applies the split rules; returns the sub-orders.' })
  splitOrder(@Ctx() ctx: RequestContext, @Arg('orderId', () => ID) orderId: string) {
    return splitOrder(ctx, orderId);
  }
}
