// The contract's enums, one TypeScript enum each: plain TypeScript, so entities, connectors and services use
// them without the GraphQL layer; schema/enums.ts registers them with type-graphql.

export enum Platform {
  TAOBAO = 'TAOBAO',
  JD = 'JD',
  PINDUODUO = 'PINDUODUO',
  DOUYIN = 'DOUYIN',
  KUAISHOU = 'KUAISHOU',
  YOUZAN = 'YOUZAN',
  SHOPIFY = 'SHOPIFY',
  STOREFRONT = 'STOREFRONT',
}

export enum IngestionMode {
  WEBHOOK = 'WEBHOOK',
  POLL = 'POLL',
  CSV = 'CSV',
}

export enum ConnectorHealth {
  UP = 'UP',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
  UNKNOWN = 'UNKNOWN',
}

export enum ReservationStatus {
  HELD = 'HELD',
  COMMITTED = 'COMMITTED',
  RELEASED = 'RELEASED',
  EXPIRED = 'EXPIRED',
}

export enum StockAlertKind {
  LOW_STOCK = 'LOW_STOCK',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
  RESTOCKED = 'RESTOCKED',
  RECONCILIATION_MISMATCH = 'RECONCILIATION_MISMATCH',
  SUDDEN_DROP = 'SUDDEN_DROP',
  /** An order line whose code neither the SKU map nor the catalog knows. */
  UNKNOWN_PRODUCT = 'UNKNOWN_PRODUCT',
  /** A platform refused a listing's stock for good (bad credentials, unknown SKU, a reduction refused). */
  STOCK_SYNC_FAILED = 'STOCK_SYNC_FAILED',
  /** A channel's orders in an hour strayed from its baseline (a channel's alert, with no product). */
  VOLUME_ANOMALY = 'VOLUME_ANOMALY',
  /** A risk rule flagged an order (services/risk.ts); the alert names the order. */
  RISK = 'RISK',
}

/** Where a listing's number on its platform stands, as operators see it. */
export enum ChannelStockState {
  /** The platform acknowledged the number the listing should show now. */
  IN_SYNC = 'IN_SYNC',
  /** A push is due or under way. */
  PENDING = 'PENDING',
  /** The platform asked the hub to wait; the push follows when it allows. */
  THROTTLED = 'THROTTLED',
  /** The platform refused for good; the next stock change or `syncStock` tries again. */
  FAILED = 'FAILED',
  /** The channel's stock sync is off. */
  DISABLED = 'DISABLED',
}

/** Declared in lifecycle order: the database enum sorts by it. */
export enum OrderStatus {
  PENDING_PAYMENT = 'PENDING_PAYMENT',
  PAID = 'PAID',
  PACKED = 'PACKED',
  SHIPPED = 'SHIPPED',
  DELIVERED = 'DELIVERED',
  CANCELLED = 'CANCELLED',
  REFUNDED = 'REFUNDED',
}

export enum ShipmentStatus {
  LABEL_CREATED = 'LABEL_CREATED',
  PICKED_UP = 'PICKED_UP',
  IN_TRANSIT = 'IN_TRANSIT',
  OUT_FOR_DELIVERY = 'OUT_FOR_DELIVERY',
  DELIVERED = 'DELIVERED',
  EXCEPTION = 'EXCEPTION',
}

export enum OrderSortField {
  PLACED_AT = 'PLACED_AT',
  TOTAL = 'TOTAL',
  STATUS = 'STATUS',
}

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

export enum OrderLevel {
  SALES = 'SALES',
  PARCELS = 'PARCELS',
  ALL = 'ALL',
}

export enum SalesGroupBy {
  CHANNEL = 'CHANNEL',
  PLATFORM = 'PLATFORM',
  DAY = 'DAY',
  PRODUCT = 'PRODUCT',
  STATUS = 'STATUS',
}

/** How returnsReport groups the after-sale cases. */
export enum ReturnsGroupBy {
  CHANNEL = 'CHANNEL',
  PRODUCT = 'PRODUCT',
  REASON_CLASS = 'REASON_CLASS',
  RESPONSIBLE = 'RESPONSIBLE',
  /** The day the case was asked for, in the report's time zone. */
  DAY = 'DAY',
}

export enum Role {
  ADMIN = 'ADMIN',
  OPS = 'OPS',
  STOREFRONT = 'STOREFRONT',
  ANALYST = 'ANALYST',
  CONNECTOR = 'CONNECTOR',
}

/** Where a raw payload came in; kept with it in the ingest log. */
export enum IngestSource {
  WEBHOOK = 'WEBHOOK',
  POLL = 'POLL',
  CSV = 'CSV',
  API = 'API',
}

export enum IngestOutcome {
  RECEIVED = 'RECEIVED',
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  DUPLICATE = 'DUPLICATE',
  FAILED = 'FAILED',
}

/** What an entry of an order's timeline records; the GraphQL `OrderEvent.type` is its name. */
export enum OrderEventType {
  /** The order was stored (from a platform, a CSV file or placeOrder). */
  CREATED = 'CREATED',
  /** The status moved; only services/order-transitions.ts writes these. */
  STATUS_CHANGED = 'STATUS_CHANGED',
  /** A parcel was scanned out or a carrier reported on it. */
  SHIPMENT_UPDATED = 'SHIPMENT_UPDATED',
  /** The order was split into sub-orders (the parcels). */
  SPLIT = 'SPLIT',
  /** The platform reported a status the hub does not map (e.g. under review); the status stays. */
  HELD_BY_PLATFORM = 'HELD_BY_PLATFORM',
  /** The order's stock holds ran out before it was paid. */
  HOLD_EXPIRED = 'HOLD_EXPIRED',
  /** One of its after-sale cases was stored or moved (detail: returnId, status, ...); see services/returns. */
  RETURN_UPDATED = 'RETURN_UPDATED',
  /** An operator held the order from shipping (`holdOrder`); the status stays. */
  HELD = 'HELD',
  /** The hold was lifted (`releaseOrder`): the order may ship again. */
  RELEASED = 'RELEASED',
}

/** How an order entered the hub, set when it is stored. */
export enum OrderOrigin {
  /** A platform's payload: pushed to a webhook, pulled by polling, or sent to `ingestChannelOrder`. */
  WEBHOOK = 'WEBHOOK',
  POLL = 'POLL',
  API = 'API',
  /** A row group of a CSV backfill. */
  CSV = 'CSV',
  /** `placeOrder`: the hub took the order itself, so it also owns its payment timeout. */
  PLACED = 'PLACED',
}

/** What a merchant's webhook endpoint can hear of; the value is the `type` in the body sent. */
export enum OutboundEventType {
  ORDER_CREATED = 'order.created',
  ORDER_STATUS_CHANGED = 'order.status_changed',
  SHIPMENT_UPDATED = 'shipment.updated',
  STOCK_ALERT = 'stock.alert',
  STOCK_SYNC_FAILED = 'stock.sync_failed',
  /** An after-sale case of an order was stored or moved (its RETURN_UPDATED timeline entry). */
  RETURN_UPDATED = 'return.updated',
}

export enum WebhookDeliveryStatus {
  /** Not delivered yet: waiting for its turn, its first attempt or a retry. */
  PENDING = 'PENDING',
  /** The endpoint answered 2xx. */
  DELIVERED = 'DELIVERED',
  /** Given up after the last retry; `redeliverWebhook` tries again. */
  FAILED = 'FAILED',
}

/** The order's steps a customer can be told of (customer notices). */
export enum NoticeStep {
  PAID = 'PAID',
  /** The warehouse scan-out (`shipOrder`). */
  SHIPPED = 'SHIPPED',
  /** The carrier's own pickup scan (a PICKED_UP tracking event). */
  PICKED_UP = 'PICKED_UP',
  DELIVERED = 'DELIVERED',
}

/** How a customer notice is sent. */
export enum NoticeProvider {
  /** Alibaba Cloud SMS `SendSms`. */
  SMS = 'SMS',
  /** A WeChat mini-program subscribe message. */
  WECHAT = 'WECHAT',
}

export enum NoticeStatus {
  /** Waiting for its send (or a retry after a throttle). */
  QUEUED = 'QUEUED',
  SENT = 'SENT',
  /** Not sent, and never will be: no contact, a masked one, an opt-out, no subscription left. */
  SKIPPED = 'SKIPPED',
  /** The provider refused it for good, or it ran out of attempts. */
  FAILED = 'FAILED',
  /** An SMS reached in quiet hours (22:00–08:00 channel time), sent at 08:00. */
  HELD = 'HELD',
}

/** What an after-sale record asks for: money only, money for goods sent back, or other goods instead. */
export enum RefundKind {
  REFUND_ONLY = 'REFUND_ONLY',
  RETURN_AND_REFUND = 'RETURN_AND_REFUND',
  EXCHANGE = 'EXCHANGE',
}

/** Where an after-sale record stands, in the set every platform's statuses map to (docs/after-sale.md). */
export enum RefundStatus {
  REQUESTED = 'REQUESTED',
  APPROVED = 'APPROVED',
  RETURN_IN_TRANSIT = 'RETURN_IN_TRANSIT',
  RETURN_RECEIVED = 'RETURN_RECEIVED',
  REFUNDED = 'REFUNDED',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

/** Why goods or money went back, as a small set for attribution. */
export enum RefundReasonClass {
  QUALITY = 'QUALITY',
  WRONG_OR_MISSING = 'WRONG_OR_MISSING',
  DAMAGED_IN_TRANSIT = 'DAMAGED_IN_TRANSIT',
  NOT_AS_DESCRIBED = 'NOT_AS_DESCRIBED',
  BUYER_REMORSE = 'BUYER_REMORSE',
  OTHER = 'OTHER',
}

/** Who a refund's reason puts it on. */
export enum RefundResponsible {
  MERCHANT = 'MERCHANT',
  CARRIER = 'CARRIER',
  BUYER = 'BUYER',
  UNKNOWN = 'UNKNOWN',
}

/** What a risk rule looks for (services/risk.ts); each kind has one rule, its thresholds in `risk_rule`. */
export enum RiskKind {
  /** 刷单: many orders to one address or phone in a window, tiny totals, one buyer across channels. */
  BRUSHING = 'BRUSHING',
  /** A buyer whose recent orders come back more often than the threshold. */
  SERIAL_RETURNER = 'SERIAL_RETURNER',
  /** One product's orders on one channel far above the same window on the days before (robust z-score). */
  VELOCITY = 'VELOCITY',
  /** A line paid far below its product's list price. */
  MISMATCH = 'MISMATCH',
}
