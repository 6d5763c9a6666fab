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
