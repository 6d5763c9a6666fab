import { Migration } from '@mikro-orm/migrations';
import { onChangeFunction } from './Migration20261202225134_stock_sync.js';
import { WITH_SIBLINGS } from './Migration20261203100000_listing_share.js';

/**
 * A listing's siblings (the listings of its product on its channel: the share in LISTING_TARGET, and the pushes
 * a mapping queues) are looked up by product and channel together; with the product alone indexed, the lookup
 * also read every listing of the channel. And a listing mapped, moved or removed on a channel that does not
 * sync queues nothing, so it looks nothing up: a catalogue mapped in one transaction before the sync is turned
 * on (which then queues every listing at once) took minutes for 10,000 products, the trigger's plans having
 * been made while the table was still empty.
 */
const SYNCING_WITH_SIBLINGS = `
    if not exists (select 1 from channel c where c.id = coalesce(new.channel_id, old.channel_id) and c.stock_sync) then
      return null;
    end if;${WITH_SIBLINGS}`;

export class Migration20261203120000_listing_siblings_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "channel_sku_product_channel_idx" on "channel_sku" ("product_id", "channel_id");`);
    this.addSql(`drop index "channel_sku_product_idx";`);
    this.addSql(onChangeFunction(SYNCING_WITH_SIBLINGS));
  }

  override async down(): Promise<void> {
    this.addSql(onChangeFunction(WITH_SIBLINGS));
    this.addSql(`create index "channel_sku_product_idx" on "channel_sku" ("product_id");`);
    this.addSql(`drop index "channel_sku_product_channel_idx";`);
  }
}
