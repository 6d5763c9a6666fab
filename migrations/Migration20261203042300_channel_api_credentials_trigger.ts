import { Migration } from '@mikro-orm/migrations';

/**
 * `update of <columns>` fires whenever a column is assigned, changed or not, and setChannelApi assigns every
 * column: a new pace (requests_per_second, push_delay_ms) re-queued every listing of the channel. Only a change
 * of what the platform is called with (where, and with which credentials) is worth a new try.
 */
export class Migration20261203042300_channel_api_credentials_trigger extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop trigger if exists channel_api_stock_sync on "channel_api";`);
    this.addSql(`create trigger channel_api_stock_sync after update of base_url, app_key, app_secret_sealed, access_token_sealed, shop_id, sign_method on "channel_api"
  for each row when (old.base_url is distinct from new.base_url or old.app_key is distinct from new.app_key
                     or old.app_secret_sealed is distinct from new.app_secret_sealed
                     or old.access_token_sealed is distinct from new.access_token_sealed
                     or old.shop_id is distinct from new.shop_id or old.sign_method is distinct from new.sign_method)
  execute function hub_stock_sync_on_change();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists channel_api_stock_sync on "channel_api";`);
    this.addSql(`create trigger channel_api_stock_sync after update of base_url, app_key, app_secret_sealed, access_token_sealed, shop_id, sign_method on "channel_api"
  for each row execute function hub_stock_sync_on_change();`);
  }
}
