import { Migration } from '@mikro-orm/migrations';

/** The channel_sku branch of hub_stock_sync_on_change as this migration made it: the listing alone. */
export const LISTING_ALONE = `
    listings := array[new.id];`;

/**
 * hub_stock_sync_on_change(), given the statements of its channel_sku branch (a later migration queues a
 * listing's siblings there too).
 */
export function onChangeFunction(channelSkuBranch: string): string {
  return `create or replace function hub_stock_sync_on_change() returns trigger language plpgsql as $$
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
}

export class Migration20261202225134_stock_sync extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "channel_api" ("channel_id" uuid not null, "base_url" varchar(512) null, "app_key" varchar(255) null, "app_secret_sealed" text null, "access_token_sealed" text null, "shop_id" varchar(255) null, "sign_method" varchar(32) null, "requests_per_second" double precision null, "push_delay_ms" int not null default 1000, "next_call_at" timestamptz not null default now(), "throttled_until" timestamptz null, "updated_at" timestamptz not null default now(), constraint "channel_api_pkey" primary key ("channel_id"));`);

    this.addSql(`create table "channel_stock_cap" ("channel_id" uuid not null, "product_id" uuid not null, "cap" int not null, constraint "channel_stock_cap_pkey" primary key ("channel_id", "product_id"), constraint channel_stock_cap_not_negative check (cap >= 0));`);

    this.addSql(`create table "stock_push" ("id" bigserial primary key, "listing_id" uuid not null, "channel_code" varchar(64) not null, "product_code" varchar(128) not null, "target" int not null, "outcome" varchar(16) not null, "detail" text null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "stock_push_listing_id_created_at_index" on "stock_push" ("listing_id", "created_at");`);
    this.addSql(`create index "stock_push_created_at_index" on "stock_push" ("created_at");`);

    this.addSql(`alter table "channel_api" add constraint "channel_api_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "channel_stock_cap" add constraint "channel_stock_cap_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "channel_stock_cap" add constraint "channel_stock_cap_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`alter table "channel" add column "stock_sync" boolean not null default false;`);

    this.addSql(`alter table "channel_sku" add column "platform_item_id" varchar(128) null, add column "location_id" varchar(128) null, add column "confirmed" int null, add column "confirmed_at" timestamptz null, add column "sync_state" text check ("sync_state" in ('IN_SYNC', 'PENDING', 'THROTTLED', 'FAILED', 'DISABLED')) not null default 'PENDING', add column "last_error" text null, add column "sync_attempts" int not null default 0, add column "push_owner" varchar(64) null, add column "push_started_at" timestamptz null, add column "uncertain" boolean not null default false, add column "uncertain_until" timestamptz null;`);
    this.addSql(`create index "channel_sku_product_idx" on "channel_sku" ("product_id");`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT', 'STOCK_SYNC_FAILED'));`);

    // Every change of what a channel may show enqueues a push of each listing it touches, in the change's own
    // transaction (committed change: a job; rolled back: none). One job per listing (job_key), its first
    // run time kept (preserve_run_at): changes within the channel's push delay make one push, and the job
    // reads the number when it runs.
    // With p_at (a manual sync, a retry) the job runs then, even if one was due later.
    // Jobs in (product, listing) order, as stock transactions touch them: a sweep or a channel-wide enqueue
    // beside an order's transaction takes the job rows in the same order, so neither deadlocks the other.
    this.addSql(`create or replace function hub_stock_sync_enqueue(p_listings uuid[], p_at timestamptz default null)
returns int language plpgsql as $$
declare
  specs graphile_worker.job_spec[];
begin
  select array_agg(row('stock_sync', json_build_object('listingId', cs.id, 'channelId', cs.channel_id), null,
           coalesce(p_at, now() + make_interval(secs => coalesce(a.push_delay_ms, 1000) / 1000.0)), null,
           'stock-sync:' || cs.id, null, null)::graphile_worker.job_spec order by cs.product_id, cs.id)
    into specs
    from channel_sku cs
    join channel c on c.id = cs.channel_id
    left join channel_api a on a.channel_id = cs.channel_id
   where cs.id = any(p_listings) and c.stock_sync and c.platform <> 'STOREFRONT';
  if specs is null then
    return 0;
  end if;
  perform graphile_worker.add_jobs(specs, p_at is null);
  return cardinality(specs);
end $$;`);
    // One function for every table whose change moves a listing's number; each branch names its own columns
    // (a record's fields are resolved per statement, so the tables cannot share one expression).
    this.addSql(onChangeFunction(LISTING_ALONE));
    this.addSql(`create trigger inventory_item_stock_sync after update of on_hand, reserved on "inventory_item"
  for each row when (old.on_hand - old.reserved is distinct from new.on_hand - new.reserved)
  execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger inventory_item_stock_sync_insert after insert on "inventory_item"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger product_stock_sync after update of closed_on_channels on "product"
  for each row when (old.closed_on_channels is distinct from new.closed_on_channels)
  execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger channel_stock_sync after update of sales_open, stock_sync on "channel"
  for each row when (old.sales_open is distinct from new.sales_open or old.stock_sync is distinct from new.stock_sync)
  execute function hub_stock_sync_on_change();`);
    // New credentials are a reason to try again (a listing FAILED on a bad token, say); the pace columns are not.
    this.addSql(`create trigger channel_api_stock_sync_insert after insert on "channel_api"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger channel_api_stock_sync after update of base_url, app_key, app_secret_sealed, access_token_sealed, shop_id, sign_method on "channel_api"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger channel_stock_cap_stock_sync after insert or update or delete on "channel_stock_cap"
  for each row execute function hub_stock_sync_on_change();`);
    this.addSql(`create trigger channel_sku_stock_sync after insert or update of product_id, platform_item_id, location_id on "channel_sku"
  for each row execute function hub_stock_sync_on_change();`);
    // A hub process that pushes holds this advisory lock on a connection of its own for its whole life: the
    // lock goes with the process (kill -9 included), so another process can tell a push that died from one
    // under way.
    this.addSql(`create or replace function hub_process_alive(p_process text) returns boolean language sql stable as $$
  select exists (select 1 from pg_locks
                  where locktype = 'advisory' and granted and objsubid = 2
                    and classid = 1752523 and objid = (hashtext(p_process)::bigint & 4294967295)::oid)
$$;`);
    // Every hub process hears of a listing's new state after commit (channelStockChanged).
    this.addSql(`create or replace function hub_notify_channel_stock() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_channel_stock', new.id::text);
  return null;
end $$;`);
    this.addSql(`create trigger channel_sku_notify_stock after update of confirmed, sync_state, last_error on "channel_sku"
  for each row when (old.confirmed is distinct from new.confirmed or old.sync_state is distinct from new.sync_state
                     or old.last_error is distinct from new.last_error)
  execute function hub_notify_channel_stock();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists channel_sku_notify_stock on "channel_sku";`);
    this.addSql(`drop function if exists hub_notify_channel_stock();`);
    for (const [trigger, table] of [
      ['inventory_item_stock_sync', 'inventory_item'],
      ['inventory_item_stock_sync_insert', 'inventory_item'],
      ['product_stock_sync', 'product'],
      ['channel_stock_sync', 'channel'],
      ['channel_api_stock_sync_insert', 'channel_api'],
      ['channel_api_stock_sync', 'channel_api'],
      ['channel_stock_cap_stock_sync', 'channel_stock_cap'],
      ['channel_sku_stock_sync', 'channel_sku'],
    ]) {
      this.addSql(`drop trigger if exists ${trigger} on "${table}";`);
    }
    this.addSql(`drop function if exists hub_stock_sync_on_change();`);
    this.addSql(`drop function if exists hub_process_alive(text);`);
    this.addSql(`drop function if exists hub_stock_sync_enqueue(uuid[], timestamptz);`);
    this.addSql(`drop table if exists "channel_api" cascade;`);

    this.addSql(`drop table if exists "channel_stock_cap" cascade;`);

    this.addSql(`drop table if exists "stock_push" cascade;`);

    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`alter table "channel" drop column "stock_sync";`);

    this.addSql(`drop index "channel_sku_product_idx";`);
    this.addSql(`alter table "channel_sku" drop column "platform_item_id", drop column "location_id", drop column "confirmed", drop column "confirmed_at", drop column "sync_state", drop column "last_error", drop column "sync_attempts", drop column "push_owner", drop column "push_started_at", drop column "uncertain", drop column "uncertain_until";`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT'));`);
  }

}
