import { Arg, Authorized, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import { ReplayReportType } from '../schema/ingestion.js';
import { OrderType } from '../schema/order.js';
import { JSONScalar } from '../schema/scalars.js';
import type { RequestContext } from '../services/context.js';
import { ingestChannelOrder, replayIngestLog } from '../services/ingestion.js';
import { INGEST, WRITE_CATALOG } from './roles.js';

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
