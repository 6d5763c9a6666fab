import { execute, parse, type GraphQLSchema } from 'graphql';
import { OrderEventType, Role } from '../../common/enums.js';
import { detailOf, type ReturnUpdateDetail } from '../../common/order-event-details.js';
import type { RequestContext } from '../context.js';
import type { RenderPayloads, TakenDelivery } from './deliverer.js';

/**
 * A webhook's `data` is what the GraphQL API shows: the order (with its lines and shipments) is read through the
 * hub's own schema, by an ADMIN context of the hub's, so a field added to the API reaches the webhooks too
 * and no second mapping of an order can drift from the first. Orders are read as they are at the first attempt
 * (the event itself says what happened); the body is then kept and sent again as it was on every retry.
 */

const ORDER_FIELDS = `
  id externalId status customerName placedAt paidAt shippedAt deliveredAt
  channel { code platform }
  total { amount currencyCode }
  shippingAddress { name phone country province city district line1 postalCode remote }
  lines(first: 200) { id productCode quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
  shipments(first: 50) {
    id carrier trackingNumber status updatedAt
    events(first: 100) { status occurredAt description }
  }
  parent { id }`;

const ORDER_QUERY = parse(`query WebhookOrder($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`);

interface EventRow {
  seq: string;
  type: string;
  from_status: string | null;
  to_status: string | null;
  /** As the driver gives it (a string here). */
  at: Date | string;
  source: string;
  detail: Record<string, unknown> | null;
  /** A RETURN_UPDATED event's case, as stored now (json: times as text); null for other events. */
  return_row: ReturnRow | null;
}

interface ReturnRow {
  reasonClass: string;
  responsible: string;
  returnTrackingNumber: string | null;
  requestedAt: string;
  refundedAt: string | null;
}

interface AlertRow {
  id: string;
  kind: string;
  product_code: string;
  available: number;
  threshold: number | null;
  message: string;
  channels_closed: string[];
  channels_reopened: string[];
  channel_code: string | null;
  bucket_start: Date | string | null;
  expected_orders: number | null;
  actual_orders: number | null;
  order_id: string | null;
  created_at: Date | string;
}

/** The principal the hub reads as when it renders a webhook: every channel, every field. */
const WEBHOOKS_PRINCIPAL = {
  keyId: 'webhooks',
  role: Role.ADMIN,
  channelCode: null,
  label: 'outbound webhooks',
};

export function graphqlPayloads(deps: {
  schema: GraphQLSchema;
  /** A fresh context (its own EntityManager and loaders) for one batch, acting as `principal`. */
  context(principal: typeof WEBHOOKS_PRINCIPAL): RequestContext;
}): RenderPayloads {
  return async (deliveries: TakenDelivery[]) => {
    const ctx = deps.context(WEBHOOKS_PRINCIPAL);
    const seqs = [...new Set(deliveries.flatMap((d) => (d.eventSeq ? [d.eventSeq] : [])))];
    const alertIds = [...new Set(deliveries.flatMap((d) => (d.alertId ? [d.alertId] : [])))];
    const orderIds = [...new Set(deliveries.flatMap((d) => (d.orderId ? [d.orderId] : [])))];
    const [events, alerts, orders] = await Promise.all([
      seqs.length
        ? ctx.em.execute<EventRow[]>(
            `select e.seq::text, e.type, e.from_status, e.to_status, e.at, e.source, e.detail,
                    (select json_build_object('reasonClass', r.reason_class, 'responsible', r.responsible,
                              'returnTrackingNumber', r.return_tracking_number, 'requestedAt', r.requested_at,
                              'refundedAt', r.refunded_at)
                       from order_return r
                      where e.type = 'RETURN_UPDATED' and r.id = (e.detail->>'returnId')::uuid) as return_row
               from order_event e where e.seq in (?)`,
            [seqs],
          )
        : Promise.resolve([]),
      alertIds.length
        ? ctx.em.execute<AlertRow[]>(
            `select id::text, kind, product_code, available, threshold, message, channels_closed,
                    channels_reopened, channel_code, bucket_start, expected_orders, actual_orders, order_id,
                    created_at
               from stock_alert where id in (?)`,
            [alertIds],
          )
        : Promise.resolve([]),
      // One execution per order, all under one context: its DataLoaders batch their reads together.
      Promise.all(
        orderIds.map(async (id) => {
          const result = await execute({
            schema: deps.schema,
            document: ORDER_QUERY,
            variableValues: { id },
            contextValue: ctx,
          });
          // An order that cannot be read (deleted since) leaves its deliveries unrendered: they fail and retry.
          const order = result.errors?.length
            ? null
            : (result.data as { order: Record<string, unknown> | null }).order;
          return [id, order] as const;
        }),
      ),
    ]);
    const eventBySeq = new Map(events.map((e) => [e.seq, e]));
    const alertById = new Map(alerts.map((a) => [a.id, a]));
    const orderById = new Map(orders);

    const data = new Map<string, unknown>();
    for (const delivery of deliveries) {
      if (delivery.alertId) {
        const alert = alertById.get(delivery.alertId);
        if (alert) data.set(delivery.id, { alert: alertData(alert) });
        continue;
      }
      const event = delivery.eventSeq ? eventBySeq.get(delivery.eventSeq) : undefined;
      const order = delivery.orderId ? orderById.get(delivery.orderId) : undefined;
      if (!event || !order) continue;
      const payload: Record<string, unknown> = {
        seq: event.seq,
        event: {
          type: event.type,
          fromStatus: event.from_status,
          toStatus: event.to_status,
          at: new Date(event.at).toISOString(),
          source: event.source,
        },
        order,
      };
      if (event.type === 'SHIPMENT_UPDATED') {
        const trackingNumber = event.detail?.trackingNumber;
        const shipments = (order.shipments ?? []) as { trackingNumber: string }[];
        payload.shipment = shipments.find((s) => s.trackingNumber === trackingNumber) ?? null;
      }
      const change = detailOf(event, OrderEventType.RETURN_UPDATED);
      if (change) {
        // A case is removed only with its order: one missing is left unrendered, as an order that is.
        if (!event.return_row) continue;
        payload.return = returnData(change, event.return_row);
      }
      data.set(delivery.id, payload);
    }
    return data;
  };
}

/**
 * The case as the change left it (status, amount: the event's detail) with what the event does not carry
 * (reason, responsibility, return parcel, times) from its row, named as the API's `Return` names them.
 */
function returnData(change: ReturnUpdateDetail, row: ReturnRow) {
  return {
    id: change.returnId,
    refundId: change.refundId,
    kind: change.kind,
    status: change.status,
    fromStatus: change.fromStatus,
    platformStatus: change.platformStatus,
    refundAmount: { amount: change.refundAmount, currencyCode: change.currencyCode },
    reasonClass: row.reasonClass,
    responsible: row.responsible,
    returnTrackingNumber: row.returnTrackingNumber,
    requestedAt: new Date(row.requestedAt).toISOString(),
    refundedAt: row.refundedAt === null ? null : new Date(row.refundedAt).toISOString(),
  };
}

/** As the API's `StockAlert` shows it. */
function alertData(alert: AlertRow) {
  return {
    id: alert.id,
    kind: alert.kind,
    productCode: alert.product_code,
    available: alert.available,
    threshold: alert.threshold,
    message: alert.message,
    channelsClosed: alert.channels_closed,
    channelsReopened: alert.channels_reopened,
    channelCode: alert.channel_code,
    bucketStart: alert.bucket_start === null ? null : new Date(alert.bucket_start).toISOString(),
    expectedOrders: alert.expected_orders,
    actualOrders: alert.actual_orders,
    orderId: alert.order_id,
    createdAt: new Date(alert.created_at).toISOString(),
  };
}
