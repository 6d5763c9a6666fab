import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { ChannelType } from './channel.js';
import { OrderStatus, ReservationStatus, ShipmentStatus } from '../common/enums.js';
import { DateTimeScalar, DecimalScalar, JSONScalar } from './scalars.js';
import { ProductType } from './stock.js';

// simpleResolvers, on the types a page of orders shows: their plain fields have no middleware and no per-field
// auth, so graphql-js reads them itself rather than through a type-graphql wrapper per field of every row.
@ObjectType('Money', { simpleResolvers: true })
export class MoneyType {
  @Field(() => DecimalScalar) amount!: string;
  @Field(() => String) currencyCode!: string;
}

@ObjectType('Address', { simpleResolvers: true })
export class AddressType {
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => String, { nullable: true }) phone!: string | null;
  @Field(() => String, { nullable: true }) province!: string | null;
  @Field(() => String, { nullable: true }) city!: string | null;
  @Field(() => String, { nullable: true }) district!: string | null;
  @Field(() => String) line1!: string;
  @Field(() => String, { nullable: true }) postalCode!: string | null;
  @Field(() => String) country!: string;
  @Field(() => Boolean, { description: 'Far-region flag used by split rules.' }) remote!: boolean;
}

@ObjectType('OrderLine', { simpleResolvers: true })
export class OrderLineType {
  @Field(() => ID) id!: string;
  @Field(() => String) productCode!: string;
  @Field(() => ProductType, { nullable: true, description: 'Null when the code is unknown to the catalog.' })
  product!: ProductType | null;
  @Field(() => Int) quantity!: number;
  @Field(() => MoneyType) unitPrice!: MoneyType;
  @Field(() => MoneyType) lineTotal!: MoneyType;
  @Field(() => Int, {
    description: "Units refunded by the order's after-sale cases (REFUNDED), at most quantity.",
  })
  refundedQuantity!: number;
}

@ObjectType('ShipmentEvent', { simpleResolvers: true })
export class ShipmentEventType {
  @Field(() => ShipmentStatus) status!: ShipmentStatus;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => DateTimeScalar) occurredAt!: Date;
}

@ObjectType('Shipment', { simpleResolvers: true })
@Directive('@key(fields: "trackingNumber")')
export class ShipmentType {
  @Field(() => ID) id!: string;
  @Field(() => String) carrier!: string;
  @Field(() => String) trackingNumber!: string;
  @Field(() => ShipmentStatus) status!: ShipmentStatus;
  @Field(() => [ShipmentEventType]) events!: ShipmentEventType[];
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType('LiveTracking', {
  simpleResolvers: true,
  description:
    "A parcel's tracking as its carrier reports it now; the stored events when it cannot be asked.",
})
export class LiveTrackingType {
  @Field(() => [ShipmentEventType], {
    description:
      'Every event the hub holds for the parcel, oldest first, those the carrier just reported included.',
  })
  events!: ShipmentEventType[];
  @Field(() => Boolean, {
    description:
      'True when the carrier could not be asked (no tracking API configured, down, too slow, or failing often): the events are those stored.',
  })
  stale!: boolean;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When the carrier gave the answer shown (an answer is reused for a minute); null when stale.',
  })
  fetchedAt!: Date | null;
}

@ObjectType('OrderEvent', { simpleResolvers: true })
export class OrderEventType {
  @Field(() => ID, { description: 'Global, strictly increasing: the replay cursor.' }) seq!: string;
  @Field(() => ID) orderId!: string;
  @Field(() => String, { description: "The order's channel." }) channelCode!: string;
  @Field(() => String, { description: 'e.g. STATUS_CHANGED, SHIPMENT_UPDATED, SPLIT' }) type!: string;
  @Field(() => OrderStatus, { nullable: true }) fromStatus!: OrderStatus | null;
  @Field(() => OrderStatus, { nullable: true }) toStatus!: OrderStatus | null;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { description: 'Channel code, "api", "logistics" or "system".' }) source!: string;
}

@ObjectType('Reservation', { simpleResolvers: true })
export class ReservationType {
  @Field(() => ID) id!: string;
  @Field(() => String) productCode!: string;
  @Field(() => Int) quantity!: number;
  @Field(() => ReservationStatus) status!: ReservationStatus;
  @Field(() => DateTimeScalar) expiresAt!: Date;
  @Field(() => OrderType, { nullable: true }) order!: OrderType | null;
}

@ObjectType('Order', { simpleResolvers: true })
@Directive('@key(fields: "id")')
export class OrderType {
  @Field(() => ID, { description: 'Global order id, the same from sale to after-sale.' }) id!: string;
  @Field(() => ChannelType) channel!: ChannelType;
  @Field(() => String, { description: "The platform's own order number." }) externalId!: string;
  @Field(() => OrderStatus) status!: OrderStatus;
  @Field(() => String) customerName!: string;
  @Field(() => AddressType) shippingAddress!: AddressType;
  @Field(() => [OrderLineType]) lines!: OrderLineType[];
  @Field(() => MoneyType) total!: MoneyType;
  @Field(() => DateTimeScalar) placedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) paidAt!: Date | null;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it first reached PACKED; null when it skipped packing.',
  })
  packedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) shippedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => DateTimeScalar, { description: 'When it entered its current status.' })
  statusSince!: Date;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it was held from shipping (holdOrder); null when it may ship. Not a status.',
  })
  heldAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Why it is held.' }) heldReason!: string | null;
  @Field(() => String, { nullable: true, description: 'The id of the key that held it.' }) heldBy!:
    string | null;
  @Field(() => [ReservationType]) reservations!: ReservationType[];
  @Field(() => [ShipmentType]) shipments!: ShipmentType[];
  @Field(() => [OrderEventType]) timeline!: OrderEventType[];
  @Field(() => OrderType, { nullable: true, description: 'Set on sub-orders made by a split.' })
  parent!: OrderType | null;
  @Field(() => [OrderType]) children!: OrderType[];
  @Field(() => JSONScalar, { nullable: true, description: 'The payload as the channel sent it.' })
  raw!: unknown;
}

@ObjectType('PageInfo', { simpleResolvers: true })
export class PageInfoType {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType('OrderEdge', { simpleResolvers: true })
export class OrderEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => OrderType) node!: OrderType;
}

@ObjectType('OrderConnection', { simpleResolvers: true })
export class OrderConnectionType {
  @Field(() => [OrderEdgeType]) edges!: OrderEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
  @Field(() => Int, {
    description: 'Every order the filter matches, counted exactly (it reads each of them).',
  })
  totalCount!: number;
  @Field(() => Int, {
    description:
      "The planner's estimate of totalCount, from the tables' statistics: instant at any size, not exact.",
  })
  totalCountEstimate!: number;
}
