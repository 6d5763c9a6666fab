import { Migration } from '@mikro-orm/migrations';
import { ON_STOCK_UPDATE_PER_STATEMENT } from './Migration20261203081000_stock_sync_per_statement.js';

/**
 * A stock change queues one job for its product, not one per listing: the order's transaction (which holds the
 * product's stock row locked meanwhile) probes or writes one job row instead of seven, and a product listed on
 * no channel that syncs costs nothing at all. Each process's sync loop hands the due product jobs on to the
 * product's listings at its next poll (hub_stock_sync_fan_out), where a listing's own job coalesces as before;
 * the number is still read when the listing's push runs. The other causes (a cap, a mapping, credentials,
 * safety stock closing a channel) name their listings and queue them directly.
 */
export class Migration20261203150000_product_stock_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function hub_stock_sync_on_stock_update() returns trigger language plpgsql as $$
declare
  listings uuid[];
  moved uuid[];
  waiting uuid[];
  specs graphile_worker.job_spec[];
begin
  -- The listings on channels that sync of the products whose sellable number moved, and those products in
  -- product order (as every enqueue takes job rows). OFFSET 0: transition tables have no statistics, so each
  -- lookup stays a probe.
  select array_agg(l.id order by l.id), array_agg(distinct m.product_id order by m.product_id)
    into listings, moved
    from (select distinct n.product_id from new_rows n join old_rows o on o.id = n.id
           where o.on_hand - o.reserved is distinct from n.on_hand - n.reserved) m
    cross join lateral (select cs.id from channel_sku cs join channel c on c.id = cs.channel_id
                         where cs.product_id = m.product_id and c.stock_sync and c.platform <> 'STOREFRONT'
                         offset 0) l;
  if listings is null then
    return null;
  end if;
  -- They wait for a push from now on, with a new target: channelStockChanged hears it on commit, in one
  -- notification per hundred listings (the payload's limit is 8,000 bytes).
  perform pg_notify('hub_channel_stock', string_agg(l.id::text, ','))
    from unnest(listings) with ordinality as l(id, n)
   group by (l.n - 1) / 100;
  -- A product whose job still waits needs no other. The row lock keeps the sync from handing that job on
  -- (and so its listings from reading the number) until this transaction ends.
  select array_agg(m.id) into waiting
    from unnest(moved) as m(id)
    cross join lateral (select j.id from graphile_worker._private_jobs j
                         where j.key = 'stock-sync-product:' || m.id and j.locked_at is null
                           and j.attempts < j.max_attempts
                         for update) j;
  select array_agg(row('stock_sync_product', json_build_object('productId', m.id), null, now(), null,
           'stock-sync-product:' || m.id, null, null)::graphile_worker.job_spec order by m.id)
    into specs
    from unnest(moved) as m(id)
   where not (m.id = any(coalesce(waiting, '{}')));
  if specs is not null then
    perform graphile_worker.add_jobs(specs, true);
  end if;
  return null;
end $$;`);
    // Due product jobs, taken and completed in one statement with the queueing of their listings' pushes
    // (SKIP LOCKED: a job a stock change still holds is handed on at a later poll, after that change commits).
    this.addSql(`create or replace function hub_stock_sync_fan_out(p_limit int) returns int language plpgsql as $$
declare
  products uuid[];
begin
  select array_agg((j.payload->>'productId')::uuid) into products
    from graphile_worker.complete_jobs(array(
      select j.id from graphile_worker._private_jobs j
       where j.is_available and j.job_queue_id is null and j.run_at <= now()
         and j.key like 'stock-sync-product:%'
       order by j.run_at
       limit p_limit
       for update skip locked)) j;
  if products is null then
    return 0;
  end if;
  perform hub_stock_sync_enqueue(array(select cs.id from channel_sku cs where cs.product_id = any(products)));
  return cardinality(products);
end $$;`);
  }

  override async down(): Promise<void> {
    // The product jobs still waiting become their listings' jobs, so no push is lost.
    this.addSql(`select hub_stock_sync_fan_out(2147483647);`);
    this.addSql(`drop function if exists hub_stock_sync_fan_out(int);`);
    this.addSql(ON_STOCK_UPDATE_PER_STATEMENT);
  }
}
