import { Migration } from '@mikro-orm/migrations';

/**
 * What the reports read (services/reports.ts).
 *
 * - `order.packed_at`, kept by the status owner like the other milestones, and a partial index on each
 *   milestone: fulfillmentReport reads a month of stage ends by index instead of scanning every order.
 * - `sales_hourly`: orders, units and revenue of sales (orders without a parent: a split sale counts once) per
 *   UTC hour, channel, status and currency. Statement triggers on "order" and order_line write each change's
 *   difference to `sales_hourly_change` in the change's own transaction: appends only, so concurrent orders of
 *   one channel and hour never wait on one row. `hub_sales_rollup()` (every few seconds, one process at a time)
 *   folds the appended differences into `sales_hourly`; a report reads both, so it is exact at any moment.
 * - VOLUME_ANOMALY alerts are stored as stock alerts (so they are pushed, caught up and sent out like them),
 *   with their channel, hour, expected and actual counts; one per channel and hour.
 */
export class Migration20261204010000_reports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "order" add column "packed_at" timestamptz null;`);
    this.addSql(`update "order" o set packed_at = e.at
      from (select order_id, min(at) as at from order_event where to_status = 'PACKED' group by order_id) e
      where e.order_id = o.id;`);
    this.addSql(`update "order" c set packed_at = p.packed_at from "order" p
      where c.parent_id = p.id and c.packed_at is null and p.packed_at is not null
        and c.status in ('PACKED', 'SHIPPED', 'DELIVERED');`);
    for (const column of ['paid_at', 'packed_at', 'shipped_at', 'delivered_at']) {
      this.addSql(
        `create index "order_${column}_idx" on "order" ("${column}") where "${column}" is not null;`,
      );
    }

    this.addSql(`create table "sales_hourly" ("hour" timestamptz not null, "channel_id" uuid not null, "status" "order_status" not null, "currency_code" varchar(3) not null, "orders" bigint not null, "units" bigint not null, "revenue" numeric(20,2) not null, constraint "sales_hourly_pkey" primary key ("hour", "channel_id", "status", "currency_code"));`);
    this.addSql(`create table "sales_hourly_change" ("id" bigserial primary key, "hour" timestamptz not null, "channel_id" uuid not null, "status" "order_status" not null, "currency_code" varchar(3) not null, "orders" bigint not null, "units" bigint not null, "revenue" numeric(20,2) not null);`);
    this.addSql(`alter table "sales_hourly" add constraint "sales_hourly_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "sales_hourly_change" add constraint "sales_hourly_change_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`create or replace function hub_sales_on_order_insert() returns trigger language plpgsql as $$
begin
  insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
  select date_trunc('hour', n.placed_at, 'UTC'), n.channel_id, n.status, n.currency_code, count(*), 0, sum(n.total_amount)
  from new_rows n where n.parent_id is null
  group by 1, 2, 3, 4;
  return null;
end $$;`);
    // A sale that moves (status, time, channel, currency, total) takes its units along: lines are written only
    // with their order, so the order's own lines are all there is to move.
    this.addSql(`create or replace function hub_sales_on_order_update() returns trigger language plpgsql as $$
begin
  insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
  select c.hour, c.channel_id, c.status, c.currency_code, sum(c.orders), sum(c.units), sum(c.revenue)
  from old_rows o
  join new_rows n on n.id = o.id
    and (o.placed_at, o.channel_id, o.status, o.currency_code, o.total_amount, o.parent_id is null)
      is distinct from (n.placed_at, n.channel_id, n.status, n.currency_code, n.total_amount, n.parent_id is null)
  cross join lateral (select coalesce(sum(l.quantity), 0) as units from order_line l where l.order_id = n.id) q
  cross join lateral (values
    (date_trunc('hour', o.placed_at, 'UTC'), o.channel_id, o.status, o.currency_code, -1, -q.units, -o.total_amount,
     o.parent_id is null),
    (date_trunc('hour', n.placed_at, 'UTC'), n.channel_id, n.status, n.currency_code, 1, q.units, n.total_amount,
     n.parent_id is null)
  ) as c(hour, channel_id, status, currency_code, orders, units, revenue, sale)
  where c.sale
  group by 1, 2, 3, 4
  having sum(c.orders) <> 0 or sum(c.units) <> 0 or sum(c.revenue) <> 0;
  return null;
end $$;`);
    // Before the row goes, while its lines are still there; their own deletion then finds no order to count for.
    this.addSql(`create or replace function hub_sales_on_order_delete() returns trigger language plpgsql as $$
begin
  if old.parent_id is null then
    insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
    select date_trunc('hour', old.placed_at, 'UTC'), old.channel_id, old.status, old.currency_code, -1,
      -coalesce((select sum(quantity) from order_line where order_id = old.id), 0), -old.total_amount;
  end if;
  return old;
end $$;`);
    this.addSql(`create or replace function hub_sales_on_order_truncate() returns trigger language plpgsql as $$
begin
  delete from sales_hourly_change;
  delete from sales_hourly;
  return null;
end $$;`);
    // The order is found by its key alone, and sub-orders' lines count zero: with `parent_id is null` in the
    // join, a table without statistics yet (a new hub) was read along its parent_id index, all of it, per call.
    this.addSql(`create or replace function hub_sales_on_line_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
    select date_trunc('hour', o.placed_at, 'UTC'), o.channel_id, o.status, o.currency_code, 0,
      sum(case when o.parent_id is null then d.quantity else 0 end), 0
    from new_rows d join "order" o on o.id = d.order_id
    group by 1, 2, 3, 4
    having sum(case when o.parent_id is null then d.quantity else 0 end) <> 0;
  elsif tg_op = 'DELETE' then
    insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
    select date_trunc('hour', o.placed_at, 'UTC'), o.channel_id, o.status, o.currency_code, 0,
      -sum(case when o.parent_id is null then d.quantity else 0 end), 0
    from old_rows d join "order" o on o.id = d.order_id
    group by 1, 2, 3, 4
    having sum(case when o.parent_id is null then d.quantity else 0 end) <> 0;
  else
    insert into sales_hourly_change (hour, channel_id, status, currency_code, orders, units, revenue)
    select date_trunc('hour', o.placed_at, 'UTC'), o.channel_id, o.status, o.currency_code, 0,
      sum(case when o.parent_id is null then d.quantity else 0 end), 0
    from (select order_id, quantity from new_rows union all select order_id, -quantity from old_rows) d
    join "order" o on o.id = d.order_id
    group by 1, 2, 3, 4
    having sum(case when o.parent_id is null then d.quantity else 0 end) <> 0;
  end if;
  return null;
end $$;`);
    this.addSql(`create or replace function hub_sales_rollup() returns bigint language plpgsql as $$
declare
  folded bigint;
begin
  if not pg_try_advisory_xact_lock(hashtext('hub_sales_rollup')) then
    return 0;
  end if;
  with moved as (
    delete from sales_hourly_change
    returning hour, channel_id, status, currency_code, orders, units, revenue
  )
  insert into sales_hourly (hour, channel_id, status, currency_code, orders, units, revenue)
  select hour, channel_id, status, currency_code, sum(orders), sum(units), sum(revenue)
  from moved group by 1, 2, 3, 4
  on conflict (hour, channel_id, status, currency_code) do update
    set orders = sales_hourly.orders + excluded.orders,
        units = sales_hourly.units + excluded.units,
        revenue = sales_hourly.revenue + excluded.revenue;
  get diagnostics folded = row_count;
  return folded;
end $$;`);

    // Triggers first: they lock the tables against writers, so the backfill below misses nothing.
    this.addSql(`create trigger order_sales_insert after insert on "order"
  referencing new table as new_rows for each statement execute function hub_sales_on_order_insert();`);
    this.addSql(`create trigger order_sales_update after update on "order"
  referencing old table as old_rows new table as new_rows for each statement execute function hub_sales_on_order_update();`);
    this.addSql(`create trigger order_sales_delete before delete on "order"
  for each row execute function hub_sales_on_order_delete();`);
    this.addSql(`create trigger order_sales_truncate after truncate on "order"
  for each statement execute function hub_sales_on_order_truncate();`);
    this.addSql(`create trigger order_line_sales_insert after insert on order_line
  referencing new table as new_rows for each statement execute function hub_sales_on_line_change();`);
    this.addSql(`create trigger order_line_sales_update after update on order_line
  referencing old table as old_rows new table as new_rows for each statement execute function hub_sales_on_line_change();`);
    this.addSql(`create trigger order_line_sales_delete after delete on order_line
  referencing old table as old_rows for each statement execute function hub_sales_on_line_change();`);
    this.addSql(`insert into sales_hourly (hour, channel_id, status, currency_code, orders, units, revenue)
  select date_trunc('hour', o.placed_at, 'UTC'), o.channel_id, o.status, o.currency_code, count(*),
    coalesce(sum(l.units), 0), sum(o.total_amount)
  from "order" o
  left join (select order_id, sum(quantity) as units from order_line group by order_id) l on l.order_id = o.id
  where o.parent_id is null
  group by 1, 2, 3, 4;`);

    this.addSql(`alter table "stock_alert" add column "channel_code" varchar(64) null, add column "bucket_start" timestamptz null, add column "expected_orders" double precision null, add column "actual_orders" int null;`);
    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);
    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT', 'STOCK_SYNC_FAILED', 'VOLUME_ANOMALY'));`);
    this.addSql(`create unique index "stock_alert_volume_once" on "stock_alert" ("channel_code", "bucket_start") where "kind" = 'VOLUME_ANOMALY';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "stock_alert_volume_once";`);
    this.addSql(`delete from "stock_alert" where "kind" = 'VOLUME_ANOMALY';`);
    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);
    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT', 'STOCK_SYNC_FAILED'));`);
    this.addSql(`alter table "stock_alert" drop column "channel_code", drop column "bucket_start", drop column "expected_orders", drop column "actual_orders";`);

    for (const t of ['order_line_sales_insert', 'order_line_sales_update', 'order_line_sales_delete']) {
      this.addSql(`drop trigger if exists ${t} on order_line;`);
    }
    for (const t of ['order_sales_insert', 'order_sales_update', 'order_sales_delete', 'order_sales_truncate']) {
      this.addSql(`drop trigger if exists ${t} on "order";`);
    }
    for (const f of [
      'hub_sales_on_order_insert',
      'hub_sales_on_order_update',
      'hub_sales_on_order_delete',
      'hub_sales_on_order_truncate',
      'hub_sales_on_line_change',
      'hub_sales_rollup',
    ]) {
      this.addSql(`drop function if exists ${f}();`);
    }
    this.addSql(`drop table if exists "sales_hourly_change";`);
    this.addSql(`drop table if exists "sales_hourly";`);
    for (const column of ['paid_at', 'packed_at', 'shipped_at', 'delivered_at']) {
      this.addSql(`drop index if exists "order_${column}_idx";`);
    }
    this.addSql(`alter table "order" drop column "packed_at";`);
  }
}
