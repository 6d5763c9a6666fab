import { Migration } from '@mikro-orm/migrations';

export const LEAVE_WAITING = `
  if p_at is null then
    -- A change: a listing whose job is waiting (not running) needs no other, as the job reads the number when
    -- it runs. The row lock keeps the worker from taking that job until this transaction ends, so it cannot
    -- read the number before this change commits; a job already running gets a new one below. Locked in
    -- (product, listing) order, as every enqueue takes job rows.
    select array_agg(w.id) into waiting
      from (select cs.id from channel_sku cs
              join graphile_worker._private_jobs j on j.key = 'stock-sync:' || cs.id
             where cs.id = any(p_listings) and j.locked_at is null and j.attempts < j.max_attempts
             order by cs.product_id, cs.id
             for update of j) w;
  end if;`;

export const NOTIFY_QUEUED = `
  perform pg_notify('hub_channel_stock', id::text) from unnest(queued) as id;`;

/**
 * The enqueue function as Migration20261202225134_stock_sync made it (jobs in (product, listing) order, as stock
 * transactions touch them, so that no two enqueues deadlock), with `notify` run for every listing whose push is
 * now waiting, and, with `leaveWaiting`, a change that finds its listing's job still waiting leaves it be
 * instead of writing it again (a hot product's changes cost one locked read each, not a job upsert and a queue
 * notification). `leaveWaiting` is the statement that finds those listings (empty: none is left).
 */
export function enqueueFunction(notify: string, leaveWaiting: string): string {
  return `create or replace function hub_stock_sync_enqueue(p_listings uuid[], p_at timestamptz default null)
returns int language plpgsql as $$
declare
  specs graphile_worker.job_spec[];
  queued uuid[];
  waiting uuid[];
begin${leaveWaiting}
  select array_agg(row('stock_sync', json_build_object('listingId', cs.id, 'channelId', cs.channel_id), null,
           coalesce(p_at, now() + make_interval(secs => coalesce(a.push_delay_ms, 1000) / 1000.0)), null,
           'stock-sync:' || cs.id, null, null)::graphile_worker.job_spec order by cs.product_id, cs.id),
         array_agg(cs.id order by cs.product_id, cs.id)
    into specs, queued
    from channel_sku cs
    join channel c on c.id = cs.channel_id
    left join channel_api a on a.channel_id = cs.channel_id
   where cs.id = any(p_listings) and c.stock_sync and c.platform <> 'STOREFRONT'
     and not (cs.id = any(coalesce(waiting, '{}')));
  if specs is not null then
    perform graphile_worker.add_jobs(specs, p_at is null);
  end if;
  queued := coalesce(queued, '{}') || coalesce(waiting, '{}');${notify}
  return cardinality(queued);
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
      enqueueFunction(NOTIFY_QUEUED, LEAVE_WAITING),
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
    this.addSql(enqueueFunction('', ''));
  }
}
