import { Check, Entity, OneToOne, Property, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { Product } from './product.js';

/** One per product: the central pool every channel reserves from. */
@Entity({ tableName: 'inventory_item' })
@Check({
  name: 'inventory_item_reserved_within_on_hand',
  expression: 'reserved >= 0 and on_hand >= reserved',
})
@Check({ name: 'inventory_item_safety_stock_not_negative', expression: 'safety_stock >= 0' })
export class InventoryItem extends BaseEntity {
  @OneToOne({ entity: () => Product, owner: true, unique: true, deleteRule: 'cascade' })
  product!: Product;

  /** Denormalised so stock statements and alerts need no join. */
  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: 'integer', default: 0 })
  onHand: Opt<number> = 0;

  @Property({ type: 'integer', default: 0 })
  reserved: Opt<number> = 0;

  @Property({ type: 'integer', default: 0 })
  safetyStock: Opt<number> = 0;

  get available(): Opt<number> {
    return this.onHand - this.reserved;
  }
}
