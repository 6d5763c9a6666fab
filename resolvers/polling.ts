import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { PollReportType } from '../schema/polling.js';
import type { RequestContext } from '../services/context.js';
import { pollChannelNow } from '../services/polling.js';
import { WRITE_CATALOG } from './roles.js';

@Resolver()
export class PollingResolver {
  @Authorized(WRITE_CATALOG)
  @Mutation(() => PollReportType, {
    description:
      "Pulls the channel's orders changed since its cursor now, as the scheduler does (OPS, ADMIN).",
  })
  pollChannel(@Ctx() ctx: RequestContext, @Arg('code', () => String) code: string) {
    return pollChannelNow(ctx, ctx.hub.platformClients, code);
  }
}
