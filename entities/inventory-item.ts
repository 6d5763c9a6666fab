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
@Check({ name: 'inventory_item_quarantined_not_negative', expression: 'quarantined >= 0' })
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

  /** Returned units awaiting inspection: not on hand, not available. */
  @Property({ type: 'integer', default: 0 })
  quarantined: Opt<number> = 0;

  @Property({ type: 'integer', default: 0 })
  safetyStock: Opt<number> = 0;

  /**
   * Where the product stands against its safety stock, kept by services/stock-levels:
   * OK (open everywhere), LOW (closed on non-core channels), OUT (closed, none available)
   * or EMPTY (none available, no safety stock set, so nothing closed).
   */
  @Property({ type: 'string', length: 8, default: 'OK' })
  stockLevel: Opt<string> = 'OK';

  /** The highest `available` seen in the current sudden-drop window, and when that window began. */
  @Property({ type: 'integer', nullable: true })
  dropReference: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  dropReferenceAt: Date | null = null;

  /** When the last SUDDEN_DROP alert was raised: at most one per window. */
  @Property({ type: 'timestamptz', nullable: true })
  suddenDropAt: Date | null = null;

  get available(): Opt<number> {
    return this.onHand - this.reserved;
  }
}
