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
import { StockAlertKind } from '../common/enums.js';
import { Product } from './product.js';

/** Stored, so no alert is lost when no one is subscribed. */
@Entity({ tableName: 'stock_alert' })
@Index({ properties: ['productCode', 'createdAt'] })
@Index({ properties: ['createdAt'] })
// One VOLUME_ANOMALY per channel and hour, however many hub processes check it.
@Unique({
  name: 'stock_alert_volume_once',
  expression: `create unique index "stock_alert_volume_once" on "stock_alert" ("channel_code", "bucket_start") where "kind" = 'VOLUME_ANOMALY'`,
})
export class StockAlert {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Enum({ items: () => StockAlertKind, type: 'string' })
  kind!: StockAlertKind;

  @ManyToOne({ entity: () => Product, nullable: true, deleteRule: 'set null' })
  product: Product | null = null;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: 'integer' })
  available!: number;

  @Property({ type: 'integer', nullable: true })
  threshold: number | null = null;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'text[]', default: '{}' })
  channelsClosed: Opt<string[]> = [];

  @Property({ type: 'text[]', default: '{}' })
  channelsReopened: Opt<string[]> = [];

  /** The order that caused it, when one did (an oversold marketplace order). */
  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  /** VOLUME_ANOMALY: the channel, the hour it is about, and its expected and actual order counts. */
  @Property({ type: 'string', length: 64, nullable: true })
  channelCode: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  bucketStart: Date | null = null;

  @Property({ type: 'double', nullable: true })
  expectedOrders: number | null = null;

  @Property({ type: 'integer', nullable: true })
  actualOrders: number | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
