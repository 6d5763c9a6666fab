import { BigIntType, Entity, ManyToOne, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { Channel } from './channel.js';

/**
 * Which provider template tells a channel's customers of a step, and its variables: names as the template has
 * them, values text with placeholders (`{{externalId}}`, services/notices/render.ts). A step with no template
 * on a channel makes no notice.
 */
@Entity({ tableName: 'notice_template' })
@Unique({ name: 'notice_template_once', properties: ['channel', 'step', 'provider'] })
export class NoticeTemplate {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: Opt<string>;

  @ManyToOne({ entity: () => Channel, deleteRule: 'cascade' })
  channel!: Channel;

  @Property({ type: 'string', length: 16 })
  step!: string;

  @Property({ type: 'string', length: 16 })
  provider!: string;

  /** SMS `TemplateCode` or WeChat `template_id`. */
  @Property({ type: 'string', length: 128 })
  templateCode!: string;

  @Property({ type: 'json' })
  params!: Record<string, string>;

  /** Sent in quiet hours too (SMS). */
  @Property({ type: 'boolean', default: false })
  urgent: Opt<boolean> = false;

  /** WeChat: the mini-program page the message opens (`{{orderId}}` may appear). */
  @Property({ type: 'string', length: 512, nullable: true })
  page: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
