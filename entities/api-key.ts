import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { Role } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';

/** The secret itself is never stored: only its SHA-256. */
@Entity({ tableName: 'api_key' })
export class ApiKey extends BaseEntity {
  @Enum({ items: () => Role, type: 'string' })
  role!: Role;

  /** STOREFRONT and CONNECTOR keys are bound to one channel. */
  @ManyToOne({ entity: () => Channel, nullable: true, deleteRule: 'cascade' })
  channel: Channel | null = null;

  @Property({ type: 'string' })
  label!: string;

  @Property({ type: 'string', length: 64, hidden: true })
  @Unique()
  secretHash!: string;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  /** When the key last authenticated, to the minute: it moves at most once a minute. */
  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  // The key's own limits (services/key-limits.ts); null follows its role's default.
  @Property({ type: 'integer', nullable: true })
  requestsPerSecond: number | null = null;

  @Property({ type: 'integer', nullable: true })
  maxConcurrentRequests: number | null = null;

  @Property({ type: 'integer', nullable: true })
  maxWebsocketConnections: number | null = null;

  @Property({ type: 'integer', nullable: true })
  maxSubscriptionsPerConnection: number | null = null;

  @Property({ type: 'integer', nullable: true })
  websocketMessagesPerSecond: number | null = null;
}
