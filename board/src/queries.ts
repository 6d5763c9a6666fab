// The board's operations: all through the hub's public GraphQL API.

// A field only OPS, ANALYST and ADMIN keys may read: any other key is told FORBIDDEN at the door.
export const CHECK_KEY = `{ stuckOrders(first: 1) { id } }`;

export const STATUS_COUNTS = `query Counts($far: DateTime!) {
  salesReport(from: "2000-01-01T00:00:00Z", to: $far, groupBy: STATUS) { key orders }
}`;

const ALERT_FIELDS = `fragment Alert on StockAlert { id kind message productCode channelCode available createdAt }`;

const CHANNEL_FIELDS = `code name platform isCore health lastHeartbeatAt lastOrderAt salesOpen`;

const STUCK_FIELDS = `id externalId status statusSince channel { code }`;

/** Every panel's snapshot, in one request: on load, and again after a lost connection. */
export const SNAPSHOT = `query Snapshot($from: DateTime!, $to: DateTime!, $since: DateTime!, $now: DateTime!, $far: DateTime!) {
  orderFlow(from: $from, to: $to, bucketMinutes: 1) { bucketStart channelCode orders }
  salesReport(from: "2000-01-01T00:00:00Z", to: $far, groupBy: STATUS) { key orders }
  volumeAnomalies(from: $since, to: $now) { channelCode }
  stockAlerts(since: $since) { ...Alert }
  channels { ${CHANNEL_FIELDS} }
  fulfillmentReport(from: $since, to: $now) { stage orders p50Seconds p90Seconds }
  stuckOrders(first: 12) { ${STUCK_FIELDS} }
  lowStock { productCode available safetyStock onHand reserved }
} ${ALERT_FIELDS}`;

export const LOW_STOCK = `{ lowStock { productCode available safetyStock onHand reserved } }`;

/** At most this many low-stock products get their listings read (one alias each). */
export const LISTED_PRODUCTS = 10;

export const productListings = (count: number) =>
  `query Listings(${Array.from({ length: count }, (_, i) => `$p${i}: String!`).join(', ')}) {
  ${Array.from(
    { length: count },
    (_, i) =>
      `p${i}: product(productCode: $p${i}) { productCode closedOnChannels channelStock { channel { code } state confirmed target lastError } }`,
  ).join('\n  ')}
}`;

const ORDER_FIELDS = `fragment OrderView on Order {
  id externalId status statusSince placedAt paidAt shippedAt deliveredAt customerName
  channel { code name }
  total { amount currencyCode }
  parent { id externalId }
  lines { productCode quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
  children { id externalId status }
  shipments { trackingNumber carrier status events { status description occurredAt } }
  notices { step status provider sentAt error }
  timeline { seq at type fromStatus toStatus source }
}`;

export const ORDER_BY_ID = `query Order($id: ID!) { order(id: $id) { ...OrderView } } ${ORDER_FIELDS}`;

export const ORDER_BY_EXTERNAL_ID = `query OrderByExternalId($channelCode: String!, $externalId: String!) {
  orderByExternalId(channelCode: $channelCode, externalId: $externalId) { ...OrderView }
} ${ORDER_FIELDS}`;

export const ORDER_EVENTS = `subscription Events($after: ID) {
  orderStatusChanged(after: $after) { seq orderId channelCode type fromStatus toStatus at }
}`;

export const ONE_ORDER_EVENTS = `subscription OrderEvents($orderId: ID!) {
  orderStatusChanged(orderId: $orderId) { seq }
}`;

export const ONE_ORDER_SHIPMENTS = `subscription OrderShipments($orderId: ID!) {
  shipmentUpdated(orderId: $orderId) { id }
}`;

export const CHANNELS = `{ channels { ${CHANNEL_FIELDS} } }`;

export const STUCK = `{ stuckOrders(first: 12) { ${STUCK_FIELDS} } }`;

export const STOCK_ALERTS = `subscription { stockAlert { ...Alert } } ${ALERT_FIELDS}`;

export const INVENTORY = `subscription { inventoryChanged { productCode } }`;

export const LISTINGS = `subscription { channelStockChanged { productCode } }`;
