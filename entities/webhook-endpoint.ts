import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * A merchant's system that hears of the hub's events by signed HTTP POST (Standard Webhooks). The signing
 * secret is stored sealed (services/secret-box) and shown once, when made or rotated; after a rotation the
 * previous secret signs too until `previousSecretUntil`, so the receiver can switch without losing a message.
 */
@Entity({ tableName: 'webhook_endpoint' })
export class WebhookEndpoint {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: Opt<string>;

  @Property({ type: 'string', length: 2048 })
  url!: string;

  /** Event types as sent (`order.created`, …). */
  @Property({ type: 'text[]' })
  events!: string[];

  /** Only these channels' orders; null: every channel. */
  @Property({ type: 'text[]', nullable: true })
  channelCodes: string[] | null = null;

  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  @Property({ type: 'boolean', default: true })
  enabled: Opt<boolean> = true;

  /** Why the hub turned it off (failing for days); null when it is on, or an operator turned it off. */
  @Property({ type: 'text', nullable: true })
  disabledReason: string | null = null;

  @Property({ type: 'text', hidden: true })
  secretSealed!: string;

  @Property({ type: 'text', nullable: true, hidden: true })
  previousSecretSealed: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  previousSecretUntil: Date | null = null;

  /** The first failure since the last success: an endpoint failing for days in a row is turned off. */
  @Property({ type: 'timestamptz', nullable: true })
  failingSince: Date | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
