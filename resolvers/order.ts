import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Int, Query, Resolver, Root } from 'type-graphql';
import type { Order, OrderLine, Reservation, Shipment } from '../entities/index.js';
import type { ShipmentMessage } from '../subscriptions/order-events.js';
import { OrderFilterInput, OrderSortInput } from '../schema/inputs.js';
import {
  LiveTrackingType,
  MoneyType,
  OrderConnectionType,
  OrderEventType,
  OrderLineType,
  OrderType,
  ReservationType,
  ShipmentEventType,
  ShipmentType,
} from '../schema/order.js';
import { ChannelType } from '../schema/channel.js';
import { JSONScalar } from '../schema/scalars.js';
import { ProductType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import type { OrderLineRow, OrderRow } from '../services/read-model.js';
import {
  findOrder,
  findOrderByExternalId,
  listOrderEvents,
  listOrders,
  listStuckOrders,
  statusSince,
  type OrderPage,
} from '../services/orders.js';
import { firstItems, type NestedListBound } from '../services/ids.js';
import { liveTracking } from '../services/live-tracking.js';
import { whenLoaded } from '../services/loaders.js';
import { OrderStatus } from '../common/enums.js';
import { DateTimeScalar } from '../schema/scalars.js';
import { READ_OPERATIONS, READ_ORDERS } from './roles.js';
import { orderPageIncludes } from './selection.js';

/** Lists under an order answer at most a page each, so nested selections have a bounded cost. */
const NESTED: Record<
  'lines' | 'reservations' | 'shipments' | 'timeline' | 'children' | 'events',
  NestedListBound
> = {
  lines: { fallback: 50, max: 200 },
  reservations: { fallback: 50, max: 200 },
  timeline: { fallback: 50, max: 200 },
  children: { fallback: 20, max: 100 },
  shipments: { fallback: 10, max: 50 },
  events: { fallback: 20, max: 100 },
};

function firstArg(bound: NestedListBound) {
  return Arg('first', () => Int, {
    nullable: true,
    defaultValue: bound.fallback,
    description: `How many, from the first (at most ${bound.max}).`,
  });
}

@Resolver(() => OrderType)
export class OrderResolver {
  @Authorized(READ_ORDERS)
  @Query(() => OrderType, { nullable: true })
  order(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return findOrder(ctx, id);
  }

  @Authorized(READ_ORDERS)
  @Query(() => OrderType, { nullable: true })
  orderByExternalId(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('externalId', () => String) externalId: string,
  ) {
    return findOrderByExternalId(ctx, channelCode, externalId);
  }

  @Authorized(READ_ORDERS)
  @Query(() => OrderConnectionType)
  orders(
    @Ctx() ctx: RequestContext,
    @Arg('filter', () => OrderFilterInput, { nullable: true }) filter: OrderFilterInput | null,
    @Arg('sort', () => OrderSortInput, { nullable: true }) sort: OrderSortInput | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Info() info: GraphQLResolveInfo,
  ) {
    return listOrders(ctx, { filter, sort, first, after, include: orderPageIncludes(info) });
  }

  @Authorized(READ_ORDERS)
  @Query(() => [OrderEventType])
  orderEvents(
    @Ctx() ctx: RequestContext,
    @Arg('after', () => ID, { nullable: true }) after: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first: number | null,
  ) {
    return listOrderEvents(ctx, after, first);
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [OrderType], {
    description:
      'The orders longest in an unfinished status (by default PENDING_PAYMENT, PAID, PACKED, SHIPPED), oldest ' +
      'statusSince first, at most 200. A split sale is listed as its sub-orders, the parcels that move.',
  })
  stuckOrders(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('statuses', () => [OrderStatus], { nullable: true }) statuses: OrderStatus[] | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
  ) {
    return listStuckOrders(ctx, { channelCode, statuses, first });
  }

  @FieldResolver(() => DateTimeScalar)
  statusSince(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return statusSince(ctx, order);
  }

  @FieldResolver(() => ChannelType)
  channel(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.channelById.load(order.channel.id);
  }

  @FieldResolver(() => JSONScalar, { nullable: true })
  raw(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.rawByOrderId.load(order.id);
  }

  @FieldResolver(() => MoneyType)
  total(@Root() order: Order | OrderRow): MoneyType {
    return { amount: order.totalAmount, currencyCode: order.currencyCode };
  }

  @FieldResolver(() => [OrderLineType])
  lines(
    @Root() order: Order | OrderRow,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.lines) first: number | null,
  ) {
    return whenLoaded(ctx.loaders.linesByOrderId.load(order.id), (lines) =>
      firstItems(lines, first, NESTED.lines),
    );
  }

  @FieldResolver(() => [ReservationType])
  async reservations(
    @Root() order: Order | OrderRow,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.reservations) first: number | null,
  ) {
    return firstItems(await ctx.loaders.reservationsByOrderId.load(order.id), first, NESTED.reservations);
  }

  @FieldResolver(() => [ShipmentType])
  async shipments(
    @Root() order: Order | OrderRow,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.shipments) first: number | null,
  ) {
    return firstItems(await ctx.loaders.shipmentsByOrderId.load(order.id), first, NESTED.shipments);
  }

  @FieldResolver(() => [OrderEventType])
  async timeline(
    @Root() order: Order | OrderRow,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.timeline) first: number | null,
  ) {
    return firstItems(await ctx.loaders.timelineByOrderId.load(order.id), first, NESTED.timeline);
  }

  @FieldResolver(() => OrderType, { nullable: true })
  parent(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return order.parent ? ctx.loaders.orderById.load(order.parent.id) : null;
  }

  @FieldResolver(() => [OrderType])
  async children(
    @Root() order: Order | OrderRow,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.children) first: number | null,
  ) {
    return firstItems(await ctx.loaders.childrenByParentId.load(order.id), first, NESTED.children);
  }
}

@Resolver(() => OrderLineType)
export class OrderLineResolver {
  @FieldResolver(() => ProductType, { nullable: true })
  product(@Root() line: OrderLine | OrderLineRow, @Ctx() ctx: RequestContext) {
    return line.product ? ctx.loaders.productById.load(line.product.id) : null;
  }

  @FieldResolver(() => MoneyType)
  unitPrice(
    @Root() line: OrderLine | OrderLineRow,
    @Ctx() ctx: RequestContext,
  ): MoneyType | Promise<MoneyType> {
    return moneyOf(line.unitPrice, line, ctx);
  }

  @FieldResolver(() => MoneyType)
  lineTotal(
    @Root() line: OrderLine | OrderLineRow,
    @Ctx() ctx: RequestContext,
  ): MoneyType | Promise<MoneyType> {
    return moneyOf(line.lineTotal, line, ctx);
  }
}

/** An amount of a line in its order's currency: at once for a line of a page's order (held), else through orderById. */
function moneyOf(
  amount: string,
  line: OrderLine | OrderLineRow,
  ctx: RequestContext,
): MoneyType | Promise<MoneyType> {
  return whenLoaded(ctx.loaders.orderById.load(line.order.id), (order) => ({
    amount,
    currencyCode: order!.currencyCode,
  }));
}

@Resolver(() => ShipmentType)
export class ShipmentResolver {
  @FieldResolver(() => [ShipmentEventType])
  async events(
    @Root() shipment: Shipment | ShipmentMessage,
    @Ctx() ctx: RequestContext,
    @firstArg(NESTED.events) first: number | null,
  ) {
    // A subscription's shipment arrives with its events, read once for every subscriber.
    const events =
      'events' in shipment ? shipment.events : await ctx.loaders.shipmentEventsByShipmentId.load(shipment.id);
    return firstItems(events, first, NESTED.events);
  }

  @Authorized(READ_ORDERS)
  @FieldResolver(() => LiveTrackingType, {
    description:
      "The parcel's tracking asked of its carrier now (batched, reused for a minute); new events are recorded.",
  })
  liveTracking(@Root() shipment: Shipment | ShipmentMessage, @Ctx() ctx: RequestContext) {
    return liveTracking(ctx, shipment);
  }
}

@Resolver(() => ReservationType)
export class ReservationResolver {
  @FieldResolver(() => OrderType, { nullable: true })
  order(@Root() reservation: Reservation, @Ctx() ctx: RequestContext) {
    return reservation.order ? ctx.loaders.orderById.load(reservation.order.id) : null;
  }
}

/** Counts are made only when selected: most pages never show one. */
@Resolver(() => OrderConnectionType)
export class OrderConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Root() page: OrderPage) {
    return page.totalCount();
  }

  @FieldResolver(() => Int)
  totalCountEstimate(@Root() page: OrderPage) {
    return page.totalCountEstimate();
  }
}
