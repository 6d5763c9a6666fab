import { BigIntType, Entity, ManyToOne, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { Channel } from './channel.js';

/**
 * A platform's delivery id (Shopify's `X-Shopify-Webhook-Id`) once its payload is stored,
 * written in the same transaction: the same delivery again is answered without work.
 * `createdAt` says which rows are old enough to prune (platforms retry for a day or two).
 */
@Entity({ tableName: 'webhook_delivery' })
@Unique({ name: 'webhook_delivery_once', properties: ['channel', 'deliveryId'] })
export class WebhookDelivery {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => Channel, deleteRule: 'cascade' })
  channel!: Channel;

  @Property({ type: 'string', length: 255 })
  deliveryId!: string;

  @Property({ type: 'uuid' })
  orderId!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
