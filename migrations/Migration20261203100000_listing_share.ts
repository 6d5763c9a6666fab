import { Migration } from '@mikro-orm/migrations';
import { LISTING_ALONE, onChangeFunction } from './Migration20261202225134_stock_sync.js';

/**
 * Two listings of one product on one channel share what the channel may sell (services/stock-sync/listings.ts:
 * LISTING_TARGET), so a listing mapped, moved to another product or removed changes its siblings' targets
 * too: their pushes are queued with its own. Removing a listing is now such a change as well.
 */
export const WITH_SIBLINGS = `
    -- The listing and every listing of its product on its channel, before and after (the enqueue orders them).
    listings := array(
      select cs.id from channel_sku cs
       where (tg_op <> 'DELETE' and cs.channel_id = new.channel_id and cs.product_id = new.product_id)
          or (tg_op <> 'INSERT' and cs.channel_id = old.channel_id and cs.product_id = old.product_id));`;

export class Migration20261203100000_listing_share extends Migration {
  override async up(): Promise<void> {
    this.addSql(onChangeFunction(WITH_SIBLINGS));
    this.addSql(`drop trigger if exists channel_sku_stock_sync on "channel_sku";`);
    this.addSql(`create trigger channel_sku_stock_sync after insert or update of product_id, platform_item_id, location_id or delete on "channel_sku"
  for each row execute function hub_stock_sync_on_change();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists channel_sku_stock_sync on "channel_sku";`);
    this.addSql(`create trigger channel_sku_stock_sync after insert or update of product_id, platform_item_id, location_id on "channel_sku"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(onChangeFunction(LISTING_ALONE));
  }
}
