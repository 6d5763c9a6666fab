import { Reservation } from '../entities/index.js';
import { ReservationStatus, Role } from '../common/enums.js';
import { channelScope, requirePrincipal } from './access.js';
import { DEFAULT_HOLD_LIMITS, type RequestContext } from './context.js';
import {
  BadUserInputError,
  ChannelClosedError,
  ForbiddenError,
  HoldLimitExceededError,
  NotFoundError,
} from '../common/errors.js';
import { isId, parseId } from './ids.js';

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
 *
 * A STOREFRONT key's holds are capped (HOLD_MAX_*: units per hold, TTL, holds open at
 * once), so one storefront cannot lock the whole pool and close every other channel;
 * over a cap is HOLD_LIMIT_EXCEEDED. ADMIN and OPS keys run bulk jobs and keep only the
 * absolute bounds above.
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
  const principal = requirePrincipal(ctx);
  const capped = principal.role === Role.STOREFRONT;
  const limits = ctx.hub.settings.holdLimits ?? DEFAULT_HOLD_LIMITS;
  if (capped) assertWithinCaps(quantity, ttlSeconds, limits);
  const channelCode = channelScope(ctx);
  if (channelCode !== null) await assertOpenFor(ctx, channelCode, productCode);
  const row = await ctx.hub.reserveCombiner.submit({
    productCode,
    quantity,
    ttlSeconds,
    channelCode,
    // HUB_ADMIN_KEY and the command-line tools act without a key row.
    apiKeyId: isId(principal.keyId) ? principal.keyId : null,
    maxOpen: capped ? limits.maxOpenPerKey : null,
  });
  return ctx.em.map(Reservation, row);
}

function assertWithinCaps(
  quantity: number,
  ttlSeconds: number,
  limits: { maxUnits: number; maxTtlSeconds: number },
) {
  if (quantity > limits.maxUnits) {
    throw new HoldLimitExceededError(
      'quantity',
      limits.maxUnits,
      `A storefront hold may take at most ${limits.maxUnits} units; ${quantity} asked.`,
    );
  }
  if (ttlSeconds > limits.maxTtlSeconds) {
    throw new HoldLimitExceededError(
      'ttlSeconds',
      limits.maxTtlSeconds,
      `A storefront hold may last at most ${limits.maxTtlSeconds} seconds; ${ttlSeconds} asked.`,
    );
  }
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
