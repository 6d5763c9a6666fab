import { assertChannelAccess, channelScope, requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { OrderEventType } from '../common/enums.js';
import { detailOf } from '../common/order-event-details.js';
import { Return } from '../entities/index.js';
import type { OrderEventMessage } from '../subscriptions/order-events.js';
import { findOrder } from './orders.js';

/**
 * What a subscriber may watch. The filters are applied on the server; a channel-bound
 * key is held to its own channel whatever it asks for, and naming another channel or
 * another channel's order is FORBIDDEN.
 */

export interface OrderEventSubscription {
  filter: { orderId: string | null; channelCode: string | null; types?: readonly OrderEventType[] };
  after: bigint | null;
}

async function watchedOrder(ctx: RequestContext, orderId: string | null | undefined): Promise<string | null> {
  if (orderId == null) return null;
  const order = await findOrder(ctx, orderId);
  if (!order) throw new NotFoundError('Order', orderId);
  return order.id;
}

function watchedChannel(ctx: RequestContext, channelCode: string | null | undefined): string | null {
  if (channelCode != null) assertChannelAccess(ctx, channelCode);
  return channelCode ?? channelScope(ctx);
}

export async function orderEventSubscription(
  ctx: RequestContext,
  args: { orderId?: string | null; channelCode?: string | null; after?: string | null },
): Promise<OrderEventSubscription> {
  requirePrincipal(ctx);
  if (args.after != null && !/^\d{1,18}$/.test(args.after))
    throw new BadUserInputError('after must be the seq of an order event.', 'after');
  const channelCode = watchedChannel(ctx, args.channelCode);
  const orderId = await watchedOrder(ctx, args.orderId);
  return { filter: { orderId, channelCode }, after: args.after == null ? null : BigInt(args.after) };
}

/** returnUpdated: the RETURN_UPDATED entries of the watched orders, under orderStatusChanged's rules (and `after`). */
export async function returnUpdateSubscription(
  ctx: RequestContext,
  args: { orderId?: string | null; channelCode?: string | null; after?: string | null },
): Promise<OrderEventSubscription> {
  const { filter, after } = await orderEventSubscription(ctx, args);
  return { filter: { ...filter, types: [OrderEventType.RETURN_UPDATED] }, after };
}

/**
 * The case a RETURN_UPDATED entry names, as it stands when sent, with its order and lines as they stand too:
 * the subscription's context forgets what the last message read.
 */
export async function updatedReturn(ctx: RequestContext, event: OrderEventMessage): Promise<Return> {
  const returnId = detailOf(event, OrderEventType.RETURN_UPDATED)?.returnId;
  ctx.forgetReads();
  const found = returnId ? await ctx.em.findOne(Return, returnId) : null;
  if (!found) throw new NotFoundError('Return', returnId ?? `of order event ${event.seq}`);
  found.deliveredSeq = String(event.seq);
  return found;
}

export async function shipmentSubscription(
  ctx: RequestContext,
  args: { orderId?: string | null; trackingNumber?: string | null },
): Promise<{ orderId: string | null; trackingNumber: string | null; channelCode: string | null }> {
  requirePrincipal(ctx);
  const orderId = await watchedOrder(ctx, args.orderId);
  const trackingNumber = args.trackingNumber?.trim() || null;
  return { orderId, trackingNumber, channelCode: channelScope(ctx) };
}
