import { Arg, Authorized, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { Return } from '../entities/index.js';
import { OrderEventType, ShipmentType } from '../schema/order.js';
import { ReturnType } from '../schema/returns.js';
import { InventoryItemType, StockAlertType } from '../schema/stock.js';
import { ChannelStockType } from '../schema/stock-sync.js';
import { channelStockSubscription, type ChannelStockView } from '../services/channel-stock.js';
import type { RequestContext } from '../services/context.js';
import {
  orderEventSubscription,
  returnUpdateSubscription,
  shipmentSubscription,
  updatedReturn,
} from '../services/order-subscriptions.js';
import { SubscriberFellBehindError } from '../common/errors.js';
import type { Delivery, InventoryEvent, StockAlertEvent } from '../subscriptions/bus.js';
import type { OrderEventMessage, ShipmentMessage } from '../subscriptions/order-events.js';
import type { HubStreams } from '../subscriptions/streams.js';
import { READ_OPERATIONS, READ_ORDERS } from './roles.js';

interface Subscribing<A> {
  args: A;
  context: RequestContext;
}

/** The streams of the context's hub; every hub that serves websockets has them. */
function streamsOf(context: RequestContext): HubStreams {
  const { streams } = context.hub;
  if (!streams) throw new Error('This hub serves no subscriptions.');
  return streams;
}

/** Keeps only the given product's events when a product code is given. */
function forProduct(productCode: string | null | undefined) {
  return (event: { productCode: string }) => productCode == null || event.productCode === productCode;
}

/** Events arrive as plain objects shaped like their GraphQL type; a slow subscriber's last item ends it. */
function delivered<T>(item: Delivery<T>): T {
  if (item instanceof SubscriberFellBehindError) throw item;
  return item;
}

/** Checks the subscriber's access first, then streams (an async generator runs its checks on the first read). */
async function* checkedStream<T>(open: () => Promise<AsyncIterable<T>>): AsyncGenerator<T> {
  yield* await open();
}

/** Every stream is published after commit by the hub's subscriptions/ layer, from any hub process. */
@Resolver()
export class SubscriptionResolver {
  @Authorized(READ_ORDERS)
  @Subscription(() => OrderEventType, {
    description:
      'Every event of the matching orders (type tells which), in seq order; `after` replays first.',
    subscribe: ({ args, context }: Subscribing<{ orderId?: string; channelCode?: string; after?: string }>) =>
      checkedStream(async () => {
        const { filter, after } = await orderEventSubscription(context, args);
        return streamsOf(context).orderEvents(filter, after);
      }),
  })
  orderStatusChanged(
    @Root() event: Delivery<OrderEventMessage>,
    @Arg('orderId', () => ID, { nullable: true }) _orderId: string | null,
    @Arg('channelCode', () => String, { nullable: true }) _channelCode: string | null,
    @Arg('after', () => ID, { nullable: true }) _after: string | null,
  ): OrderEventType {
    return delivered(event);
  }

  @Authorized(READ_ORDERS)
  @Subscription(() => ReturnType, {
    description:
      "Each change of the matching orders' after-sale cases, in seq order: the case as it stands when sent. " +
      "`after`: the seq of an order event (a RETURN_UPDATED entry of orderStatusChanged or an order's timeline); replays first.",
    subscribe: ({ args, context }: Subscribing<{ orderId?: string; channelCode?: string; after?: string }>) =>
      checkedStream(async () => {
        const { filter, after } = await returnUpdateSubscription(context, args);
        return streamsOf(context).orderEvents(filter, after);
      }),
  })
  returnUpdated(
    @Root() event: Delivery<OrderEventMessage>,
    @Ctx() context: RequestContext,
    @Arg('orderId', () => ID, { nullable: true }) _orderId: string | null,
    @Arg('channelCode', () => String, { nullable: true }) _channelCode: string | null,
    @Arg('after', () => ID, { nullable: true }) _after: string | null,
  ): Promise<Return> {
    return updatedReturn(context, delivered(event));
  }

  @Authorized(READ_ORDERS)
  @Subscription(() => ShipmentType, {
    subscribe: ({ args, context }: Subscribing<{ orderId?: string; trackingNumber?: string }>) =>
      checkedStream(async () => streamsOf(context).shipments(await shipmentSubscription(context, args))),
  })
  shipmentUpdated(
    @Root() shipment: Delivery<ShipmentMessage>,
    @Arg('orderId', () => ID, { nullable: true }) _orderId: string | null,
    @Arg('trackingNumber', () => String, { nullable: true }) _trackingNumber: string | null,
  ): ShipmentType {
    return delivered(shipment);
  }

  @Authorized(READ_OPERATIONS)
  @Subscription(() => StockAlertType, {
    subscribe: ({ args, context }: Subscribing<{ productCode?: string | null }>) =>
      streamsOf(context).bus.subscribe('stockAlert', forProduct(args.productCode)),
  })
  stockAlert(
    @Root() alert: Delivery<StockAlertEvent>,
    @Arg('productCode', () => String, { nullable: true }) _productCode: string | null,
  ): StockAlertType {
    return delivered(alert);
  }

  @Authorized(READ_ORDERS)
  @Subscription(() => InventoryItemType, {
    subscribe: ({ args, context }: Subscribing<{ productCode?: string | null }>) =>
      streamsOf(context).bus.subscribe('inventoryChanged', forProduct(args.productCode)),
  })
  inventoryChanged(
    @Root() item: Delivery<InventoryEvent>,
    @Arg('productCode', () => String, { nullable: true }) _productCode: string | null,
  ): InventoryItemType {
    return delivered(item);
  }

  @Authorized(READ_ORDERS)
  @Subscription(() => ChannelStockType, {
    description:
      "A listing's state, confirmed number or error changed (a channel's key: its own channel's listings only).",
    // The bus's own iterator, the access check made first: a generator around it would end only at its next
    // event, and a subscriber that left would count (and have listings loaded) until then.
    subscribe: async ({ args, context }: Subscribing<{ channelCode?: string | null }>) =>
      streamsOf(context).bus.subscribe(
        'channelStockChanged',
        channelStockSubscription(context, args.channelCode),
      ),
  })
  channelStockChanged(
    @Root() listing: Delivery<ChannelStockView>,
    @Arg('channelCode', () => String, { nullable: true }) _channelCode: string | null,
  ): ChannelStockType {
    return delivered(listing);
  }
}
