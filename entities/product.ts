import { Entity, Property, Unique, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';

@Entity({ tableName: 'product' })
export class Product extends BaseEntity {
  @Property({ type: 'string', length: 128 })
  @Unique()
  productCode!: string;

  @Property({ type: 'string' })
  name!: string;

  @Property({ type: 'boolean', default: false })
  coldChain: Opt<boolean> = false;

  /** Returned units go to quarantine until `acceptReturnedStock` releases them, instead of straight back on hand. */
  @Property({ type: 'boolean', default: false })
  inspectReturns: Opt<boolean> = false;

  /**
   * The price a line is compared with (the MISMATCH risk rule); null: not compared. Lazy: upsertProduct's upsert
   * left a loaded one dirty and the flush wrote it back unreadable; it is read where it is shown.
   */
  @Property({ type: 'decimal', precision: 14, scale: 2, nullable: true, lazy: true })
  listPrice: string | null = null;

  /** Channel codes where safety stock has closed this product. */
  @Property({ type: 'text[]', default: '{}' })
  closedOnChannels: Opt<string[]> = [];
}
