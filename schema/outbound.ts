import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { OutboundEventType, WebhookDeliveryStatus } from '../common/enums.js';
import { PageInfoType } from './order.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType('WebhookEndpoint', {
  description:
    "A merchant's system that hears of events by signed POST (Standard Webhooks). Its secret is shown only when made or rotated.",
})
export class WebhookEndpointType {
  @Field(() => ID) id!: string;
  @Field(() => String) url!: string;
  @Field(() => [OutboundEventType]) events!: string[];
  @Field(() => [String], { nullable: true, description: 'Only these channels; null: every channel.' })
  channelCodes!: string[] | null;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => String, {
    nullable: true,
    description:
      'Why the hub turned it off (failing for days in a row); updateWebhookEndpoint(enabled: true) turns it on.',
  })
  disabledReason!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'The first failure since the last success.' })
  failingSince!: Date | null;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'After a rotation, the previous secret signs too until then.',
  })
  previousSecretUntil!: Date | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType('CreatedWebhookEndpoint')
export class CreatedWebhookEndpointType {
  @Field(() => WebhookEndpointType) endpoint!: WebhookEndpointType;
  @Field(() => String, {
    description:
      'The signing secret (`whsec_…`), shown this once; it is stored sealed and never returned again.',
  })
  secret!: string;
}

@InputType('WebhookEndpointInput')
export class WebhookEndpointInput {
  @Field(() => String, { description: 'http(s); a public address unless WEBHOOK_ALLOW_PRIVATE is set.' })
  url!: string;
  @Field(() => [OutboundEventType]) events!: OutboundEventType[];
  @Field(() => [String], {
    nullable: true,
    description: 'Only these channels; null or left out: every channel.',
  })
  channelCodes?: string[] | null;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType('WebhookEndpointUpdate', { description: 'A field left out keeps what is stored.' })
export class WebhookEndpointUpdate {
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => [OutboundEventType], { nullable: true }) events?: OutboundEventType[] | null;
  @Field(() => [String], { nullable: true, description: 'null: every channel.' })
  channelCodes?: string[] | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Off: deliveries wait; on again: they go out, each order in turn.',
  })
  enabled?: boolean | null;
}

@ObjectType('WebhookAttempt')
export class WebhookAttemptType {
  @Field(() => DateTimeScalar) startedAt!: Date;
  @Field(() => Int) durationMs!: number;
  @Field(() => Int, { nullable: true, description: 'null: no HTTP answer (timeout, connection refused).' })
  statusCode!: number | null;
  @Field(() => String, { nullable: true, description: "The first kilobyte of the reply's body." })
  response!: string | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the next attempt was set for.' })
  nextAttemptAt!: Date | null;
}

@ObjectType('WebhookDelivery', { description: 'One event for one endpoint, and every attempt to send it.' })
export class WebhookDeliveryType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'The `webhook-id` header: the same on every attempt.' })
  webhookId!: string;
  @Field(() => OutboundEventType) eventType!: string;
  @Field(() => ID, { nullable: true }) orderId!: string | null;
  @Field(() => ID, { nullable: true, description: "The order event's seq." })
  eventSeq!: string | null;
  @Field(() => ID, { nullable: true }) alertId!: string | null;
  @Field(() => DateTimeScalar) occurredAt!: Date;
  @Field(() => WebhookDeliveryStatus) status!: string;
  @Field(() => Int) attemptCount!: number;
  @Field(() => DateTimeScalar, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) deliveredAt!: Date | null;
}

@ObjectType('WebhookDeliveryEdge')
export class WebhookDeliveryEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => WebhookDeliveryType) node!: WebhookDeliveryType;
}

@ObjectType('WebhookDeliveryConnection')
export class WebhookDeliveryConnectionType {
  @Field(() => [WebhookDeliveryEdgeType]) edges!: WebhookDeliveryEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
}
