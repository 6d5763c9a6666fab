import {
  Embeddable,
  Embedded,
  Entity,
  Enum,
  Index,
  ManyToOne,
  Property,
  Unique,
  type Opt,
} from '@mikro-orm/core';
import { OrderOrigin, OrderStatus } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';

@Embeddable()
export class Address {
  @Property({ type: 'string', nullable: true })
  name: string | null = null;

  @Property({ type: 'string', nullable: true })
  phone: string | null = null;

  @Property({ type: 'string', nullable: true })
  province: string | null = null;

  @Property({ type: 'string', nullable: true })
  city: string | null = null;

  @Property({ type: 'string', nullable: true })
  district: string | null = null;

  @Property({ type: 'text' })
  line1!: string;

  @Property({ type: 'string', nullable: true })
  postalCode: string | null = null;

  @Property({ type: 'string', length: 2, default: 'CN' })
  country: Opt<string> = 'CN';

  /** Far region, decided when the order is stored; used by split rules. */
  @Property({ type: 'boolean', default: false })
  remote: Opt<boolean> = false;
}

@Entity({ tableName: 'order' })
@Unique({ name: 'order_channel_external_id_unique', properties: ['channel', 'externalId'] })
@Index({ name: 'order_placed_at_idx', properties: ['placedAt', 'id'] })
@Index({ name: 'order_total_idx', properties: ['totalAmount', 'id'] })
@Index({ name: 'order_status_idx', properties: ['status', 'id'] })
@Index({ name: 'order_channel_placed_at_idx', properties: ['channel', 'placedAt'] })
@Index({ name: 'order_external_id_idx', properties: ['externalId'] })
// The reports read a range of each milestone; most orders have not reached the later ones.
@Index({
  name: 'order_paid_at_idx',
  expression: `create index "order_paid_at_idx" on "order" ("paid_at") where "paid_at" is not null`,
})
@Index({
  name: 'order_packed_at_idx',
  expression: `create index "order_packed_at_idx" on "order" ("packed_at") where "packed_at" is not null`,
})
@Index({
  name: 'order_shipped_at_idx',
  expression: `create index "order_shipped_at_idx" on "order" ("shipped_at") where "shipped_at" is not null`,
})
@Index({
  name: 'order_delivered_at_idx',
  expression: `create index "order_delivered_at_idx" on "order" ("delivered_at") where "delivered_at" is not null`,
})
// The stuck orders: per status, by when the order entered it (services/orders.ts STATUS_SINCE_SQL).
@Index({
  name: 'order_status_since_idx',
  expression: `create index "order_status_since_idx" on "order" ("status", (case "status" when 'PAID' then "paid_at" when 'PACKED' then "packed_at" when 'SHIPPED' then "shipped_at" when 'DELIVERED' then "delivered_at" else "placed_at" end))`,
})
@Index({
  name: 'order_customer_name_idx',
  // Trigram index: the customerName filter matches any part of the name, case-insensitively.
  expression: `create index "order_customer_name_idx" on "order" using gin ("customer_name" gin_trgm_ops)`,
})
// The risk rules' look-ups (services/risk.ts): orders to one address, one unmasked phone, one buyer, in a window.
@Index({
  name: 'order_risk_address_idx',
  expression: `create index "order_risk_address_idx" on "order" (hub_risk_address(ship_province, ship_city, ship_district, ship_line1), placed_at)`,
})
@Index({
  name: 'order_risk_phone_idx',
  expression: `create index "order_risk_phone_idx" on "order" (hub_risk_phone(ship_phone), placed_at)`,
})
@Index({
  name: 'order_risk_buyer_idx',
  expression: `create index "order_risk_buyer_idx" on "order" (hub_risk_buyer(ship_phone, coalesce(ship_name, customer_name), ship_province, ship_city, ship_district, ship_line1), placed_at)`,
})
export class Order extends BaseEntity {
  @ManyToOne({ entity: () => Channel, deleteRule: 'restrict' })
  channel!: Channel;

  /** The platform's own order number, always a string. */
  @Property({ type: 'string', length: 128 })
  externalId!: string;

  @Enum({ items: () => OrderStatus, nativeEnumName: 'order_status' })
  status!: OrderStatus;

  @Property({ type: 'string' })
  customerName!: string;

  @Embedded({ entity: () => Address, prefix: 'ship_' })
  shippingAddress!: Address;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  totalAmount!: string;

  @Property({ type: 'string', length: 3, default: 'CNY' })
  currencyCode: Opt<string> = 'CNY';

  /** Money refunded so far by the order's after-sale cases (kept by services/returns). */
  @Property({ type: 'decimal', precision: 14, scale: 2, default: '0' })
  refundedAmount: Opt<string> = '0';

  @Property({ type: 'timestamptz' })
  placedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  paidAt: Date | null = null;

  /** When it first reached PACKED (set with its timeline entry); null for an order that skipped packing. */
  @Property({ type: 'timestamptz', nullable: true })
  packedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  shippedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null = null;

  @ManyToOne({ entity: () => Order, nullable: true, index: true, deleteRule: 'restrict' })
  parent: Order | null = null;

  /** How the order entered the hub; a sub-order takes its parent's. */
  @Enum({ items: () => OrderOrigin, nativeEnumName: 'order_origin' })
  origin!: OrderOrigin;

  /** The customer's phone for notices (placeOrder's `contactPhone`, or an unmasked one a connector maps). */
  @Property({ type: 'string', length: 32, nullable: true })
  contactPhone: string | null = null;

  /** The customer's WeChat mini-program openid, for subscribe messages. */
  @Property({ type: 'string', length: 128, nullable: true })
  wechatOpenId: string | null = null;

  /** When the customer asked for no more notices of this order (`optOutOfNotices`). */
  @Property({ type: 'timestamptz', nullable: true })
  noticesOptedOutAt: Date | null = null;

  /** Held from shipping since then (`holdOrder`); null when it may ship. Not a status: the status stays. */
  @Property({ type: 'timestamptz', nullable: true })
  heldAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  heldReason: string | null = null;

  /** The key that held it. */
  @Property({ type: 'string', length: 64, nullable: true })
  heldBy: string | null = null;

  /** The payload as the channel sent it (null for orders placed through the API); read only when asked for. */
  @Property({ type: 'json', nullable: true, lazy: true })
  raw: unknown = null;
}
