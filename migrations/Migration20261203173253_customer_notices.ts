import { Migration } from '@mikro-orm/migrations';

/**
 * Customer notices (SMS, WeChat subscribe messages): providers, templates, the WeChat token shared by every
 * process, the order's contacts and the channel's time zone.
 *
 * A notice is made by the database in the transaction that records the step (a statement trigger on
 * order_event): a rolled-back change makes none, and the unique (order, step) key makes a replayed event or a
 * redelivered webhook make no second one. Its graphile-worker job `customer_notice` (job_key
 * `customer-notice:<id>`) is queued in the same transaction; services/notices/sender.ts takes it.
 */
export class Migration20261203173253_customer_notices extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "notice_provider" ("provider" varchar(16) not null, "base_url" varchar(512) null, "key_id" varchar(128) not null, "secret_sealed" text not null, "sign_name" varchar(64) null, "updated_at" timestamptz not null default now(), constraint "notice_provider_pkey" primary key ("provider"));`);

    this.addSql(`create table "notice_template" ("id" bigserial primary key, "channel_id" uuid not null, "step" varchar(16) not null, "provider" varchar(16) not null, "template_code" varchar(128) not null, "params" jsonb not null, "urgent" boolean not null default false, "page" varchar(512) null, "updated_at" timestamptz not null default now());`);
    this.addSql(`alter table "notice_template" add constraint "notice_template_once" unique ("channel_id", "step", "provider");`);

    this.addSql(`create table "notice" ("id" bigserial primary key, "order_id" uuid not null, "channel_code" varchar(64) not null, "step" varchar(16) not null, "reached_at" timestamptz not null, "provider" varchar(16) null, "status" varchar(16) not null default 'QUEUED', "contact_masked" varchar(64) null, "template_code" varchar(64) null, "error" text null, "attempt_count" int not null default 0, "next_attempt_at" timestamptz null, "sending_owner" varchar(64) null, "sending_since" timestamptz null, "provider_message_id" varchar(64) null, "sent_at" timestamptz null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "notice_open_index" on "notice" ("id") where "status" in ('QUEUED', 'HELD');`);
    this.addSql(`alter table "notice" add constraint "notice_once" unique ("order_id", "step");`);

    this.addSql(`create table "wechat_token" ("app_id" varchar(128) not null, "token_sealed" text null, "expires_at" timestamptz null, constraint "wechat_token_pkey" primary key ("app_id"));`);

    this.addSql(`alter table "notice_template" add constraint "notice_template_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "notice" add constraint "notice_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "channel" add column "time_zone" varchar(64) not null default 'Asia/Shanghai', add column "notice_steps" text[] null;`);

    this.addSql(`alter table "order" add column "contact_phone" varchar(32) null, add column "wechat_open_id" varchar(128) null, add column "notices_opted_out_at" timestamptz null;`);
    // A job for each given notice still open that heads its order's line (no earlier notice of the order still
    // open), due at its next attempt (now when none is set): a customer hears of the steps in their order, and a
    // held or throttled notice holds the later ones back. The next one gets its job when the head is done.
    this.addSql(`create or replace function hub_notice_queue(p_notices bigint[]) returns int
language plpgsql as $$
declare
  specs graphile_worker.job_spec[];
begin
  select array_agg(row('customer_notice', json_build_object('noticeId', n.id::text), null,
           coalesce(n.next_attempt_at, now()), null, 'customer-notice:' || n.id, null, null)::graphile_worker.job_spec
           order by n.id)
    into specs
    from notice n
   where n.id = any(p_notices) and n.status in ('QUEUED', 'HELD')
     and not exists (select 1 from notice e
                      where e.order_id = n.order_id and e.status in ('QUEUED', 'HELD') and e.id < n.id);
  if specs is null then
    return 0;
  end if;
  perform graphile_worker.add_jobs(specs, false);
  return cardinality(specs);
end $$;`);
    // Steps reached: PAID, SHIPPED and DELIVERED as the order's status (a new order may arrive at one), and
    // PICKED_UP as a parcel's tracking event. Marketplaces send their own notices and mask the buyer's phone;
    // sub-orders are told through their sale; a CSV backfill tells no one of the past.
    this.addSql(`create or replace function hub_notices_on_order_events() returns trigger language plpgsql as $$
declare
  made bigint[];
begin
  -- Most events reach no step: nothing more is read for them.
  if not exists (select 1 from new_rows e
                  where (e.type in ('STATUS_CHANGED', 'CREATED') and e.to_status in ('PAID', 'SHIPPED', 'DELIVERED'))
                     or (e.type = 'SHIPMENT_UPDATED' and e.detail->>'status' = 'PICKED_UP')) then
    return null;
  end if;
  with reached as (
    select e.order_id, e.channel_code, s.step, min(e.at) as at
      from new_rows e
      cross join lateral (
        select case when e.type in ('STATUS_CHANGED', 'CREATED') and e.to_status in ('PAID', 'SHIPPED', 'DELIVERED')
                      then e.to_status::text
                    when e.type = 'SHIPMENT_UPDATED' and e.detail->>'status' = 'PICKED_UP' then 'PICKED_UP' end as step) s
     where s.step is not null
     group by e.order_id, e.channel_code, s.step
  ), made as (
    insert into notice (order_id, channel_code, step, reached_at)
    select r.order_id, r.channel_code, r.step, r.at
      from reached r
      join "order" o on o.id = r.order_id and o.parent_id is null and o.origin <> 'CSV'
      join channel c on c.id = o.channel_id and c.platform in ('STOREFRONT', 'YOUZAN', 'SHOPIFY')
     where r.step = any(coalesce(c.notice_steps, array['PAID', 'SHIPPED', 'PICKED_UP', 'DELIVERED']))
       and exists (select 1 from notice_template t where t.channel_id = c.id and t.step = r.step)
     -- Ids in the order the steps come, should one statement reach several.
     order by r.order_id, array_position(array['PAID', 'SHIPPED', 'PICKED_UP', 'DELIVERED'], r.step)
    on conflict (order_id, step) do nothing
    returning id)
  select array_agg(id) into made from made;
  if made is not null then
    perform hub_notice_queue(made);
  end if;
  return null;
end $$;`);
    this.addSql(`create trigger order_event_notices after insert on "order_event"
  referencing new table as new_rows for each statement execute function hub_notices_on_order_events();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists order_event_notices on "order_event";`);
    this.addSql(`drop function if exists hub_notices_on_order_events();`);
    this.addSql(`drop function if exists hub_notice_queue(bigint[]);`);
    this.addSql(`delete from graphile_worker._private_jobs where key like 'customer-notice:%';`);
    this.addSql(`drop table if exists "notice_provider" cascade;`);

    this.addSql(`drop table if exists "notice_template" cascade;`);

    this.addSql(`drop table if exists "notice" cascade;`);

    this.addSql(`drop table if exists "wechat_token" cascade;`);

    this.addSql(`alter table "channel" drop column "time_zone", drop column "notice_steps";`);

    this.addSql(`alter table "order" drop column "contact_phone", drop column "wechat_open_id", drop column "notices_opted_out_at";`);
  }

}
