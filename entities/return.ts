import {
  BigIntType,
  Check,
  Entity,
  Enum,
  Index,
  ManyToOne,
  PrimaryKey,
  Property,
  Unique,
  type Opt,
} from '@mikro-orm/core';
import { RefundKind, RefundReasonClass, RefundResponsible, RefundStatus } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';
import { Order } from './order.js';
import { OrderLine } from './order-line.js';

/**
 * One after-sale case of a platform (a refund, a return, an exchange), stored once per
 * (channel, refundId). A case for an order the hub has not seen yet is kept with `order`
 * null and attached when the order arrives (matched by channel and externalId).
 */
@Entity({ tableName: 'order_return' })
@Unique({ name: 'order_return_channel_refund_id_unique', properties: ['channel', 'refundId'] })
@Index({ name: 'order_return_channel_external_id_idx', properties: ['channel', 'externalId'] })
@Index({ name: 'order_return_order_id_idx', properties: ['order'] })
@Index({ name: 'order_return_requested_at_idx', properties: ['requestedAt'] })
@Index({
  name: 'order_return_refunded_at_idx',
  expression: `create index "order_return_refunded_at_idx" on "order_return" ("refunded_at") where "refunded_at" is not null`,
})
@Check({ name: 'order_return_refund_amount_not_negative', expression: 'refund_amount >= 0' })
export class Return extends BaseEntity {
  @ManyToOne({ entity: () => Channel, deleteRule: 'restrict' })
  channel!: Channel;

  /** The platform's id of the after-sale record. */
  @Property({ type: 'string', length: 128 })
  refundId!: string;

  /** The order's externalId on the same channel, kept so a case can wait for its order. */
  @Property({ type: 'string', length: 128 })
  externalId!: string;

  /** Null until the order is in the hub. */
  @ManyToOne({ entity: () => Order, nullable: true, deleteRule: 'cascade' })
  order: Order | null = null;

  @Enum({ items: () => RefundKind, type: 'string' })
  kind!: RefundKind;

  /** Moves forward only (REQUESTED → … → REFUNDED, or to REJECTED / CANCELLED). */
  @Enum({ items: () => RefundStatus, type: 'string' })
  status!: RefundStatus;

  /** The platform's own status word or code, as last sent. */
  @Property({ type: 'string', length: 64 })
  platformStatus!: string;

  /** Whether goods come back; null when the platform's record does not tell. */
  @Property({ type: 'boolean', nullable: true })
  goodsReturned: boolean | null = null;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  refundAmount!: string;

  @Property({ type: 'string', length: 3, default: 'CNY' })
  currencyCode: Opt<string> = 'CNY';

  @Property({ type: 'text', nullable: true })
  reasonText: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  reasonCode: string | null = null;

  @Enum({ items: () => RefundReasonClass, type: 'string' })
  reasonClass!: RefundReasonClass;

  @Enum({ items: () => RefundResponsible, type: 'string' })
  responsible!: RefundResponsible;

  @Property({ type: 'string', length: 128, nullable: true })
  returnTrackingNumber: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  returnCarrier: string | null = null;

  /** When the buyer asked (the platform's time, UTC). */
  @Property({ type: 'timestamptz' })
  requestedAt!: Date;

  /** The platform's time of the record as last applied: an older delivery changes nothing. */
  @Property({ type: 'timestamptz' })
  platformUpdatedAt!: Date;

  /** When the goods were received back (first RETURN_RECEIVED, or REFUNDED with goods back). */
  @Property({ type: 'timestamptz', nullable: true })
  receivedAt: Date | null = null;

  /** When the money went back (first REFUNDED). */
  @Property({ type: 'timestamptz', nullable: true })
  refundedAt: Date | null = null;

  /** The payload as last received, for replay; read only when asked for. */
  @Property({ type: 'json', nullable: true, lazy: true })
  raw: unknown = null;

  /** Not stored: in a returnUpdated message, the seq of the order event that sent it. */
  @Property({ persist: false })
  deliveredSeq?: string;
}

/** The order lines and units a case covers, and where its returned units went. */
@Entity({ tableName: 'order_return_line' })
@Check({ name: 'order_return_line_units_not_negative', expression: 'restocked >= 0 and quarantined >= 0' })
export class ReturnLine extends BaseEntity {
  @ManyToOne({ entity: () => Return, index: true, deleteRule: 'cascade' })
  return!: Return;

  @Property({ type: 'integer' })
  lineNo!: number;

  /** The order line it matched (by platform line id, SKU id or product code); null until matched. */
  @ManyToOne({ entity: () => OrderLine, nullable: true, index: true, deleteRule: 'set null' })
  orderLine: OrderLine | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  productCode: string | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  platformSkuId: string | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  platformLineId: string | null = null;

  /** Units covered; null when the platform does not say (then the whole matched line). */
  @Property({ type: 'integer', nullable: true })
  quantity: number | null = null;

  /** Units put back on hand for this line. */
  @Property({ type: 'integer', default: 0 })
  restocked: Opt<number> = 0;

  /** Units received into quarantine and not yet accepted back into stock. */
  @Property({ type: 'integer', default: 0 })
  quarantined: Opt<number> = 0;
}

/** A case's timeline: every status it moved through, written in the transaction of the move. */
@Entity({ tableName: 'order_return_event' })
@Index({ properties: ['return', 'id'] })
export class ReturnEvent {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: Opt<string>;

  @ManyToOne({ entity: () => Return, deleteRule: 'cascade' })
  return!: Return;

  @Enum({ items: () => RefundStatus, type: 'string', nullable: true })
  fromStatus: RefundStatus | null = null;

  @Enum({ items: () => RefundStatus, type: 'string' })
  toStatus!: RefundStatus;

  @Property({ type: 'string', length: 64 })
  platformStatus!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  at: Opt<Date> = new Date();

  /** Channel code, "api" or "system". */
  @Property({ type: 'string', length: 64 })
  source!: string;

  @Property({ type: 'json', nullable: true })
  detail: Opt<Record<string, unknown>> | null = null;
}
