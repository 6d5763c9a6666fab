import { Migration } from '@mikro-orm/migrations';

/**
 * Two listings of one product on one channel share what the channel may sell (services/stock-sync/listings.ts:
 * LISTING_TARGET), so a listing mapped, moved to another product or removed changes its siblings' targets
 * too: their pushes are queued with its own. Removing a listing is now such a change as well.
 */
const ON_CHANGE = (channelSkuBranch: string) => `create or replace function hub_stock_sync_on_change() returns trigger language plpgsql as $$
declare
  listings uuid[];
begin
  if tg_table_name = 'inventory_item' then
    listings := array(select id from channel_sku where product_id = new.product_id);
  elsif tg_table_name = 'product' then
    listings := array(select id from channel_sku where product_id = new.id);
  elsif tg_table_name = 'channel' then
    listings := array(select id from channel_sku where channel_id = new.id);
  elsif tg_table_name = 'channel_api' then
    listings := array(select id from channel_sku where channel_id = new.channel_id);
  elsif tg_table_name = 'channel_stock_cap' and tg_op = 'DELETE' then
    listings := array(select id from channel_sku where channel_id = old.channel_id and product_id = old.product_id);
  elsif tg_table_name = 'channel_stock_cap' then
    listings := array(select id from channel_sku where channel_id = new.channel_id and product_id = new.product_id);
  elsif tg_table_name = 'channel_sku' then${channelSkuBranch}
  end if;
  if cardinality(listings) > 0 then
    perform hub_stock_sync_enqueue(listings);
  end if;
  return null;
end $$;`;

const WITH_SIBLINGS = `
    -- The listing and every listing of its product on its channel, before and after (the enqueue orders them).
    listings := array(
      select cs.id from channel_sku cs
       where (tg_op <> 'DELETE' and cs.channel_id = new.channel_id and cs.product_id = new.product_id)
          or (tg_op <> 'INSERT' and cs.channel_id = old.channel_id and cs.product_id = old.product_id));`;

const ALONE = `
    listings := array[new.id];`;

export class Migration20261203100000_listing_share extends Migration {
  override async up(): Promise<void> {
    this.addSql(ON_CHANGE(WITH_SIBLINGS));
    this.addSql(`drop trigger if exists channel_sku_stock_sync on "channel_sku";`);
    this.addSql(`create trigger channel_sku_stock_sync after insert or update of product_id, platform_item_id, location_id or delete on "channel_sku"
  for each row execute function hub_stock_sync_on_change();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists channel_sku_stock_sync on "channel_sku";`);
    this.addSql(`create trigger channel_sku_stock_sync after insert or update of product_id, platform_item_id, location_id on "channel_sku"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(ON_CHANGE(ALONE));
  }
}
