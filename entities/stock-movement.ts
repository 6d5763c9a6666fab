import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Product } from './product.js';

/** Every change of a product's on-hand units, so the history adds up. */
@Entity({ tableName: 'stock_movement' })
@Index({ properties: ['product', 'createdAt'] })
export class StockMovement {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => Product, deleteRule: 'cascade' })
  product!: Product;

  @Property({ type: 'integer' })
  delta!: number;

  @Property({ type: 'integer' })
  onHandAfter!: number;

  @Property({ type: 'string' })
  reason!: string;

  /** Who made the change: an API key id, "system", or a channel code. */
  @Property({ type: 'string' })
  actor!: string;

  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
