import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, PrimaryKeyProp, Property } from '@mikro-orm/core';
import { OrderStatus } from '../common/enums.js';
import { Channel } from './channel.js';

/**
 * Sales (orders without a parent) per UTC hour, channel, status and currency: what salesReport and
 * volumeAnomalies sum. Written only by the database (see the reports migration): triggers append each change to
 * SalesHourlyChange, and `hub_sales_rollup()` folds those in here.
 */
@Entity({ tableName: 'sales_hourly' })
export class SalesHourly {
  [PrimaryKeyProp]?: ['hour', 'channel', 'status', 'currencyCode'];

  @PrimaryKey({ type: 'timestamptz' })
  hour!: Date;

  @ManyToOne({ entity: () => Channel, primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status', primary: true })
  status!: OrderStatus;

  @PrimaryKey({ type: 'string', length: 3 })
  currencyCode!: string;

  @Property({ type: new BigIntType('number') })
  orders!: number;

  @Property({ type: new BigIntType('number') })
  units!: number;

  @Property({ type: 'decimal', precision: 20, scale: 2 })
  revenue!: string;
}

/** A change's difference to SalesHourly, appended in the change's transaction and folded in soon after. */
@Entity({ tableName: 'sales_hourly_change' })
export class SalesHourlyChange {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Property({ type: 'timestamptz' })
  hour!: Date;

  @ManyToOne({ entity: () => Channel, deleteRule: 'cascade' })
  channel!: Channel;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status' })
  status!: OrderStatus;

  @Property({ type: 'string', length: 3 })
  currencyCode!: string;

  @Property({ type: new BigIntType('number') })
  orders!: number;

  @Property({ type: new BigIntType('number') })
  units!: number;

  @Property({ type: 'decimal', precision: 20, scale: 2 })
  revenue!: string;
}
