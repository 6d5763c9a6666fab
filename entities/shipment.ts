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
import { ShipmentStatus } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Order } from './order.js';

@Entity({ tableName: 'shipment' })
export class Shipment extends BaseEntity {
  @ManyToOne({ entity: () => Order, index: true, deleteRule: 'cascade' })
  order!: Order;

  @Property({ type: 'string', length: 64 })
  carrier!: string;

  @Property({ type: 'string', length: 128 })
  @Unique()
  trackingNumber!: string;

  @Enum({ items: () => ShipmentStatus, type: 'string' })
  status: Opt<ShipmentStatus> = ShipmentStatus.LABEL_CREATED;
}

/** A carrier's tracking event; the same event delivered twice is stored once. */
@Entity({ tableName: 'shipment_event' })
@Unique({ name: 'shipment_event_once', properties: ['shipment', 'status', 'occurredAt'] })
@Unique({ name: 'shipment_event_content_once', properties: ['shipment', 'contentKey'] })
@Index({ properties: ['shipment', 'occurredAt'] })
export class ShipmentEvent {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => Shipment, deleteRule: 'cascade' })
  shipment!: Shipment;

  @Enum({ items: () => ShipmentStatus, type: 'string' })
  status!: ShipmentStatus;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  /** For an event the carrier sent without a time: a hash of what it says, so it is stored once. */
  @Property({ type: 'string', length: 64, nullable: true })
  contentKey: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
