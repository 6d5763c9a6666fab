import {
  BigIntType,
  Entity,
  Enum,
  Index,
  ManyToOne,
  PrimaryKey,
  PrimaryKeyProp,
  Property,
} from '@mikro-orm/core';
import { OrderStatus } from '../common/enums.js';
import { Channel } from './channel.js';

/**
 * Refunds paid out (after-sale cases by refundedAt) per UTC hour, channel, the sale's status, currency and
 * product: what salesReport sums for its refunds. Written only by the database (see the refunds roll-up
 * migration): triggers append each change to RefundHourlyChange, and `hub_sales_rollup()` folds those in here.
 * A case's amount is split over the products of the lines it covers; `productCode` '' holds what no product
 * takes (a case covering no line with a product).
 */
@Entity({ tableName: 'refunds_hourly' })
export class RefundHourly {
  [PrimaryKeyProp]?: ['hour', 'channel', 'status', 'currencyCode', 'productCode'];

  @PrimaryKey({ type: 'timestamptz' })
  hour!: Date;

  @ManyToOne({ entity: () => Channel, primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status', primary: true })
  status!: OrderStatus;

  @PrimaryKey({ type: 'string', length: 3 })
  currencyCode!: string;

  @PrimaryKey({ type: 'string', length: 128 })
  productCode!: string;

  /** Cases counted here (a report shows a group where some case counts, even of no amount). */
  @Property({ type: new BigIntType('number') })
  cases!: number;

  @Property({ type: 'decimal', precision: 20, scale: 2 })
  amount!: string;
}

/** A change's difference to RefundHourly, appended in the change's transaction and folded in soon after. */
@Entity({ tableName: 'refunds_hourly_change' })
export class RefundHourlyChange {
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

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: new BigIntType('number') })
  cases!: number;

  @Property({ type: 'decimal', precision: 20, scale: 2 })
  amount!: string;
}

/**
 * What the roll-up counts for each case now, per product: a change to a case, its lines, its order's lines or
 * its sale's status recounts the case and appends the difference from these rows. No foreign keys: a case's
 * rows must outlive its deletion until the trigger has counted them out.
 */
@Entity({ tableName: 'refund_share' })
@Index({ properties: ['returnId'] })
export class RefundShare {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Property({ type: 'uuid' })
  returnId!: string;

  @Property({ type: 'timestamptz' })
  hour!: Date;

  @Property({ type: 'uuid' })
  channelId!: string;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status' })
  status!: OrderStatus;

  @Property({ type: 'string', length: 3 })
  currencyCode!: string;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: 'decimal', precision: 20, scale: 2 })
  amount!: string;
}
