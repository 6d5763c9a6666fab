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
import { Order } from './order.js';

/**
 * One step of one order told to its customer (or not, and why). Made by the database in the transaction that
 * records the step (a trigger on order_event, migration customer_notices), with its `customer_notice` job; the
 * unique (order, step) key makes a replayed event or a redelivered webhook add nothing. Sent by
 * services/notices/sender.ts, which decides the provider, the contact and the quiet hours when it runs.
 */
@Entity({ tableName: 'notice' })
@Unique({ name: 'notice_once', properties: ['order', 'step'] })
@Index({
  name: 'notice_open_index',
  expression: `create index "notice_open_index" on "notice" ("id") where "status" in ('QUEUED', 'HELD')`,
})
export class Notice {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: Opt<string>;

  @ManyToOne({ entity: () => Order, deleteRule: 'cascade' })
  order!: Order;

  @Property({ type: 'string', length: 64 })
  channelCode!: string;

  /** A NoticeStep. */
  @Property({ type: 'string', length: 16 })
  step!: string;

  /** When the order reached the step. */
  @Property({ type: 'timestamptz' })
  reachedAt!: Date;

  /** A NoticeProvider; null until the sender chose one (or when none could be). */
  @Property({ type: 'string', length: 16, nullable: true })
  provider: string | null = null;

  /** A NoticeStatus. */
  @Property({ type: 'string', length: 16, default: 'QUEUED' })
  status: Opt<string> = 'QUEUED';

  /** The phone masked (`138****1234`) or the openid shortened: never the contact itself. */
  @Property({ type: 'string', length: 64, nullable: true })
  contactMasked: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  templateCode: string | null = null;

  /** Why it was skipped or failed, or the last refusal before a retry. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'integer', default: 0 })
  attemptCount: Opt<number> = 0;

  /** When it is tried next (a retry, or 08:00 for a HELD SMS). */
  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null = null;

  /** The hub process sending it now (its advisory lock says whether it lives), and since when. */
  @Property({ type: 'string', length: 64, nullable: true })
  sendingOwner: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  sendingSince: Date | null = null;

  /** The provider's id of the message (SMS BizId, WeChat msgid). */
  @Property({ type: 'string', length: 64, nullable: true })
  providerMessageId: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  sentAt: Date | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
