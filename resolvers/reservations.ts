import { Arg, Authorized, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { ReservationType } from '../schema/order.js';
import type { RequestContext } from '../services/context.js';
import { releaseReservation, reserveStock } from '../services/reservations.js';
import { RESERVE_STOCK } from './roles.js';

@Resolver()
export class StockReservationResolver {
  @Authorized(RESERVE_STOCK)
  @Mutation(() => ReservationType, {
    description: 'Holds units until ttlSeconds from now (default from config).',
  })
  reserveStock(
    @Ctx() ctx: RequestContext,
    @Arg('productCode', () => String) productCode: string,
    @Arg('quantity', () => Int) quantity: number,
    @Arg('ttlSeconds', () => Int, { nullable: true }) ttlSeconds: number | null,
  ) {
    return reserveStock(ctx, { productCode, quantity, ttlSeconds });
  }

  @Authorized(RESERVE_STOCK)
  @Mutation(() => ReservationType, {
    description: 'Idempotent: a hold no longer HELD is answered unchanged.',
  })
  releaseReservation(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return releaseReservation(ctx, id);
  }
}
