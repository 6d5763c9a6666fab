import {
  BigIntType,
  Entity,
  Enum,
  Index,
  ManyToOne,
  PrimaryKey,
  Property,
  Unique,
  type Opt,
} from '@mikro-orm/core';
import { OrderStatus } from '../common/enums.js';
import { Order } from './order.js';

/**
 * The order timeline and the subscription outbox in one table: written in the same
 * transaction as the change it records. `id` is internal (taken at insert); the public,
 * strictly increasing replay cursor `seq` is given after commit, in commit order, by
 * `hub_number_order_events()` (see its migration), so it is null for a moment.
 */
@Entity({ tableName: 'order_event' })
@Index({ name: 'order_event_order_id_seq_index', properties: ['orderId', 'seq'] })
@Index({ name: 'order_event_channel_code_seq_index', properties: ['channelCode', 'seq'] })
@Index({
  name: 'order_event_unnumbered_index',
  expression: `create index "order_event_unnumbered_index" on "order_event" ("id") where "seq" is null`,
})
export class OrderEvent {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: Opt<string>;

  @Property({ type: new BigIntType('string'), nullable: true })
  @Unique({ name: 'order_event_seq_unique' })
  seq: Opt<string> | null = null;

  @ManyToOne({ entity: () => Order, mapToPk: true, fieldName: 'order_id', deleteRule: 'cascade' })
  orderId!: string;

  @Property({ type: 'string', length: 64 })
  channelCode!: string;

  @Property({ type: 'string', length: 32 })
  type!: string;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status', nullable: true })
  fromStatus: OrderStatus | null = null;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status', nullable: true })
  toStatus: OrderStatus | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  at: Opt<Date> = new Date();

  /** Channel code, "api", "logistics" or "system". */
  @Property({ type: 'string', length: 64 })
  source!: string;

  /** Details a person reading the timeline needs (a cancel reason, a tracking number). */
  @Property({ type: 'json', nullable: true })
  detail: Opt<Record<string, unknown>> | null = null;
}
