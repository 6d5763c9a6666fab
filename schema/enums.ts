import { registerEnumType } from 'type-graphql';

// The contract's enums, one TypeScript enum each, used by entities, services and the schema alike.

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

const enums = {
  Platform,
  IngestionMode,
  ConnectorHealth,
  ReservationStatus,
  StockAlertKind,
  OrderStatus,
  ShipmentStatus,
  OrderSortField,
  SortDirection,
  SalesGroupBy,
  Role,
};
for (const [name, values] of Object.entries(enums)) registerEnumType(values, { name });
registerEnumType(OrderLevel, {
  name: 'OrderLevel',
  description: 'Which orders a list holds when some sales are split into sub-orders.',
  valuesConfig: {
    SALES: {
      description: 'One order per sale: orders not split, and split orders (sub-orders under `children`).',
    },
    PARCELS: { description: 'What the warehouse fulfils: orders not split, and sub-orders.' },
    ALL: { description: 'Every order: split orders and their sub-orders both.' },
  },
});
