import { Check, Entity, Index, ManyToOne, Property, type Opt } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { Order } from './order.js';
import { Product } from './product.js';

@Entity({ tableName: 'order_line' })
@Index({ name: 'order_line_product_code_idx', properties: ['productCode', 'order'] })
@Check({ name: 'order_line_quantity_positive', expression: 'quantity > 0' })
export class OrderLine extends BaseEntity {
  @ManyToOne({ entity: () => Order, index: true, deleteRule: 'cascade' })
  order!: Order;

  /** Position within the order, so lines keep the platform's order. */
  @Property({ type: 'integer' })
  lineNo!: number;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  /** Null when the code is unknown to the catalog; the line is kept all the same. */
  @ManyToOne({ entity: () => Product, nullable: true, index: true, deleteRule: 'set null' })
  product: Product | null = null;

  /** The platform's SKU id, when it sent one. */
  @Property({ type: 'string', length: 128, nullable: true })
  platformSkuId: string | null = null;

  /** The platform's id of this line (Taobao/Youzan oid, Douyin sku order id, Shopify line item id): refunds name it. */
  @Property({ type: 'string', length: 128, nullable: true })
  platformLineId: string | null = null;

  @Property({ type: 'integer' })
  quantity!: number;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  unitPrice!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2 })
  lineTotal!: string;

  /** Units refunded so far by the order's after-sale cases (kept by services/returns). */
  @Property({ type: 'integer', default: 0 })
  refundedQuantity: Opt<number> = 0;
}
