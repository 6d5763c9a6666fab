import { Check, Entity, Enum, Index, ManyToOne, Property, type Opt } from '@mikro-orm/core';
import { ReservationStatus } from '../common/enums.js';
import { ApiKey } from './api-key.js';
import { BaseEntity } from './base.js';
import { Order } from './order.js';
import { Product } from './product.js';

@Entity({ tableName: 'reservation' })
@Index({
  name: 'reservation_held_expiry_idx',
  expression: `create index "reservation_held_expiry_idx" on "reservation" ("expires_at") where "status" = 'HELD'`,
})
@Index({
  name: 'reservation_held_api_key_idx',
  expression: `create index "reservation_held_api_key_idx" on "reservation" ("api_key_id") where "status" = 'HELD'`,
})
@Check({ name: 'reservation_quantity_positive', expression: 'quantity > 0' })
export class Reservation extends BaseEntity {
  @ManyToOne({ entity: () => Product, deleteRule: 'cascade' })
  product!: Product;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @ManyToOne({ entity: () => Order, nullable: true, index: true, deleteRule: 'set null' })
  order: Order | null = null;

  @Property({ type: 'integer' })
  quantity!: number;

  @Enum({ items: () => ReservationStatus, type: 'string' })
  status: Opt<ReservationStatus> = ReservationStatus.HELD;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  /** The channel the hold was made for, so a storefront key sees only its own. */
  @Property({ type: 'string', length: 64, nullable: true })
  channelCode: string | null = null;

  /** The key that made a hold outside an order (reserveStock), for its per-key cap. */
  @ManyToOne({ entity: () => ApiKey, nullable: true, deleteRule: 'set null' })
  apiKey: ApiKey | null = null;
}
