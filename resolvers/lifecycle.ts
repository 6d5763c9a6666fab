import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { ShipmentStatus } from '../common/enums.js';
import { OrderType, ShipmentType } from '../schema/order.js';
import { DateTimeScalar } from '../schema/scalars.js';
import type { RequestContext } from '../services/context.js';
import { cancelOrder, markPacked, markPaid } from '../services/order-actions.js';
import { recordShipmentEvent, shipOrder } from '../services/shipping.js';
import { MOVE_ORDERS, SHIP_ORDERS } from './roles.js';

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

  @Authorized(SHIP_ORDERS)
  @Mutation(() => OrderType)
  markPacked(@Ctx() ctx: RequestContext, @Arg('orderId', () => ID) orderId: string) {
    return markPacked(ctx, orderId);
  }

  @Authorized(SHIP_ORDERS)
  @Mutation(() => OrderType)
  shipOrder(
    @Ctx() ctx: RequestContext,
    @Arg('orderId', () => ID) orderId: string,
    @Arg('carrier', () => String) carrier: string,
    @Arg('trackingNumber', () => String) trackingNumber: string,
  ) {
    return shipOrder(ctx, orderId, carrier, trackingNumber);
  }

  @Authorized(SHIP_ORDERS)
  @Mutation(() => ShipmentType)
  recordShipmentEvent(
    @Ctx() ctx: RequestContext,
    @Arg('trackingNumber', () => String) trackingNumber: string,
    @Arg('status', () => ShipmentStatus) status: ShipmentStatus,
    @Arg('description', () => String, { nullable: true }) description: string | null,
    @Arg('occurredAt', () => DateTimeScalar, { nullable: true }) occurredAt: Date | null,
  ) {
    return recordShipmentEvent(ctx, trackingNumber, status, description, occurredAt);
  }
}
