import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { ChannelType } from '../schema/channel.js';
import { ChannelInput } from '../schema/inputs.js';
import {
  findChannel,
  listChannels,
  setChannelCore,
  setChannelSalesOpen,
  upsertChannel,
} from '../services/channels.js';
import type { RequestContext } from '../services/context.js';
import { ADMIN_ONLY, READ_CATALOG, WRITE_CATALOG } from './roles.js';

@Resolver(() => ChannelType)
export class ChannelResolver {
  @Authorized(READ_CATALOG)
  @Query(() => [ChannelType])
  channels(@Ctx() ctx: RequestContext) {
    return listChannels(ctx);
  }

  @Authorized(READ_CATALOG)
  @Query(() => ChannelType, { nullable: true })
  channel(@Ctx() ctx: RequestContext, @Arg('code', () => String) code: string) {
    return findChannel(ctx, code);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType)
  upsertChannel(@Ctx() ctx: RequestContext, @Arg('input', () => ChannelInput) input: ChannelInput) {
    return upsertChannel(ctx, input);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType)
  setChannelCore(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String) code: string,
    @Arg('isCore', () => Boolean) isCore: boolean,
  ) {
    return setChannelCore(ctx, code, isCore);
  }

  @Authorized(WRITE_CATALOG)
  @Mutation(() => ChannelType, { description: 'The manual switch for a whole channel.' })
  setChannelSalesOpen(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String) code: string,
    @Arg('open', () => Boolean) open: boolean,
  ) {
    return setChannelSalesOpen(ctx, code, open);
  }
}
