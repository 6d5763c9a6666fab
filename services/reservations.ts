import { Reservation } from '../entities/index.js';
import { ReservationStatus } from '../common/enums.js';
import { channelScope } from './access.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, ChannelClosedError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { parseId } from './ids.js';

/** Holds outside an order: a cart, a checkout page, a live-stream flash sale. */

export const MAX_HOLD_QUANTITY = 1_000_000;
export const MAX_HOLD_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Holds `quantity` units of a product until `ttlSeconds` from now (the configured
 * default when not given); the sweeper gives them back when the time runs out. A
 * storefront key's hold is recorded for its channel and refused while the channel,
 * or the product on it, is closed. Concurrent holds are combined into shared
 * transactions (see ReserveCombiner); each is granted whole or refused with
 * INSUFFICIENT_STOCK.
 */
export async function reserveStock(
  ctx: RequestContext,
  input: { productCode: string; quantity: number; ttlSeconds?: number | null },
): Promise<Reservation> {
  const { productCode, quantity } = input;
  const ttlSeconds = input.ttlSeconds ?? ctx.hub.settings.reservationTtlSeconds;
  if (!Number.isInteger(quantity) || quantity <= 0 || quantity > MAX_HOLD_QUANTITY) {
    throw new BadUserInputError(
      `quantity must be a whole number from 1 to ${MAX_HOLD_QUANTITY}.`,
      'quantity',
    );
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_HOLD_TTL_SECONDS) {
    throw new BadUserInputError(
      `ttlSeconds must be a whole number of seconds from 1 to ${MAX_HOLD_TTL_SECONDS} (7 days).`,
      'ttlSeconds',
    );
  }
  const channelCode = channelScope(ctx);
  if (channelCode !== null) await assertOpenFor(ctx, channelCode, productCode);
  const row = await ctx.hub.reserveCombiner.submit({
    productCode,
    quantity,
    ttlSeconds,
    channelCode,
  });
  return ctx.em.map(Reservation, row);
}

async function assertOpenFor(ctx: RequestContext, channelCode: string, productCode: string) {
  const [state] = await ctx.em.execute<{ sales_open: boolean | null; closed: boolean | null }[]>(
    `select (select sales_open from channel where code = ?) as sales_open,
            (select ? = any(closed_on_channels) from product where product_code = ?) as closed`,
    [channelCode, channelCode, productCode],
  );
  if (state.closed === null) throw new NotFoundError('Product', productCode);
  if (state.sales_open !== true) throw new ChannelClosedError(channelCode);
  if (state.closed) throw new ChannelClosedError(channelCode, productCode);
}

/**
 * Gives a held reservation's units back and answers it RELEASED. A hold that is
 * already released, expired or committed is answered as it is: releasing twice,
 * or racing the sweeper, is not an error. A storefront key may release only its
 * own channel's holds.
 */
export async function releaseReservation(ctx: RequestContext, id: string): Promise<Reservation> {
  const reservationId = parseId(id);
  const reservation = await ctx.em.findOne(Reservation, { id: reservationId });
  if (!reservation) throw new NotFoundError('Reservation', id);
  const scope = channelScope(ctx);
  if (scope !== null && reservation.channelCode !== scope) {
    throw new ForbiddenError(`This key acts for channel "${scope}" only; reservation ${id} is not its own.`);
  }
  if (reservation.status !== ReservationStatus.HELD) return reservation;
  // One statement: only a hold still HELD is released, so a racing release or sweep gives back nothing twice.
  await ctx.em.execute(
    `with r as (update reservation set status = 'RELEASED', updated_at = now()
                where id = ? and status = 'HELD' returning product_id, quantity)
     update inventory_item i set reserved = i.reserved - r.quantity, updated_at = now()
     from r where i.product_id = r.product_id`,
    [reservationId],
  );
  return ctx.em.refreshOrFail(reservation);
}
