import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NoticeProvider, NoticeStep, Role } from '../common/enums.js';
import type { Channel, NoticeProviderAccount, Order } from '../entities/index.js';
import { ChannelType } from '../schema/channel.js';
import {
  ChannelNoticesInput,
  NoticeProviderInput,
  NoticeProviderSettingsType,
  NoticeTemplateType,
  NoticeType,
} from '../schema/notices.js';
import { OrderType } from '../schema/order.js';
import { JSONScalar } from '../schema/scalars.js';
import type { RequestContext } from '../services/context.js';
import type { ChannelRow, OrderRow } from '../services/read-model.js';
import {
  noticeProviders,
  noticeTemplates,
  optOutOfNotices,
  setChannelNotices,
  setNoticeProvider,
  setNoticeTemplate,
} from '../services/notices/admin.js';
import { ADMIN_ONLY } from './roles.js';

const DEFAULT_STEPS = Object.values(NoticeStep);

@Resolver()
export class NoticeResolver {
  @Authorized(ADMIN_ONLY)
  @Mutation(() => NoticeProviderSettingsType, { description: "Stores a notice provider's account." })
  setNoticeProvider(
    @Ctx() ctx: RequestContext,
    @Arg('provider', () => NoticeProvider) provider: NoticeProvider,
    @Arg('input', () => NoticeProviderInput) input: NoticeProviderInput,
  ) {
    return setNoticeProvider(ctx, provider, input);
  }

  @Authorized(ADMIN_ONLY)
  @Query(() => [NoticeProviderSettingsType])
  noticeProviders(@Ctx() ctx: RequestContext) {
    return noticeProviders(ctx);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => NoticeTemplateType, {
    description: 'Maps a step of a channel to a template; params: variable → text with {{placeholders}}.',
  })
  setNoticeTemplate(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('step', () => NoticeStep) step: NoticeStep,
    @Arg('provider', () => NoticeProvider) provider: NoticeProvider,
    @Arg('templateCode', () => String) templateCode: string,
    @Arg('params', () => JSONScalar) params: unknown,
    @Arg('urgent', () => Boolean, { nullable: true, defaultValue: false }) urgent: boolean | null,
    @Arg('page', () => String, { nullable: true }) page: string | null,
  ) {
    return setNoticeTemplate(ctx, { channelCode, step, provider, templateCode, params, urgent, page });
  }

  @Authorized(ADMIN_ONLY)
  @Query(() => [NoticeTemplateType])
  noticeTemplates(@Ctx() ctx: RequestContext, @Arg('channelCode', () => String) channelCode: string) {
    return noticeTemplates(ctx, channelCode);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ChannelType, { description: "A channel's time zone and the steps its customers hear of." })
  setChannelNotices(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('input', () => ChannelNoticesInput) input: ChannelNoticesInput,
  ) {
    return setChannelNotices(ctx, channelCode, input);
  }

  @Authorized([Role.OPS])
  @Mutation(() => OrderType, { description: 'The customer wants no more notices of this order.' })
  optOutOfNotices(@Ctx() ctx: RequestContext, @Arg('orderId', () => ID) orderId: string) {
    return optOutOfNotices(ctx, orderId);
  }
}

@Resolver(() => OrderType)
export class OrderNoticesResolver {
  @FieldResolver(() => [NoticeType], { description: 'Customer notices of its steps, oldest first.' })
  notices(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.noticesByOrderId.load(order.id);
  }
}

@Resolver(() => ChannelType)
export class ChannelNoticesResolver {
  @FieldResolver(() => String, { description: 'Where its customers live: quiet hours and notice times.' })
  timeZone(@Root() channel: Channel | ChannelRow) {
    return channel.timeZone;
  }

  @FieldResolver(() => [NoticeStep], { description: 'The steps its customers are told of.' })
  noticeSteps(@Root() channel: Channel | ChannelRow) {
    return channel.noticeSteps ?? DEFAULT_STEPS;
  }
}

@Resolver(() => NoticeProviderSettingsType)
export class NoticeProviderSettingsResolver {
  @FieldResolver(() => Boolean)
  hasSecret(@Root() account: NoticeProviderAccount) {
    return !!account.secretSealed;
  }
}
