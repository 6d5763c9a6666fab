import { Entity, Enum, Property, Unique, type Opt } from '@mikro-orm/core';
import { ConnectorHealth, IngestionMode, Platform } from '../common/enums.js';
import { BaseEntity } from './base.js';

@Entity({ tableName: 'channel' })
export class Channel extends BaseEntity {
  @Property({ type: 'string', length: 64 })
  @Unique()
  code!: string;

  @Enum({ items: () => Platform, type: 'string' })
  platform!: Platform;

  @Property({ type: 'string' })
  name!: string;

  @Property({ type: 'boolean', default: false })
  isCore: Opt<boolean> = false;

  @Property({ type: 'boolean', default: true })
  salesOpen: Opt<boolean> = true;

  @Enum({ items: () => IngestionMode, array: true, type: 'text[]' })
  ingestionModes: Opt<IngestionMode[]> = [IngestionMode.WEBHOOK];

  @Enum({ items: () => ConnectorHealth, type: 'string', default: ConnectorHealth.UNKNOWN })
  health: Opt<ConnectorHealth> = ConnectorHealth.UNKNOWN;

  @Property({ type: 'timestamptz', nullable: true })
  lastHeartbeatAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lastOrderAt: Date | null = null;

  /** HMAC key for webhook signatures; never exposed through GraphQL. */
  @Property({ type: 'string', nullable: true, hidden: true })
  webhookSecret: string | null = null;

  /** Base URL of the platform's order API, for polling. */
  @Property({ type: 'string', nullable: true })
  apiBaseUrl: string | null = null;

  /** Pushes the pool's stock to the platform's listings; off until an ADMIN turns it on. */
  @Property({ type: 'boolean', default: false })
  stockSync: Opt<boolean> = false;

  /** Where the channel's customers live: notices' times and SMS quiet hours (22:00–08:00) are read in it. */
  @Property({ type: 'string', length: 64, default: 'Asia/Shanghai' })
  timeZone: Opt<string> = 'Asia/Shanghai';

  /** The steps its customers are told of; null: PAID, SHIPPED, PICKED_UP and DELIVERED. */
  @Property({ type: 'text[]', nullable: true })
  noticeSteps: string[] | null = null;

  /** The platform's own cursor of the last poll. */
  @Property({ type: 'string', nullable: true })
  pollCursor: string | null = null;

  /** The platform's cursor of the last pull of after-sale records (platforms with a refund pull). */
  @Property({ type: 'string', nullable: true })
  refundPollCursor: string | null = null;
}
