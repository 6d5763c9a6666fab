import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { OrderStatus } from '../schema/enums.js';
import { Order } from './order.js';

/**
 * The order timeline and the subscription outbox in one table: written in the same
 * transaction as the change it records. `seq` is the public, strictly increasing
 * replay cursor.
 */
@Entity({ tableName: 'order_event' })
@Index({ properties: ['orderId', 'seq'] })
@Index({ properties: ['channelCode', 'seq'] })
export class OrderEvent {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  seq!: Opt<string>;

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
