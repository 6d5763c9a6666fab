import { OrderEventType, type OrderStatus, type ShipmentStatus } from '../common/enums.js';
import { applyTrackingEvent, NO_TRACKING } from '../services/shipping.js';
import { detailOf } from '../common/order-event-details.js';

/** A numbered order event, shaped like the GraphQL `OrderEvent` plus what filters need. */
export interface OrderEventMessage {
  seq: string;
  orderId: string;
  channelCode: string;
  type: string;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus | null;
  at: Date;
  source: string;
  detail: Record<string, unknown> | null;
}

/** A shipment as it stood right after an update, shaped like the GraphQL `Shipment`. */
export interface ShipmentMessage {
  id: string;
  orderId: string;
  channelCode: string;
  carrier: string;
  trackingNumber: string;
  status: ShipmentStatus;
  events: { status: ShipmentStatus; description: string | null; occurredAt: Date }[];
  updatedAt: Date;
}

/** Runs SQL on the hub's database; the ORM's connection in the hub, a pg client elsewhere. */
export type Sql = <T>(query: string, params?: unknown[]) => Promise<T[]>;

interface EventRow {
  seq: string;
  order_id: string;
  channel_code: string;
  type: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus | null;
  at: Date | string;
  source: string;
  detail: Record<string, unknown> | null;
}

// Ordering must name e.seq: the text alias `seq` would sort "10" before "9".
const EVENT_COLUMNS = `e.seq::text as seq, order_id, channel_code, type, from_status, to_status, at, source, detail`;

export function toOrderEventMessage(row: EventRow): OrderEventMessage {
  return {
    seq: row.seq,
    orderId: row.order_id,
    channelCode: row.channel_code,
    type: row.type,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    at: new Date(row.at),
    source: row.source,
    detail: row.detail,
  };
}

/**
 * Gives every committed, unnumbered event its public seq (see the migration that made
 * `hub_number_order_events`) and answers what was numbered, in seq order.
 */
export async function numberOrderEvents(sql: Sql): Promise<OrderEventMessage[]> {
  const rows = await sql<EventRow>(`select ${EVENT_COLUMNS} from hub_number_order_events() e order by e.seq`);
  return rows.map(toOrderEventMessage);
}

export async function highestSeq(sql: Sql): Promise<bigint> {
  const [row] = await sql<{ top: string | null }>(`select max(seq)::text as top from order_event`);
  return BigInt(row?.top ?? 0);
}

export interface EventFilter {
  orderId?: string | null;
  channelCode?: string | null;
  types?: readonly string[] | null;
}

export function matchesEvent(filter: EventFilter, event: OrderEventMessage): boolean {
  return (
    (filter.orderId == null || event.orderId === filter.orderId) &&
    (filter.channelCode == null || event.channelCode === filter.channelCode) &&
    (filter.types == null || filter.types.includes(event.type))
  );
}

/** Numbered events after `afterSeq` (up to `upToSeq` when given) that pass the filter, in seq order. */
export async function loadOrderEvents(
  sql: Sql,
  afterSeq: bigint,
  limit: number,
  filter: EventFilter = {},
  upToSeq: bigint | null = null,
): Promise<OrderEventMessage[]> {
  const rows = await sql<EventRow>(
    `select ${EVENT_COLUMNS} from order_event e
     where seq > $1::bigint and ($6::bigint is null or seq <= $6::bigint)
       and ($2::uuid is null or order_id = $2::uuid)
       and ($3::text is null or channel_code = $3::text)
       and ($4::text[] is null or type = any($4::text[]))
     order by e.seq limit $5`,
    [
      afterSeq.toString(),
      filter.orderId ?? null,
      filter.channelCode ?? null,
      filter.types ?? null,
      limit,
      upToSeq?.toString() ?? null,
    ],
  );
  return rows.map(toOrderEventMessage);
}

interface ShipmentRow {
  id: string;
  order_id: string;
  channel_code: string;
  carrier: string;
  tracking_number: string;
  events: { id: string; status: ShipmentStatus; description: string | null; occurredAt: string }[];
}

/**
 * Each SHIPMENT_UPDATED event's shipment as it stood right after that update, in the
 * events' order: its tracking events up to the one that update recorded, and the status
 * they gave it (services/shipping.ts's rule, over them in the order they arrived). Tracking events of one shipment are
 * written under its order's lock, so their ids follow commit order; the update names its
 * tracking event by status and time, which are unique per shipment.
 */
export async function loadShipmentUpdates(
  sql: Sql,
  updates: OrderEventMessage[],
): Promise<ShipmentMessage[]> {
  const named = updates.flatMap((u) => {
    const detail = detailOf(u, OrderEventType.SHIPMENT_UPDATED);
    return detail ? [{ at: u.at, detail }] : [];
  });
  if (named.length === 0) return [];
  const rows = await sql<ShipmentRow & { n: string }>(
    `select w.n, s.id, s.order_id, c.code as channel_code, s.carrier, s.tracking_number,
       coalesce((select json_agg(json_build_object('id', e.id, 'status', e.status, 'description', e.description,
                  'occurredAt', e.occurred_at) order by e.occurred_at, e.id)
                 from shipment_event e where e.shipment_id = s.id and e.id <= coalesce(t.id, 0)), '[]'::json) as events
     from unnest($1::uuid[], $2::text[], $3::timestamptz[]) with ordinality as w(shipment_id, status, occurred_at, n)
     join shipment s on s.id = w.shipment_id
     join "order" o on o.id = s.order_id join channel c on c.id = o.channel_id
     left join shipment_event t
       on t.shipment_id = w.shipment_id and t.status = w.status and t.occurred_at = w.occurred_at
     order by w.n`,
    [
      named.map((u) => u.detail.shipmentId),
      named.map((u) => u.detail.status),
      named.map((u) => u.detail.occurredAt ?? null),
    ],
  );
  return rows.map((row) => {
    const events = row.events.map(({ id, ...e }) => ({
      id: BigInt(id),
      ...e,
      occurredAt: new Date(e.occurredAt),
    }));
    const arrived = [...events].sort((a, b) => (a.id < b.id ? -1 : 1));
    const tracking = arrived.reduce((state, e) => applyTrackingEvent(state, e).state, NO_TRACKING);
    return {
      id: row.id,
      orderId: row.order_id,
      channelCode: row.channel_code,
      carrier: row.carrier,
      trackingNumber: row.tracking_number,
      status: tracking.status,
      updatedAt: named[Number(row.n) - 1].at,
      events: events.map(({ id: _id, ...e }) => e),
    };
  });
}
