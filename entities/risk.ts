import {
  Entity,
  Enum,
  Index,
  ManyToOne,
  PrimaryKey,
  PrimaryKeyProp,
  Property,
  Unique,
  type Opt,
} from '@mikro-orm/core';
import { RiskKind } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';
import { Order } from './order.js';

/** A rule's switch and thresholds, set by `setRiskRule`; a kind without a row runs on its defaults (services/risk.ts). */
@Entity({ tableName: 'risk_rule' })
export class RiskRule {
  @PrimaryKey({ type: 'string', length: 32 })
  kind!: RiskKind;

  @Property({ type: 'boolean' })
  enabled!: boolean;

  /** The kind's thresholds and windows, checked by the kind's schema when set. */
  @Property({ type: 'json' })
  params!: Record<string, unknown>;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Opt<Date> = new Date();

  /** The key that set it. */
  @Property({ type: 'string', length: 64 })
  updatedBy!: string;
}

/** One rule's finding on one order: stored once per (order, kind), whatever arrives again. */
@Entity({ tableName: 'risk_flag' })
@Unique({ name: 'risk_flag_order_kind_unique', properties: ['order', 'kind'] })
@Index({ name: 'risk_flag_at_idx', properties: ['at'] })
export class RiskFlag extends BaseEntity {
  @ManyToOne({ entity: () => Order, deleteRule: 'cascade' })
  order!: Order;

  @Enum({ items: () => RiskKind, type: 'string' })
  kind!: RiskKind;

  /** How far past its threshold the order is: 1 at the threshold, more beyond (each rule says how it counts). */
  @Property({ type: 'double' })
  score!: number;

  @Property({ type: 'text' })
  reason!: string;

  /** The figures behind the finding (counts, rates, the buyer key), for an operator to look into. */
  @Property({ type: 'json', nullable: true })
  detail: Record<string, unknown> | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  at: Opt<Date> = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  resolvedAt: Date | null = null;

  /** The key that resolved it. */
  @Property({ type: 'string', length: 64, nullable: true })
  resolvedBy: string | null = null;

  @Property({ type: 'text', nullable: true })
  resolutionNote: string | null = null;
}

/**
 * Orders (sales, not parcels) per channel, product and UTC hour: the velocity rule's history. Written only by
 * its judgement (services/risk.ts), from hours already closed, never by the ingestion path.
 */
@Entity({ tableName: 'product_orders_hourly' })
@Index({ name: 'product_orders_hourly_hour_idx', properties: ['hour'] })
export class ProductOrdersHourly {
  [PrimaryKeyProp]?: ['channel', 'productCode', 'hour'];

  @ManyToOne({ entity: () => Channel, primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @PrimaryKey({ type: 'string', length: 128 })
  productCode!: string;

  @PrimaryKey({ type: 'timestamptz' })
  hour!: Date;

  @Property({ type: 'integer' })
  orders!: number;
}

/** An hour rolled up into ProductOrdersHourly: its key lets one hub process roll it, once. */
@Entity({ tableName: 'product_orders_hour_rolled' })
export class ProductOrdersHourRolled {
  @PrimaryKey({ type: 'timestamptz' })
  hour!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  rolledAt: Opt<Date> = new Date();
}

/**
 * A velocity spike: one product's window on one channel judged far above its baseline. Its key keeps one
 * judgement per (channel, product, window), whichever process and however often it is judged.
 */
@Entity({ tableName: 'velocity_spike' })
export class VelocitySpike {
  [PrimaryKeyProp]?: ['channel', 'productCode', 'windowStart'];

  @ManyToOne({ entity: () => Channel, primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @PrimaryKey({ type: 'string', length: 128 })
  productCode!: string;

  @PrimaryKey({ type: 'timestamptz' })
  windowStart!: Date;

  @Property({ type: 'integer' })
  windowMinutes!: number;

  @Property({ type: 'integer' })
  orders!: number;

  @Property({ type: 'double' })
  median!: number;

  @Property({ type: 'double' })
  mad!: number;

  @Property({ type: 'double' })
  zScore!: number;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  judgedAt: Opt<Date> = new Date();
}
