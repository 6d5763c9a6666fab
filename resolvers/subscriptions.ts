import { Arg, Authorized, Resolver, Root, Subscription } from 'type-graphql';
import { InventoryItemType, StockAlertType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import {
  busOf,
  SubscriberFellBehindError,
  type Delivery,
  type InventoryEvent,
  type StockAlertEvent,
} from '../subscriptions/bus.js';
import { READ_OPERATIONS, READ_ORDERS } from './roles.js';

interface ByProduct {
  args: { productCode?: string | null };
  context: RequestContext;
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

/** Stock alerts and inventory changes, published after commit by subscriptions/postgres-listener. */
@Resolver()
export class SubscriptionResolver {
  @Authorized(READ_OPERATIONS)
  @Subscription(() => StockAlertType, {
    subscribe: ({ args, context }: ByProduct) =>
      busOf(context).subscribe('stockAlert', forProduct(args.productCode)),
  })
  stockAlert(
    @Root() alert: Delivery<StockAlertEvent>,
    @Arg('productCode', () => String, { nullable: true }) _productCode: string | null,
  ): StockAlertType {
    return delivered(alert);
  }

  @Authorized(READ_ORDERS)
  @Subscription(() => InventoryItemType, {
    subscribe: ({ args, context }: ByProduct) =>
      busOf(context).subscribe('inventoryChanged', forProduct(args.productCode)),
  })
  inventoryChanged(
    @Root() item: Delivery<InventoryEvent>,
    @Arg('productCode', () => String, { nullable: true }) _productCode: string | null,
  ): InventoryItemType {
    return delivered(item);
  }
}
