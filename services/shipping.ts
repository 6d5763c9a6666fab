import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OrderEventType, OrderStatus, ShipmentStatus } from '../common/enums.js';
import { BadUserInputError, ConflictError, InvalidTransitionError, NotFoundError } from '../common/errors.js';
import type { ShipmentUpdateDetail } from '../common/order-event-details.js';
import { Order, Shipment } from '../entities/index.js';
import { requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { refuseSplitParent } from './order-actions.js';
import { refuseHeld } from './order-holds.js';
import {
  followChildren,
  lockOrder,
  recordOrderEvents,
  transitionOrders,
  type LockedOrder,
} from './order-transitions.js';
import { inTransaction } from './transactions.js';

/**
 * Shipping: the warehouse scan-out and the carriers' tracking events. The order row is
 * the lock for everything about the order, its shipments included; a parcel's news is a
 * SHIPMENT_UPDATED entry on its order's timeline, and its moves (SHIPPED, DELIVERED) go
 * through order-transitions.ts like every other.
 */

const MAX_CARRIER = 64;
const MAX_TRACKING = 128;
const MAX_DESCRIPTION = 1000;
/** A tracking event dated further ahead than this is refused: it would pin the shipment's status. */
const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * The stages a parcel goes through, in order. A shipment's status never moves back to an
 * earlier stage, whatever arrives late or again (DELIVERED stays DELIVERED). EXCEPTION is not
 * a stage: it interrupts any stage before DELIVERED, and the next event of the stage reached
 * (or a later one) resumes.
 */
const STAGES: readonly ShipmentStatus[] = [
  ShipmentStatus.LABEL_CREATED,
  ShipmentStatus.PICKED_UP,
  ShipmentStatus.IN_TRANSIT,
  ShipmentStatus.OUT_FOR_DELIVERY,
  ShipmentStatus.DELIVERED,
];
const DELIVERED_STAGE = STAGES.indexOf(ShipmentStatus.DELIVERED);

/** Where a shipment stands after the tracking events it has received. */
export interface TrackingState {
  status: ShipmentStatus;
  /** The latest stage reached (index in STAGES). */
  reached: number;
  /** The latest time any of its events carries. */
  newestAt: number;
}

export const NO_TRACKING: TrackingState = {
  status: ShipmentStatus.LABEL_CREATED,
  reached: 0,
  newestAt: -Infinity,
};

/**
 * One tracking event, in the order they arrive: whether its status becomes the shipment's.
 * A later stage does, whatever its time; the stage reached again, or an EXCEPTION before
 * delivery, does when it is the newest event; an earlier stage never does.
 */
export function applyTrackingEvent(
  state: TrackingState,
  event: { status: ShipmentStatus; occurredAt: Date },
): { state: TrackingState; applied: boolean } {
  const at = event.occurredAt.getTime();
  const newest = at >= state.newestAt;
  const stage = STAGES.indexOf(event.status);
  const applied =
    stage < 0
      ? newest && state.reached < DELIVERED_STAGE
      : stage > state.reached || (stage === state.reached && newest);
  return {
    applied,
    state: {
      status: applied ? event.status : state.status,
      reached: applied && stage > state.reached ? stage : state.reached,
      newestAt: Math.max(state.newestAt, at),
    },
  };
}

function requiredText(value: string, field: string, max: number): string {
  const text = value.trim();
  if (!text) throw new BadUserInputError(`${field} must not be empty.`, field);
  if (text.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters.`, field);
  return text;
}

function shipmentUpdated(tx: EntityManager, order: LockedOrder, detail: ShipmentUpdateDetail) {
  return recordOrderEvents(tx, OrderEventType.SHIPMENT_UPDATED, [
    { orderId: order.id, channelCode: order.channel_code, status: order.status, source: 'logistics', detail },
  ]);
}

/**
 * The warehouse scan-out: the parcel leaves with `carrier` under `trackingNumber`.
 * Creates the shipment in LABEL_CREATED (the hub knows a label exists and the parcel
 * left the dock; the carrier's own PICKED_UP scan confirms it has it) and moves the
 * order PACKED (or PAID, when packing is not recorded) -> SHIPPED. Scanning the same
 * order out again with the same tracking number answers the order unchanged; a
 * tracking number another order already carries is a CONFLICT; an order held from shipping (or a parcel of a held
 * sale) is ORDER_HELD (services/order-holds.ts).
 */
export async function shipOrder(
  ctx: RequestContext,
  orderId: string,
  carrier: string,
  trackingNumber: string,
): Promise<Order> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  const carrierName = requiredText(carrier, 'carrier', MAX_CARRIER);
  const tracking = requiredText(trackingNumber, 'trackingNumber', MAX_TRACKING);
  await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    const [known] = await tx.execute<{ order_id: string }[]>(
      'select order_id from shipment where tracking_number = ?',
      [tracking],
    );
    if (known && known.order_id === id) return; // the same scan again
    if (known) throw new ConflictError(`Tracking number "${tracking}" belongs to another order.`);
    await refuseHeld(tx, order);
    await refuseSplitParent(tx, order, OrderStatus.SHIPPED, 'ship');
    if (order.status !== OrderStatus.PACKED && order.status !== OrderStatus.PAID)
      throw new InvalidTransitionError(id, order.status, OrderStatus.SHIPPED);
    // Another order may take the same number at the same moment: the unique key decides.
    const [created] = await tx.execute<{ id: string }[]>(
      `insert into shipment (order_id, carrier, tracking_number, status) values (?, ?, ?, ?)
       on conflict (tracking_number) do nothing returning id`,
      [id, carrierName, tracking, ShipmentStatus.LABEL_CREATED],
    );
    if (!created) throw new ConflictError(`Tracking number "${tracking}" belongs to another order.`);
    await transitionOrders(tx, [order], OrderStatus.SHIPPED, {
      source: 'logistics',
      detail: { carrier: carrierName, trackingNumber: tracking },
    });
    await shipmentUpdated(tx, order, {
      shipmentId: created.id,
      carrier: carrierName,
      trackingNumber: tracking,
      status: ShipmentStatus.LABEL_CREATED,
    });
    if (order.parent) await followChildren(tx, order.parent);
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}

export interface ShipmentEventOptions {
  /** Set by a carrier's webhook: only that carrier's shipments are found (case-insensitive). */
  carrier?: string;
}

/**
 * A carrier's tracking event. Stored once per (shipment, status, occurredAt), or, without
 * an occurredAt, once per content (status and description): the same event delivered again
 * changes nothing. Its status becomes the shipment's by `applyTrackingEvent` (never back to an
 * earlier stage). A DELIVERED event moves a SHIPPED order to DELIVERED, with deliveredAt the
 * carrier's time.
 */
export async function recordShipmentEvent(
  ctx: RequestContext,
  trackingNumber: string,
  status: ShipmentStatus,
  description: string | null | undefined,
  occurredAt: Date | null | undefined,
  options: ShipmentEventOptions = {},
): Promise<Shipment> {
  requirePrincipal(ctx);
  const tracking = requiredText(trackingNumber, 'trackingNumber', MAX_TRACKING);
  const text = description?.trim() || null;
  if (text && text.length > MAX_DESCRIPTION)
    throw new BadUserInputError(`description must be at most ${MAX_DESCRIPTION} characters.`, 'description');
  if (occurredAt && Number.isNaN(occurredAt.getTime()))
    throw new BadUserInputError('occurredAt is not a valid time.', 'occurredAt');
  if (occurredAt && tooFarAhead(occurredAt))
    throw new BadUserInputError('occurredAt must not be in the future.', 'occurredAt');
  const shipmentId = await inTransaction(ctx, async (tx) => {
    const [shipment] = await tx.execute<TrackedShipmentRow[]>(
      'select id, order_id, carrier, tracking_number from shipment where tracking_number = ?',
      [tracking],
    );
    if (!shipment || (options.carrier && shipment.carrier.toLowerCase() !== options.carrier.toLowerCase()))
      throw new NotFoundError('Shipment', tracking);
    await storeTrackingEvent(ctx, tx, shipment, {
      status,
      description: text,
      occurredAt: occurredAt ?? null,
    });
    return shipment.id;
  });
  return ctx.em.findOneOrFail(Shipment, { id: shipmentId }, { refresh: true });
}

/** A tracking event as a carrier's tracking API reports it (services/live-tracking.ts). */
export interface CarrierTrackingEvent {
  status: ShipmentStatus;
  description: string | null;
  occurredAt: Date;
}

/**
 * Events a carrier's tracking API reported for several shipments, recorded in one transaction as
 * `recordShipmentEvent` records each: stored once, the shipment's status by `applyTrackingEvent`, the
 * timeline entry, DELIVERED moving the order. The API's text is cut to the longest description kept and an
 * event dated in the future is left out, rather than refusing the rest. Orders are locked in id order, so two
 * such batches never wait on each other crosswise. Answers how many events were new.
 */
export async function recordCarrierEvents(
  ctx: RequestContext,
  reports: readonly { shipmentId: string; events: readonly CarrierTrackingEvent[] }[],
): Promise<number> {
  requirePrincipal(ctx);
  const wanted = reports
    .map((r) => ({ ...r, events: r.events.filter((e) => !tooFarAhead(e.occurredAt)) }))
    .filter((r) => r.events.length > 0);
  if (wanted.length === 0) return 0;
  return inTransaction(ctx, async (tx) => {
    const shipments = await tx.execute<TrackedShipmentRow[]>(
      `select id, order_id, carrier, tracking_number from shipment where id in (${wanted.map(() => '?').join(', ')})
       order by order_id, id`,
      wanted.map((r) => r.shipmentId),
    );
    let stored = 0;
    for (const shipment of shipments) {
      const { events } = wanted.find((r) => r.shipmentId === shipment.id)!;
      for (const event of [...events].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())) {
        const description = event.description?.trim().slice(0, MAX_DESCRIPTION) || null;
        if (await storeTrackingEvent(ctx, tx, shipment, { ...event, description })) stored++;
      }
    }
    return stored;
  });
}

interface TrackedShipmentRow {
  id: string;
  order_id: string;
  carrier: string;
  tracking_number: string;
}

/** Refused: a time this far ahead would pin the shipment's status. */
function tooFarAhead(at: Date): boolean {
  return at.getTime() > Date.now() + MAX_CLOCK_SKEW_MS;
}

/**
 * One tracking event of a shipment, in the caller's transaction; false when it was stored before (applied once
 * already). The order row is the lock for everything about the order, its shipments included.
 */
async function storeTrackingEvent(
  ctx: RequestContext,
  tx: EntityManager,
  shipment: TrackedShipmentRow,
  event: { status: ShipmentStatus; description: string | null; occurredAt: Date | null },
): Promise<boolean> {
  const { status, description: text, occurredAt } = event;
  const tracking = shipment.tracking_number;
  const at = occurredAt ?? new Date();
  const order = await lockOrder(ctx, tx, shipment.order_id);
  const known = await tx.execute<{ status: ShipmentStatus; occurred_at: Date }[]>(
    'select status, occurred_at from shipment_event where shipment_id = ? order by id',
    [shipment.id],
  );
  // Without the carrier's time, the arrival time would make every delivery of it new.
  const contentKey = occurredAt
    ? null
    : createHash('sha256')
        .update(JSON.stringify([shipment.carrier.toLowerCase(), tracking, status, text]))
        .digest('hex');
  const [stored] = await tx.execute<{ id: string }[]>(
    `insert into shipment_event (shipment_id, status, description, occurred_at, content_key)
     values (?, ?, ?, ?, ?)
     on conflict do nothing returning id`,
    [shipment.id, status, text, at, contentKey],
  );
  if (!stored) return false;
  const before = known.reduce(
    (state, e) => applyTrackingEvent(state, { status: e.status, occurredAt: new Date(e.occurred_at) }).state,
    NO_TRACKING,
  );
  const { applied } = applyTrackingEvent(before, { status, occurredAt: at });
  if (applied)
    await tx.execute('update shipment set status = ?, updated_at = now() where id = ?', [
      status,
      shipment.id,
    ]);
  await shipmentUpdated(tx, order, {
    shipmentId: shipment.id,
    trackingNumber: tracking,
    status,
    description: text,
    occurredAt: at.toISOString(),
    newest: applied,
  });
  if (applied && status === ShipmentStatus.DELIVERED && order.status === OrderStatus.SHIPPED) {
    await transitionOrders(tx, [order], OrderStatus.DELIVERED, {
      source: 'logistics',
      detail: { trackingNumber: tracking },
      at,
    });
    if (order.parent) await followChildren(tx, order.parent);
  }
  return true;
}
