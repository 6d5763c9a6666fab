import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ChannelType } from '../schema/channel.js';
import { ChannelInput } from '../schema/inputs.js';
import { ChannelApiInput, ChannelApiType, ChannelStockSyncType } from '../schema/stock-sync.js';
import { channelApiOf, clearChannelApi, setChannelApi } from '../services/channel-stock.js';
import {
  findChannel,
  listChannels,
  setChannelCore,
  setChannelSalesOpen,
  setChannelStockSync,
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

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType, {
    description: "Sets the channel's platform API credentials; appSecret and accessToken are write-only.",
  })
  setChannelApi(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('input', () => ChannelApiInput) input: ChannelApiInput,
  ) {
    return setChannelApi(ctx, channelCode, input);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType, { description: "Forgets the channel's platform API credentials." })
  clearChannelApi(@Ctx() ctx: RequestContext, @Arg('channelCode', () => String) channelCode: string) {
    return clearChannelApi(ctx, channelCode);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType, {
    description: "Turns pushing the pool's stock to the channel's listings on or off.",
  })
  setChannelStockSync(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('enabled', () => Boolean) enabled: boolean,
  ) {
    return setChannelStockSync(ctx, channelCode, enabled);
  }

  @FieldResolver(() => ChannelApiType, {
    nullable: true,
    description: 'The platform API settings, for ADMIN keys only (null for others, and when none are set).',
  })
  api(@Root() channel: { id: string }, @Ctx() ctx: RequestContext) {
    return channelApiOf(ctx, channel.id);
  }

  @FieldResolver(() => ChannelStockSyncType)
  stockSync(@Root() channel: { id: string }, @Ctx() ctx: RequestContext) {
    return ctx.loaders.stockSyncByChannelId.load(channel.id);
  }
}
