import type { EntityManager } from '@mikro-orm/postgresql';
import { OrderEventType, OrderStatus, ShipmentStatus } from '../common/enums.js';
import { BadUserInputError, ConflictError, InvalidTransitionError, NotFoundError } from '../common/errors.js';
import type { ShipmentUpdateDetail } from '../common/order-event-details.js';
import { Order, Shipment } from '../entities/index.js';
import { requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { parseId } from './ids.js';
import { refuseSplitParent } from './order-actions.js';
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
 * tracking number another order already carries is a CONFLICT.
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
 * A carrier's tracking event. Stored once per (shipment, status, occurredAt): the same
 * event delivered again changes nothing. The shipment takes the event's status only
 * when it is the newest event (an older one arriving late is kept in the history but
 * does not undo a newer status). A new DELIVERED event moves a SHIPPED order to
 * DELIVERED, with deliveredAt the carrier's time.
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
  const at = occurredAt ?? new Date();
  if (Number.isNaN(at.getTime()))
    throw new BadUserInputError('occurredAt is not a valid time.', 'occurredAt');
  if (at.getTime() > Date.now() + MAX_CLOCK_SKEW_MS)
    throw new BadUserInputError('occurredAt must not be in the future.', 'occurredAt');
  const shipmentId = await inTransaction(ctx, async (tx) => {
    const [shipment] = await tx.execute<{ id: string; order_id: string; carrier: string }[]>(
      'select id, order_id, carrier from shipment where tracking_number = ?',
      [tracking],
    );
    if (!shipment || (options.carrier && shipment.carrier.toLowerCase() !== options.carrier.toLowerCase()))
      throw new NotFoundError('Shipment', tracking);
    // The order row is the lock for everything about the order, its shipments included.
    const order = await lockOrder(ctx, tx, shipment.order_id);
    const [latest] = await tx.execute<{ newest: Date | null }[]>(
      'select max(occurred_at) as newest from shipment_event where shipment_id = ?',
      [shipment.id],
    );
    const [stored] = await tx.execute<{ id: string }[]>(
      `insert into shipment_event (shipment_id, status, description, occurred_at) values (?, ?, ?, ?)
       on conflict on constraint shipment_event_once do nothing returning id`,
      [shipment.id, status, text, at],
    );
    if (!stored) return shipment.id; // delivered before: applied once already
    const newest = !latest?.newest || at.getTime() >= new Date(latest.newest).getTime();
    if (newest)
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
      newest,
    });
    if (status === ShipmentStatus.DELIVERED && order.status === OrderStatus.SHIPPED) {
      await transitionOrders(tx, [order], OrderStatus.DELIVERED, {
        source: 'logistics',
        detail: { trackingNumber: tracking },
        at,
      });
      if (order.parent) await followChildren(tx, order.parent);
    }
    return shipment.id;
  });
  return ctx.em.findOneOrFail(Shipment, { id: shipmentId }, { refresh: true });
}
