import { Entity, OneToOne, Property, type Opt } from '@mikro-orm/core';
import { Channel } from './channel.js';

/**
 * A channel's credentials for the platform's open API, set by `setChannelApi`. The secrets are stored sealed
 * (services/secret-box) and never leave the hub; the pace columns are shared by every hub process, so the
 * platform's rate holds however many push.
 */
@Entity({ tableName: 'channel_api' })
export class ChannelApi {
  @OneToOne({ entity: () => Channel, primary: true, owner: true, deleteRule: 'cascade' })
  channel!: Channel;

  /** null: the platform's real gateway. */
  @Property({ type: 'string', length: 512, nullable: true })
  baseUrl: string | null = null;

  @Property({ type: 'string', length: 255, nullable: true })
  appKey: string | null = null;

  @Property({ type: 'text', nullable: true, hidden: true })
  appSecretSealed: string | null = null;

  @Property({ type: 'text', nullable: true, hidden: true })
  accessTokenSealed: string | null = null;

  @Property({ type: 'string', length: 255, nullable: true })
  shopId: string | null = null;

  @Property({ type: 'string', length: 32, nullable: true })
  signMethod: string | null = null;

  /** Calls per second to the platform; null: the platform's default. */
  @Property({ type: 'double', nullable: true })
  requestsPerSecond: number | null = null;

  /** Changes within this window after the first are pushed together, as one number. */
  @Property({ type: 'integer', default: 1000 })
  pushDelayMs: Opt<number> = 1000;

  /** The next moment a call may start (reserved by each call), and until when the platform asked to wait. */
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  nextCallAt: Opt<Date> = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  throttledUntil: Date | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
