import { Migration } from '@mikro-orm/migrations';

/**
 * The enqueue function as Migration20261202225134_stock_sync made it (jobs in (product, listing) order, as stock
 * transactions touch them, so that no two enqueues deadlock), with `extra` run after the jobs are added.
 */
function enqueueFunction(extra: string): string {
  return `create or replace function hub_stock_sync_enqueue(p_listings uuid[], p_at timestamptz default null)
returns int language plpgsql as $$
declare
  specs graphile_worker.job_spec[];
  queued uuid[];
begin
  select array_agg(row('stock_sync', json_build_object('listingId', cs.id, 'channelId', cs.channel_id), null,
           coalesce(p_at, now() + make_interval(secs => coalesce(a.push_delay_ms, 1000) / 1000.0)), null,
           'stock-sync:' || cs.id, null, null)::graphile_worker.job_spec order by cs.product_id, cs.id),
         array_agg(cs.id order by cs.product_id, cs.id)
    into specs, queued
    from channel_sku cs
    join channel c on c.id = cs.channel_id
    left join channel_api a on a.channel_id = cs.channel_id
   where cs.id = any(p_listings) and c.stock_sync and c.platform <> 'STOREFRONT';
  if specs is null then
    return 0;
  end if;
  perform graphile_worker.add_jobs(specs, p_at is null);${extra}
  return cardinality(specs);
end $$;`;
}

/**
 * channelStockChanged also tells the board when a listing's state moves without a channel_sku column changing:
 * a stock change queued its push (PENDING, a new target), or its channel's stock sync was turned off (DISABLED)
 * or on. One notification per listing, sent on commit; PostgreSQL sends a listing named twice in a transaction
 * once.
 */
export class Migration20261203043000_listing_feed_notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      enqueueFunction(`
  perform pg_notify('hub_channel_stock', id::text) from unnest(queued) as id;`),
    );
    this.addSql(`create or replace function hub_notify_channel_listings() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_channel_stock', cs.id::text) from channel_sku cs where cs.channel_id = new.id;
  return null;
end $$;`);
    this.addSql(`create trigger channel_notify_stock_sync after update of stock_sync on "channel"
  for each row when (old.stock_sync is distinct from new.stock_sync)
  execute function hub_notify_channel_listings();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists channel_notify_stock_sync on "channel";`);
    this.addSql(`drop function if exists hub_notify_channel_listings();`);
    this.addSql(enqueueFunction(''));
  }
}
