import { Arg, Authorized, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import { ReplayReportType } from '../schema/ingestion.js';
import { PlaceOrderInput } from '../schema/inputs.js';
import { OrderType } from '../schema/order.js';
import { JSONScalar } from '../schema/scalars.js';
import type { RequestContext } from '../services/context.js';
import { ingestChannelOrder } from '../services/order-gateway.js';
import { placeOrder } from '../services/place-order.js';
import { replayIngestLog } from '../services/replay.js';
import { INGEST, PLACE_ORDERS, WRITE_CATALOG } from './roles.js';

@Resolver()
export class IngestionResolver {
  @Authorized(INGEST)
  @Mutation(() => OrderType, { description: 'Idempotent on (channel, externalId).' })
  ingestChannelOrder(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('payload', () => JSONScalar) payload: unknown,
  ) {
    return ingestChannelOrder(ctx, channelCode, payload);
  }

  @Authorized(PLACE_ORDERS)
  @Mutation(() => OrderType, { description: 'Holds every line, all or nothing; status PENDING_PAYMENT.' })
  placeOrder(@Ctx() ctx: RequestContext, @Arg('input', () => PlaceOrderInput) input: PlaceOrderInput) {
    return placeOrder(ctx, input);
  }

  @Authorized(WRITE_CATALOG)
  @Mutation(() => ReplayReportType, {
    description: 'Processes stored payloads again: the failed ones, or also those a crash left unfinished.',
  })
  replayIngestLog(
    @Ctx() ctx: RequestContext,
    @Arg('failedOnly', () => Boolean, { defaultValue: true }) failedOnly: boolean,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('limit', () => Int, { defaultValue: 1000 }) limit: number,
  ) {
    return replayIngestLog(ctx, { failedOnly, channelCode, limit });
  }
}
