import { Entity, Enum, Index, ManyToOne, Property, Unique, type Opt } from '@mikro-orm/core';
import { ChannelStockState } from '../common/enums.js';
import { BaseEntity } from './base.js';
import { Channel } from './channel.js';
import { Product } from './product.js';

/**
 * The SKU map: a platform's own SKU id on one channel → our productCode. With an item id it is also a
 * listing the stock sync keeps at the number the channel may sell (services/stock-sync).
 */
@Entity({ tableName: 'channel_sku' })
@Unique({ name: 'channel_sku_once', properties: ['channel', 'platformSkuId'] })
// Siblings (one product's listings on one channel) and a product's listings are both looked up by it.
@Index({ name: 'channel_sku_product_channel_idx', properties: ['product', 'channel'] })
export class ChannelSku extends BaseEntity {
  @ManyToOne({ entity: () => Channel, deleteRule: 'cascade' })
  channel!: Channel;

  @Property({ type: 'string', length: 128 })
  platformSkuId!: string;

  @ManyToOne({ entity: () => Product, deleteRule: 'cascade' })
  product!: Product;

  /** Where the product lives on the platform: Taobao num_iid, Shopify inventoryItemId… */
  @Property({ type: 'string', length: 128, nullable: true })
  platformItemId: string | null = null;

  /** Shopify's location. */
  @Property({ type: 'string', length: 128, nullable: true })
  locationId: string | null = null;

  /** The number the platform last acknowledged, and when. */
  @Property({ type: 'integer', nullable: true })
  confirmed: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  confirmedAt: Date | null = null;

  /** The outcome of the last push (IN_SYNC, THROTTLED or FAILED); what operators see is derived from it. */
  @Enum({ items: () => ChannelStockState, type: 'string', default: ChannelStockState.PENDING })
  syncState: Opt<ChannelStockState> = ChannelStockState.PENDING;

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  /** Pushes that failed in a row without an answer (timeouts, 5xx): the backoff grows with it. */
  @Property({ type: 'integer', default: 0 })
  syncAttempts: Opt<number> = 0;

  /** The hub process pushing this listing now: no other pushes it meanwhile. */
  @Property({ type: 'string', length: 64, nullable: true })
  pushOwner: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  pushStartedAt: Date | null = null;

  /** An earlier push's outcome is unknown (a lost reply, a crash): the platform's value must be read first. */
  @Property({ type: 'boolean', default: false })
  uncertain: Opt<boolean> = false;

  /** A call whose answer never came may still land until then: nobody reads the platform back before it. */
  @Property({ type: 'timestamptz', nullable: true })
  uncertainUntil: Date | null = null;
}
