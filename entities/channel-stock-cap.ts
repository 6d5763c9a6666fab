import { Check, Entity, ManyToOne, Property } from '@mikro-orm/core';
import { Channel } from './channel.js';
import { Product } from './product.js';

/** At most this many units of the pool are shown on the channel (a live-stream channel's allotment). */
@Entity({ tableName: 'channel_stock_cap' })
@Check({ name: 'channel_stock_cap_not_negative', expression: 'cap >= 0' })
export class ChannelStockCap {
  @ManyToOne({ entity: () => Channel, primary: true, deleteRule: 'cascade' })
  channel!: Channel;

  @ManyToOne({ entity: () => Product, primary: true, deleteRule: 'cascade' })
  product!: Product;

  @Property({ type: 'integer' })
  cap!: number;
}
