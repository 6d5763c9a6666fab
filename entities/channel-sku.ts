import { Entity, ManyToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';
import { Product } from './product.js';

/** The SKU map: a platform's own SKU id on one channel → our productCode. */
@Entity({ tableName: 'channel_sku' })
@Unique({ name: 'channel_sku_once', properties: ['channel', 'platformSkuId'] })
export class ChannelSku extends BaseEntity {
  @ManyToOne({ entity: () => Channel, deleteRule: 'cascade' })
  channel!: Channel;

  @Property({ type: 'string', length: 128 })
  platformSkuId!: string;

  @ManyToOne({ entity: () => Product, deleteRule: 'cascade' })
  product!: Product;
}
