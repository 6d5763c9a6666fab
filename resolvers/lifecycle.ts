import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { OrderType } from '../schema/order.js';
import type { RequestContext } from '../services/context.js';
import { cancelOrder, markPaid } from '../services/order-lifecycle.js';
import { MOVE_ORDERS } from './roles.js';

@Resolver()
export class LifecycleResolver {
  @Authorized(MOVE_ORDERS)
  @Mutation(() => OrderType)
  markPaid(@Ctx() ctx: RequestContext, @Arg('orderId', () => ID) orderId: string) {
    return markPaid(ctx, orderId);
  }

  @Authorized(MOVE_ORDERS)
  @Mutation(() => OrderType)
  cancelOrder(
    @Ctx() ctx: RequestContext,
    @Arg('orderId', () => ID) orderId: string,
    @Arg('reason', () => String) reason: string,
  ) {
    return cancelOrder(ctx, orderId, reason);
  }
}
