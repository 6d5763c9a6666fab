import {
  BigIntType,
  Entity,
  Index,
  ManyToOne,
  PrimaryKey,
  Property,
  Unique,
  type Opt,
} from '@mikro-orm/core';
import { WebhookEndpoint } from './webhook-endpoint.js';

/**
 * One event for one webhook endpoint, from its making to its delivery (or giving up), with every attempt in
 * `outbound_attempt`. Made after the event commits (an order event when it is numbered, a stock alert in its
 * own transaction), with a job in graphile-worker's queue for the delivery at the head of its line: deliveries
 * of one order (or product) to one endpoint go one after another, in the order the events happened.
 */
@Entity({ tableName: 'outbound_delivery' })
// One delivery per event per endpoint, however often the event is looked at.
@Unique({ name: 'outbound_delivery_once', properties: ['endpoint', 'webhookId'] })
@Index({ name: 'outbound_delivery_endpoint_id_index', properties: ['endpoint', 'id'] })
@Index({
  name: 'outbound_delivery_line_index',
  expression: `create index "outbound_delivery_line_index" on "outbound_delivery" ("endpoint_id", "ordering_key", "id") where "status" = 'PENDING'`,
})
export class OutboundDelivery {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: Opt<string>;

  /** `webhook-id`: one per event (`msg_order_<seq>`, `msg_alert_<id>`), the same on every attempt, so the receiver can drop a repeat. */
  @Property({ type: 'string', length: 64 })
  webhookId!: string;

  @ManyToOne({ entity: () => WebhookEndpoint, deleteRule: 'cascade' })
  endpoint!: WebhookEndpoint;

  /** As sent: `order.created`, `order.status_changed`, `shipment.updated`, `stock.alert`, `stock.sync_failed`. */
  @Property({ type: 'string', length: 64 })
  eventType!: string;

  /** `order:<id>` or `product:<code>`: one line of deliveries that keep their order. */
  @Property({ type: 'string', length: 200 })
  orderingKey!: string;

  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  /** The order event's public number. */
  @Property({ type: new BigIntType('string'), nullable: true })
  eventSeq: string | null = null;

  @Property({ type: new BigIntType('string'), nullable: true })
  alertId: string | null = null;

  /** When the event happened. */
  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  /** The body as first sent, sent again byte for byte on every later attempt. */
  @Property({ type: 'text', nullable: true, lazy: true })
  body: string | null = null;

  /** PENDING, DELIVERED or FAILED (given up after the last retry, or its endpoint deleted its interest). */
  @Property({ type: 'string', length: 16, default: 'PENDING' })
  status: Opt<string> = 'PENDING';

  @Property({ type: 'integer', default: 0 })
  attemptCount: Opt<number> = 0;

  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null = null;

  /** The hub process sending it now (its advisory lock says whether it lives), and since when. */
  @Property({ type: 'string', length: 64, nullable: true })
  sendingOwner: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  sendingSince: Date | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null = null;
}
