import { Migration } from '@mikro-orm/migrations';

// The listings are found one product at a time (OFFSET 0 keeps the lookup from becoming a join the planner
// could turn into a scan of every listing: transition tables have no statistics).
export const ON_STOCK_UPDATE_PER_STATEMENT = `create or replace function hub_stock_sync_on_stock_update() returns trigger language plpgsql as $$
declare
  listings uuid[];
begin
  listings := array(
    select l.id from new_rows n
      join old_rows o on o.id = n.id
      cross join lateral (select cs.id from channel_sku cs where cs.product_id = n.product_id offset 0) l
     where o.on_hand - o.reserved is distinct from n.on_hand - n.reserved);
  if cardinality(listings) > 0 then
    perform hub_stock_sync_enqueue(listings);
  end if;
  return null;
end $$;`;

/**
 * A stock change queues its pushes once per statement, not once per row: an order of 20 lines moves 20
 * inventory rows in one UPDATE, and 20 runs of the enqueue (each with its own lookups, job writes and
 * graphile-worker notification) cost more than the order itself. The transition tables hold the rows the
 * statement changed; the listings of those whose sellable number moved are queued together, in the same
 * (product, listing) order as before. (A trigger with transition tables cannot name columns, so it fires
 * on every UPDATE and compares the numbers itself.)
 */
export class Migration20261203081000_stock_sync_per_statement extends Migration {
  override async up(): Promise<void> {
    this.addSql(ON_STOCK_UPDATE_PER_STATEMENT);
    this.addSql(`drop trigger if exists inventory_item_stock_sync on "inventory_item";`);
    this.addSql(`create trigger inventory_item_stock_sync after update on "inventory_item"
  referencing old table as old_rows new table as new_rows
  for each statement execute function hub_stock_sync_on_stock_update();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists inventory_item_stock_sync on "inventory_item";`);
    this.addSql(`create trigger inventory_item_stock_sync after update of on_hand, reserved on "inventory_item"
  for each row when (old.on_hand - old.reserved is distinct from new.on_hand - new.reserved)
  execute function hub_stock_sync_on_change();`);
    this.addSql(`drop function if exists hub_stock_sync_on_stock_update();`);
  }
}
