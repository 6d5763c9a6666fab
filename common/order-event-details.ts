import {
  OrderEventType,
  type OrderStatus,
  type RefundKind,
  type RefundStatus,
  type ShipmentStatus,
} from './enums.js';

/**
 * The `detail` of each kind of timeline entry: one shape per OrderEventType, written
 * (services/order-transitions.ts) and read (subscriptions/) through these types.
 */

/** Why a status moved; which fields are set depends on who moved it. */
export interface StatusChangeDetail {
  /** The platform's own status name, when a platform moved the order. */
  platformStatus?: string;
  /** An operator's cancel reason, a payment timeout, or "all sub-orders SHIPPED". */
  reason?: string;
  carrier?: string;
  trackingNumber?: string;
  /** Set on a sub-order that followed its split parent. */
  parentId?: string;
}

export interface CreatedDetail {
  platformStatus?: string;
  /** Imported from a CSV backfill as history: no stock effect. */
  historical?: true;
}

export interface ShipmentUpdateDetail {
  shipmentId: string;
  trackingNumber: string;
  status: ShipmentStatus;
  /** Set when the warehouse scanned the parcel out. */
  carrier?: string;
  /** Set for a carrier's tracking event: it names the event by (status, occurredAt). */
  description?: string | null;
  occurredAt?: string;
  /** Whether that tracking event's status became the shipment's (see applyTrackingEvent in services/shipping.ts). */
  newest?: boolean;
}

export interface SplitDetail {
  rule: string;
  children: { id: string; externalId: string; label: string }[];
}

export interface HeldByPlatformDetail {
  platformStatus: string;
}

export interface HoldExpiredDetail {
  reason: string;
}

/** An after-sale case of the order was stored or moved; the case's own timeline has every step. */
export interface ReturnUpdateDetail {
  returnId: string;
  refundId: string;
  kind: RefundKind;
  /** Null on the first entry of a case. */
  fromStatus: RefundStatus | null;
  status: RefundStatus;
  platformStatus: string;
  refundAmount: string;
  currencyCode: string;
}

/** An operator held the order from shipping, or released it; `by` is the key's label or role. */
export interface HoldDetail {
  reason: string;
  by: string;
}

export interface ReleaseDetail {
  by: string;
  /** The reason the order had been held for. */
  heldFor: string;
}

export interface OrderEventDetails {
  [OrderEventType.CREATED]: CreatedDetail;
  [OrderEventType.STATUS_CHANGED]: StatusChangeDetail;
  [OrderEventType.SHIPMENT_UPDATED]: ShipmentUpdateDetail;
  [OrderEventType.SPLIT]: SplitDetail;
  [OrderEventType.HELD_BY_PLATFORM]: HeldByPlatformDetail;
  [OrderEventType.HOLD_EXPIRED]: HoldExpiredDetail;
  [OrderEventType.RETURN_UPDATED]: ReturnUpdateDetail;
  [OrderEventType.HELD]: HoldDetail;
  [OrderEventType.RELEASED]: ReleaseDetail;
}

/** An event's detail as its kind's shape, or null when the event is of another kind (or has none). */
export function detailOf<T extends OrderEventType>(
  event: { type: string; detail: unknown },
  type: T,
): OrderEventDetails[T] | null {
  return event.type === type && event.detail ? (event.detail as OrderEventDetails[T]) : null;
}

/** A timeline entry that does not move the status (those are written by `transitionOrders`). */
export interface OrderNote<T extends Exclude<OrderEventType, OrderEventType.STATUS_CHANGED>> {
  orderId: string;
  channelCode: string;
  /** The order's status when it happened: a CREATED entry's first status; not stored for SHIPMENT_UPDATED or RETURN_UPDATED. */
  status: OrderStatus;
  source: string;
  detail: OrderEventDetails[T] | null;
}
