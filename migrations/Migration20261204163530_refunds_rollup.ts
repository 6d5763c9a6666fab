import { Migration } from '@mikro-orm/migrations';

/**
 * Refunds in the reports' hourly sums (services/reports.ts reads them).
 *
 * - `hub_refund_lines(cases)`: the one rule for what a case covers and how its amount is split over those lines
 *   in whole cents. The reports read cases through it (the exact path, returnsReport), and so does the roll-up.
 * - `refunds_hourly`: refunds paid out (by refundedAt) per UTC hour, channel, the sale's current status,
 *   currency and product ('' for what no product takes), with the cases counted there. Triggers on the tables a
 *   case's count depends on (the case, its lines, its order's lines, its sale's status) recount the cases a
 *   statement touched, in its own transaction: `refund_share` holds what is counted for each case now, and the
 *   difference is appended to `refunds_hourly_change`, so no two changes wait on one summary row.
 *   `hub_sales_rollup()` folds these changes as it folds the sales'.
 */
export class Migration20261204163530_refunds_rollup extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "refunds_hourly" ("hour" timestamptz not null, "channel_id" uuid not null, "status" "order_status" not null, "currency_code" varchar(3) not null, "product_code" varchar(128) not null, "cases" bigint not null, "amount" numeric(20,2) not null, constraint "refunds_hourly_pkey" primary key ("hour", "channel_id", "status", "currency_code", "product_code"));`);
    this.addSql(`create table "refunds_hourly_change" ("id" bigserial primary key, "hour" timestamptz not null, "channel_id" uuid not null, "status" "order_status" not null, "currency_code" varchar(3) not null, "product_code" varchar(128) not null, "cases" bigint not null, "amount" numeric(20,2) not null);`);
    this.addSql(`create table "refund_share" ("id" bigserial primary key, "return_id" uuid not null, "hour" timestamptz not null, "channel_id" uuid not null, "status" "order_status" not null, "currency_code" varchar(3) not null, "product_code" varchar(128) not null, "amount" numeric(20,2) not null);`);
    this.addSql(`create index "refund_share_return_id_index" on "refund_share" ("return_id");`);
    this.addSql(`alter table "refunds_hourly" add constraint "refunds_hourly_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "refunds_hourly_change" add constraint "refunds_hourly_change_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    // A case covers its lines (a line's units: its quantity, or the whole order line's when null), or when it has
    // none, every line of its order; a line not matched to an order line counts with its own product code, or not
    // at all without one. The amount goes to the covered lines in proportion to their value (unit price × units),
    // in whole cents: each its share rounded down, the cents left over one each to the largest remainders, the
    // earlier line first on a tie. Lines of no value at all share equally. One row per covered line.
    this.addSql(`create or replace function hub_refund_lines(cases uuid[])
returns table (return_id uuid, product_code varchar, units int, amount numeric) language sql stable as $$
  with k as (select r.id, r.order_id, r.refund_amount from order_return r where r.id = any(cases)),
  covered as (
    select k.id as return_id, coalesce(l.product_code, rl.product_code) as product_code, rl.line_no as n,
           coalesce(rl.quantity, l.quantity, 0) as units,
           coalesce(l.unit_price * coalesce(rl.quantity, l.quantity), 0) as value
    from k join order_return_line rl on rl.return_id = k.id left join order_line l on l.id = rl.order_line_id
    where coalesce(l.product_code, rl.product_code) is not null
    union all
    select k.id, l.product_code, l.line_no, l.quantity, l.line_total
    from k join order_line l on l.order_id = k.order_id
    where not exists (select 1 from order_return_line rl where rl.return_id = k.id)
  ),
  exact as (
    select c.return_id, c.product_code, c.n, c.units, round(k.refund_amount * 100) as case_cents,
           k.refund_amount * 100 * case when sum(c.value) over w > 0 then c.value / sum(c.value) over w
                                        else 1.0 / count(*) over w end as cents
    from covered c join k on k.id = c.return_id
    window w as (partition by c.return_id)
  ),
  ranked as (
    select e.*, floor(e.cents) as whole,
           e.case_cents - sum(floor(e.cents)) over (partition by e.return_id) as left_over,
           row_number() over (partition by e.return_id order by e.cents - floor(e.cents) desc, e.n, e.product_code)
             as place
    from exact e
  )
  select r.return_id, r.product_code, r.units, (r.whole + case when r.place <= r.left_over then 1 else 0 end) / 100
  from ranked r
$$;`);
    // What the roll-up counts for these cases now: a case attached to its order, paid out (refundedAt), of a sale
    // not CANCELLED (its money is in neither gross nor refunds), with its sale's status (a case on a parcel counts
    // for the sale); per product, and '' for the rest of the amount (or all of a case covering no product).
    this.addSql(`create or replace function hub_refund_counted(cases uuid[])
returns table (return_id uuid, hour timestamptz, channel_id uuid, status order_status, currency_code varchar,
  product_code varchar, amount numeric) language sql stable as $$
  with k as (
    select r.id, date_trunc('hour', r.refunded_at, 'UTC') as hour, r.channel_id,
           coalesce(sale.status, o.status) as status, r.currency_code, r.refund_amount
    from order_return r
    join "order" o on o.id = r.order_id
    left join "order" sale on sale.id = o.parent_id
    where r.id = any(cases) and r.refunded_at is not null and coalesce(sale.status, o.status) <> 'CANCELLED'
  ),
  products as (
    select l.return_id, l.product_code, sum(l.amount) as amount
    from hub_refund_lines(array(select id from k)) l group by 1, 2
  ),
  rest as (
    select k.id, k.refund_amount - coalesce(sum(p.amount), 0) as amount, count(p.return_id) as products
    from k left join products p on p.return_id = k.id group by k.id, k.refund_amount
  )
  select k.id, k.hour, k.channel_id, k.status, k.currency_code, p.product_code, p.amount
  from k join products p on p.return_id = k.id
  union all
  select k.id, k.hour, k.channel_id, k.status, k.currency_code, '', r.amount
  from k join rest r on r.id = k.id where r.amount <> 0 or r.products = 0
$$;`);
    // The cases are locked first (a trigger on the order or its lines locks them after the order, as the returns
    // service does), so two recounts of one case never both start from the same counted rows.
    this.addSql(`create or replace function hub_refund_recount(cases uuid[]) returns void language plpgsql as $$
begin
  if cardinality(cases) is not distinct from 0 or cases is null then
    return;
  end if;
  perform 1 from order_return where id = any(cases) order by id for update;
  with gone as (
    delete from refund_share s where s.return_id = any(cases)
    returning s.hour, s.channel_id, s.status, s.currency_code, s.product_code, -1 as cases, -s.amount as amount
  ),
  counted as (
    insert into refund_share (return_id, hour, channel_id, status, currency_code, product_code, amount)
    select * from hub_refund_counted(cases)
    returning hour, channel_id, status, currency_code, product_code, 1 as cases, amount
  )
  insert into refunds_hourly_change (hour, channel_id, status, currency_code, product_code, cases, amount)
  select d.hour, d.channel_id, d.status, d.currency_code, d.product_code, sum(d.cases), sum(d.amount)
  from (select * from gone union all select * from counted) d
  group by 1, 2, 3, 4, 5
  having sum(d.cases) <> 0 or sum(d.amount) <> 0;
end $$;`);
    this.addSql(`create or replace function hub_refunds_on_case_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    perform hub_refund_recount(array(select id from new_rows where refunded_at is not null and order_id is not null));
  elsif tg_op = 'DELETE' then
    perform hub_refund_recount(array(select id from old_rows where refunded_at is not null));
  else
    perform hub_refund_recount(array(
      select n.id from old_rows o join new_rows n on n.id = o.id
      where (o.order_id, o.refunded_at, o.refund_amount, o.currency_code, o.channel_id)
        is distinct from (n.order_id, n.refunded_at, n.refund_amount, n.currency_code, n.channel_id)));
  end if;
  return null;
end $$;`);
    this.addSql(`create or replace function hub_refunds_on_case_truncate() returns trigger language plpgsql as $$
begin
  delete from refund_share;
  delete from refunds_hourly_change;
  delete from refunds_hourly;
  return null;
end $$;`);
    // Only paid-out cases count: a case without refundedAt has no counted rows to correct.
    this.addSql(`create or replace function hub_refunds_on_case_line_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    perform hub_refund_recount(array(select distinct d.return_id from new_rows d
      join order_return r on r.id = d.return_id where r.refunded_at is not null));
  elsif tg_op = 'DELETE' then
    perform hub_refund_recount(array(select distinct d.return_id from old_rows d
      join order_return r on r.id = d.return_id where r.refunded_at is not null));
  else
    perform hub_refund_recount(array(
      select distinct d.return_id from (
        select n.return_id from old_rows o join new_rows n on n.id = o.id
        where (o.return_id, o.order_line_id, o.product_code, o.quantity, o.line_no)
          is distinct from (n.return_id, n.order_line_id, n.product_code, n.quantity, n.line_no)
        union all
        select o.return_id from old_rows o join new_rows n on n.id = o.id where o.return_id <> n.return_id
      ) d join order_return r on r.id = d.return_id where r.refunded_at is not null));
  end if;
  return null;
end $$;`);
    // The orders' cases are found by the order_id index (an array, not a join to the transition table, which the
    // planner may read against every case); most statements name no order with a paid-out case and stop there.
    this.addSql(`create or replace function hub_refunds_on_order_line_change() returns trigger language plpgsql as $$
declare
  orders uuid[];
begin
  if tg_op = 'INSERT' then
    orders := array(select distinct order_id from new_rows);
  elsif tg_op = 'DELETE' then
    orders := array(select distinct order_id from old_rows);
  else
    orders := array(
      select n.order_id from old_rows o join new_rows n on n.id = o.id
      where (o.order_id, o.product_code, o.quantity, o.unit_price, o.line_total, o.line_no)
        is distinct from (n.order_id, n.product_code, n.quantity, n.unit_price, n.line_total, n.line_no)
      union
      select o.order_id from old_rows o join new_rows n on n.id = o.id where o.order_id <> n.order_id);
  end if;
  if cardinality(orders) > 0 then
    perform hub_refund_recount(array(
      select r.id from order_return r where r.order_id = any(orders) and r.refunded_at is not null));
  end if;
  return null;
end $$;`);
    // A sale's status (or becoming a parcel) changes which status its cases count under, or whether they count;
    // the cases on its parcels count with it.
    this.addSql(`create or replace function hub_refunds_on_order_update() returns trigger language plpgsql as $$
declare
  moved uuid[];
begin
  moved := array(
    select n.id from old_rows o join new_rows n on n.id = o.id
    where (o.status, o.parent_id) is distinct from (n.status, n.parent_id));
  if cardinality(moved) > 0 then
    perform hub_refund_recount(array(
      select r.id from order_return r where r.order_id = any(moved) and r.refunded_at is not null
      union
      select r.id from "order" c join order_return r on r.order_id = c.id
      where c.parent_id = any(moved) and r.refunded_at is not null));
  end if;
  return null;
end $$;`);
    this.addSql(`create or replace function hub_sales_rollup() returns bigint language plpgsql as $$
declare
  folded bigint;
  refunds bigint;
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
  with moved as (
    delete from refunds_hourly_change
    returning hour, channel_id, status, currency_code, product_code, cases, amount
  )
  insert into refunds_hourly (hour, channel_id, status, currency_code, product_code, cases, amount)
  select hour, channel_id, status, currency_code, product_code, sum(cases), sum(amount)
  from moved group by 1, 2, 3, 4, 5
  on conflict (hour, channel_id, status, currency_code, product_code) do update
    set cases = refunds_hourly.cases + excluded.cases,
        amount = refunds_hourly.amount + excluded.amount;
  get diagnostics refunds = row_count;
  return folded + refunds;
end $$;`);

    // Triggers first: they lock the tables against writers, so the count below misses nothing.
    this.addSql(`create trigger order_return_refunds_insert after insert on order_return
  referencing new table as new_rows for each statement execute function hub_refunds_on_case_change();`);
    this.addSql(`create trigger order_return_refunds_update after update on order_return
  referencing old table as old_rows new table as new_rows for each statement execute function hub_refunds_on_case_change();`);
    this.addSql(`create trigger order_return_refunds_delete after delete on order_return
  referencing old table as old_rows for each statement execute function hub_refunds_on_case_change();`);
    this.addSql(`create trigger order_return_refunds_truncate after truncate on order_return
  for each statement execute function hub_refunds_on_case_truncate();`);
    this.addSql(`create trigger order_return_line_refunds_insert after insert on order_return_line
  referencing new table as new_rows for each statement execute function hub_refunds_on_case_line_change();`);
    this.addSql(`create trigger order_return_line_refunds_update after update on order_return_line
  referencing old table as old_rows new table as new_rows for each statement execute function hub_refunds_on_case_line_change();`);
    this.addSql(`create trigger order_return_line_refunds_delete after delete on order_return_line
  referencing old table as old_rows for each statement execute function hub_refunds_on_case_line_change();`);
    this.addSql(`create trigger order_line_refunds_insert after insert on order_line
  referencing new table as new_rows for each statement execute function hub_refunds_on_order_line_change();`);
    this.addSql(`create trigger order_line_refunds_update after update on order_line
  referencing old table as old_rows new table as new_rows for each statement execute function hub_refunds_on_order_line_change();`);
    this.addSql(`create trigger order_line_refunds_delete after delete on order_line
  referencing old table as old_rows for each statement execute function hub_refunds_on_order_line_change();`);
    this.addSql(`create trigger order_refunds_update after update on "order"
  referencing old table as old_rows new table as new_rows for each statement execute function hub_refunds_on_order_update();`);
    this.addSql(`select hub_refund_recount(array(
  select id from order_return where refunded_at is not null and order_id is not null));`);
  }

  override async down(): Promise<void> {
    for (const t of ['order_return_refunds_insert', 'order_return_refunds_update', 'order_return_refunds_delete', 'order_return_refunds_truncate']) {
      this.addSql(`drop trigger if exists ${t} on order_return;`);
    }
    for (const t of ['order_return_line_refunds_insert', 'order_return_line_refunds_update', 'order_return_line_refunds_delete']) {
      this.addSql(`drop trigger if exists ${t} on order_return_line;`);
    }
    for (const t of ['order_line_refunds_insert', 'order_line_refunds_update', 'order_line_refunds_delete']) {
      this.addSql(`drop trigger if exists ${t} on order_line;`);
    }
    this.addSql(`drop trigger if exists order_refunds_update on "order";`);
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
    for (const f of [
      'hub_refunds_on_case_change()',
      'hub_refunds_on_case_truncate()',
      'hub_refunds_on_case_line_change()',
      'hub_refunds_on_order_line_change()',
      'hub_refunds_on_order_update()',
      'hub_refund_recount(uuid[])',
      'hub_refund_counted(uuid[])',
      'hub_refund_lines(uuid[])',
    ]) {
      this.addSql(`drop function if exists ${f};`);
    }
    this.addSql(`drop table if exists "refunds_hourly" cascade;`);
    this.addSql(`drop table if exists "refunds_hourly_change" cascade;`);
    this.addSql(`drop table if exists "refund_share" cascade;`);
  }
}
