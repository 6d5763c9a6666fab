import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { WebhookDeliveryStatus } from '../common/enums.js';
import type { OutboundDelivery } from '../entities/outbound-delivery.js';
import {
  CreatedWebhookEndpointType,
  WebhookAttemptType,
  WebhookDeliveryConnectionType,
  WebhookDeliveryType,
  WebhookEndpointInput,
  WebhookEndpointType,
  WebhookEndpointUpdate,
} from '../schema/outbound.js';
import type { RequestContext } from '../services/context.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  deliveryAttempts,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../services/outbound/endpoints.js';
import { ADMIN_ONLY } from './roles.js';

@Resolver()
export class WebhookEndpointResolver {
  @Authorized(ADMIN_ONLY)
  @Query(() => [WebhookEndpointType])
  webhookEndpoints(@Ctx() ctx: RequestContext) {
    return listWebhookEndpoints(ctx);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => CreatedWebhookEndpointType)
  createWebhookEndpoint(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => WebhookEndpointInput) input: WebhookEndpointInput,
  ) {
    return createWebhookEndpoint(ctx, input);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => WebhookEndpointType)
  updateWebhookEndpoint(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => WebhookEndpointUpdate) input: WebhookEndpointUpdate,
  ) {
    return updateWebhookEndpoint(ctx, id, input);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => CreatedWebhookEndpointType, {
    description: 'A new secret, shown once; the previous one signs too for 24 hours.',
  })
  rotateWebhookSecret(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return rotateWebhookSecret(ctx, id);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => Boolean, { description: 'The endpoint and its deliveries.' })
  deleteWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return deleteWebhookEndpoint(ctx, id);
  }

  @Authorized(ADMIN_ONLY)
  @Query(() => WebhookDeliveryConnectionType, { description: 'Newest first.' })
  webhookDeliveries(
    @Ctx() ctx: RequestContext,
    @Arg('endpointId', () => ID) endpointId: string,
    @Arg('status', () => WebhookDeliveryStatus, { nullable: true }) status: WebhookDeliveryStatus | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return listWebhookDeliveries(ctx, { endpointId, status, first, after });
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => WebhookDeliveryType, {
    description:
      'Sends the delivery again (same webhook-id and body), after any earlier one of its order still pending.',
  })
  redeliverWebhook(@Ctx() ctx: RequestContext, @Arg('deliveryId', () => ID) deliveryId: string) {
    return redeliverWebhook(ctx, deliveryId);
  }
}

@Resolver(() => WebhookDeliveryType)
export class WebhookDeliveryResolver {
  @FieldResolver(() => [WebhookAttemptType], { description: 'Oldest first.' })
  attempts(@Ctx() ctx: RequestContext, @Root() delivery: OutboundDelivery) {
    return deliveryAttempts(ctx, delivery.id);
  }
}
