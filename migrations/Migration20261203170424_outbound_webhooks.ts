import { Migration } from '@mikro-orm/migrations';
import { numberOrderEventsFunction } from './Migration20261127055000_order_event_numbering.js';

/**
 * Outbound webhooks (Standard Webhooks): endpoints, one delivery per (event, endpoint), and each attempt.
 *
 * An order event gets its deliveries when it is numbered (hub_number_order_events, one numberer at a time, in
 * commit order), so they exist only for committed events, carry the event's public `seq`, and cost the order's
 * own transaction nothing. A stock alert gets them in its own transaction (a trigger on stock_alert). Either
 * way the delivery at the head of its line (one endpoint, one order or product) gets a graphile-worker job
 * `webhook_delivery` in the same transaction; when it is delivered or given up, the next in its line gets one.
 */
export class Migration20261203170424_outbound_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_endpoint" ("id" uuid not null default gen_random_uuid(), "url" varchar(2048) not null, "events" text[] not null, "channel_codes" text[] null, "description" varchar(500) null, "enabled" boolean not null default true, "disabled_reason" text null, "secret_sealed" text not null, "previous_secret_sealed" text null, "previous_secret_until" timestamptz null, "failing_since" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "webhook_endpoint_pkey" primary key ("id"));`);

    this.addSql(`create table "outbound_delivery" ("id" bigserial primary key, "webhook_id" varchar(64) not null, "endpoint_id" uuid not null, "event_type" varchar(64) not null, "ordering_key" varchar(200) not null, "order_id" uuid null, "event_seq" bigint null, "alert_id" bigint null, "occurred_at" timestamptz not null, "body" text null, "status" varchar(16) not null default 'PENDING', "attempt_count" int not null default 0, "next_attempt_at" timestamptz null, "sending_owner" varchar(64) null, "sending_since" timestamptz null, "created_at" timestamptz not null default now(), "delivered_at" timestamptz null);`);
    this.addSql(`create index "outbound_delivery_line_index" on "outbound_delivery" ("endpoint_id", "ordering_key", "id") where "status" = 'PENDING';`);
    this.addSql(`create index "outbound_delivery_endpoint_id_index" on "outbound_delivery" ("endpoint_id", "id");`);
    this.addSql(`alter table "outbound_delivery" add constraint "outbound_delivery_once" unique ("endpoint_id", "webhook_id");`);

    this.addSql(`create table "outbound_attempt" ("id" bigserial primary key, "delivery_id" bigint not null, "started_at" timestamptz not null, "duration_ms" int not null, "status_code" int null, "response" text null, "error" text null, "next_attempt_at" timestamptz null);`);
    this.addSql(`create index "outbound_attempt_delivery_id_id_index" on "outbound_attempt" ("delivery_id", "id");`);

    this.addSql(`alter table "outbound_delivery" add constraint "outbound_delivery_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoint" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "outbound_attempt" add constraint "outbound_attempt_delivery_id_foreign" foreign key ("delivery_id") references "outbound_delivery" ("id") on update cascade on delete cascade;`);
    // A job for each delivery given that heads its line (nothing earlier still pending for that endpoint and
    // key), due at its next attempt. Another job of the same delivery is replaced.
    // Planned for the tables as they are at each call (set plan_cache_mode): these tables grow from nothing
    // in minutes, and a plan cached for an empty table scanned all of it at every call after.
    this.addSql(`create or replace function hub_webhook_queue_heads(p_deliveries bigint[]) returns int
language plpgsql set plan_cache_mode = force_custom_plan as $$
declare
  specs graphile_worker.job_spec[];
begin
  select array_agg(row('webhook_delivery', json_build_object('deliveryId', d.id::text, 'endpointId', d.endpoint_id),
           null, coalesce(d.next_attempt_at, now()), null, 'webhook-delivery:' || d.id, null, null)::graphile_worker.job_spec
           order by d.id)
    into specs
    -- Each given id looked up by key: the table grows faster than its statistics, and a plan made for a small
    -- table scanned every pending delivery.
    from unnest(p_deliveries) as given(id)
    join outbound_delivery d on d.id = given.id
    join webhook_endpoint w on w.id = d.endpoint_id and w.enabled
   where d.status = 'PENDING'
     and not exists (select 1 from outbound_delivery e
                      where e.endpoint_id = d.endpoint_id and e.ordering_key = d.ordering_key
                        and e.status = 'PENDING' and e.id < d.id);
  if specs is null then
    return 0;
  end if;
  perform graphile_worker.add_jobs(specs, false);
  return cardinality(specs);
end $$;`);
    // The head of each given line, queued.
    this.addSql(`create or replace function hub_webhook_queue_lines(p_endpoints uuid[], p_keys text[]) returns int
language sql set plan_cache_mode = force_custom_plan as $$
  select hub_webhook_queue_heads(array(
    select min(d.id) from unnest(p_endpoints, p_keys) as l(endpoint_id, ordering_key)
      join outbound_delivery d on d.endpoint_id = l.endpoint_id and d.ordering_key = l.ordering_key
                               and d.status = 'PENDING'
     group by l.endpoint_id, l.ordering_key))
$$;`);
    this.addSql(`create or replace function hub_webhook_order_events(p_after bigint) returns void language plpgsql
set plan_cache_mode = force_custom_plan as $$
declare
  made bigint[];
begin
  if not exists (select 1 from webhook_endpoint where enabled) then
    return;
  end if;
  with made as (
    insert into outbound_delivery (webhook_id, endpoint_id, event_type, ordering_key, order_id, event_seq, occurred_at)
    select 'msg_order_' || e.seq, w.id, t.type, 'order:' || e.order_id, e.order_id, e.seq, e.at
      from order_event e
      cross join lateral (select case e.type when 'CREATED' then 'order.created'
                                             when 'STATUS_CHANGED' then 'order.status_changed'
                                             when 'SHIPMENT_UPDATED' then 'shipment.updated' end as type) t
      join webhook_endpoint w on w.enabled and t.type = any(w.events)
                             and (w.channel_codes is null or e.channel_code = any(w.channel_codes))
     where e.seq > p_after
     order by e.seq, w.id
    on conflict do nothing
    returning id)
  select array_agg(id) into made from made;
  if made is not null then
    perform hub_webhook_queue_heads(made);
  end if;
end $$;`);
    this.addSql(numberOrderEventsFunction(`
    -- The merchants' webhooks hear of these events: their deliveries commit with the numbers.
    perform hub_webhook_order_events(top);`));
    this.addSql(`create or replace function hub_webhook_stock_alerts() returns trigger language plpgsql
set plan_cache_mode = force_custom_plan as $$
declare
  made bigint[];
begin
  if not exists (select 1 from webhook_endpoint where enabled) then
    return null;
  end if;
  with made as (
    insert into outbound_delivery (webhook_id, endpoint_id, event_type, ordering_key, alert_id, occurred_at)
    select 'msg_alert_' || a.id, w.id, t.type, 'product:' || a.product_code, a.id, a.created_at
      from new_rows a
      cross join lateral (select case when a.kind = 'STOCK_SYNC_FAILED' then 'stock.sync_failed'
                                      else 'stock.alert' end as type) t
      -- An endpoint limited to some channels hears of an alert that names one of them, or names none.
      join webhook_endpoint w on w.enabled and t.type = any(w.events)
                             and (w.channel_codes is null
                                  or cardinality(a.channels_closed || a.channels_reopened) = 0
                                  or (a.channels_closed || a.channels_reopened) && w.channel_codes)
     order by a.id, w.id
    on conflict do nothing
    returning id)
  select array_agg(id) into made from made;
  if made is not null then
    perform hub_webhook_queue_heads(made);
  end if;
  return null;
end $$;`);
    this.addSql(`create trigger stock_alert_webhooks after insert on "stock_alert"
  referencing new table as new_rows for each statement execute function hub_webhook_stock_alerts();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists stock_alert_webhooks on "stock_alert";`);
    this.addSql(`drop function if exists hub_webhook_stock_alerts();`);
    this.addSql(numberOrderEventsFunction(''));
    this.addSql(`drop function if exists hub_webhook_order_events(bigint);`);
    this.addSql(`drop function if exists hub_webhook_queue_lines(uuid[], text[]);`);
    this.addSql(`drop function if exists hub_webhook_queue_heads(bigint[]);`);
    this.addSql(`delete from graphile_worker._private_jobs where key like 'webhook-delivery:%';`);
    this.addSql(`alter table "outbound_delivery" drop constraint "outbound_delivery_endpoint_id_foreign";`);

    this.addSql(`alter table "outbound_attempt" drop constraint "outbound_attempt_delivery_id_foreign";`);

    this.addSql(`drop table if exists "webhook_endpoint" cascade;`);

    this.addSql(`drop table if exists "outbound_delivery" cascade;`);

    this.addSql(`drop table if exists "outbound_attempt" cascade;`);
  }

}
