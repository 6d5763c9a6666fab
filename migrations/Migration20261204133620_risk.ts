import { Migration } from '@mikro-orm/migrations';

/**
 * Risky orders (services/risk.ts): the rules' thresholds (`risk_rule`), their findings (`risk_flag`, once per order and
 * kind), holds from shipping on the order, list prices, the RISK alert kind, and the buyer keys the rules compare
 * (address, unmasked phone, buyer), as immutable SQL functions with an index each on "order" by key and time.
 */
export class Migration20261204133620_risk extends Migration {

  override async up(): Promise<void> {
    // Text as a person would compare it: full-width to half-width (NFKC), one case, no spaces or punctuation.
    this.addSql(`create or replace function hub_risk_text(value text) returns text language sql immutable parallel safe
  return nullif(regexp_replace(lower(normalize(coalesce(value, ''), NFKC)), '[[:space:][:punct:]]+', '', 'g'), '');`);
    this.addSql(`create or replace function hub_risk_address(province text, city text, district text, line1 text)
  returns text language sql immutable parallel safe
  return hub_risk_text(concat(province, city, district, line1));`);
    // Digits (and a mask's stars) of a phone, without the +86 country code; null when too short to mean anyone.
    this.addSql(`create or replace function hub_risk_phone_digits(phone text) returns text language sql immutable parallel safe
  return (select case when length(d) < 7 then null when d ~ '^86[0-9*]{11}$' then substr(d, 3) else d end
          from (select regexp_replace(normalize(coalesce(phone, ''), NFKC), '[^0-9*]', '', 'g') as d) p);`);
    // A phone that names one person: unmasked only (138****5678 is ten thousand people).
    this.addSql(`create or replace function hub_risk_phone(phone text) returns text language sql immutable parallel safe
  return (select case when d like '%*%' then null else d end from (select hub_risk_phone_digits(phone) as d) p);`);
    // One buyer: the phone as platforms mask it (first three, last four digits), or the name when there is no
    // phone, at one address; so 138****5678 and 13812345678 at one address are the same buyer, at two are not.
    this.addSql(`create or replace function hub_risk_buyer(phone text, name text, province text, city text, district text, line1 text)
  returns text language sql immutable parallel safe
  return (select case when a is null or w is null then null else w || '|' || a end
          from (select hub_risk_address(province, city, district, line1) as a,
                  coalesce((select left(d, 3) || '*' || right(d, 4) from (select hub_risk_phone_digits(phone) as d) p
                            where d is not null), hub_risk_text(name)) as w) k);`);

    this.addSql(`create table "risk_flag" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "order_id" uuid not null, "kind" text check ("kind" in ('BRUSHING', 'SERIAL_RETURNER', 'VELOCITY', 'MISMATCH')) not null, "score" double precision not null, "reason" text not null, "detail" jsonb null, "at" timestamptz not null default now(), "resolved_at" timestamptz null, "resolved_by" varchar(64) null, "resolution_note" text null, constraint "risk_flag_pkey" primary key ("id"));`);
    this.addSql(`create index "risk_flag_at_idx" on "risk_flag" ("at");`);
    this.addSql(`alter table "risk_flag" add constraint "risk_flag_order_kind_unique" unique ("order_id", "kind");`);

    this.addSql(`create table "risk_rule" ("kind" varchar(32) not null, "enabled" boolean not null, "params" jsonb not null, "updated_at" timestamptz not null default now(), "updated_by" varchar(64) not null, constraint "risk_rule_pkey" primary key ("kind"));`);

    this.addSql(`alter table "risk_flag" add constraint "risk_flag_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`alter table "order" add column "held_at" timestamptz null, add column "held_reason" text null, add column "held_by" varchar(64) null;`);
    this.addSql(`create index "order_risk_buyer_idx" on "order" (hub_risk_buyer(ship_phone, coalesce(ship_name, customer_name), ship_province, ship_city, ship_district, ship_line1), placed_at);`);
    this.addSql(`create index "order_risk_phone_idx" on "order" (hub_risk_phone(ship_phone), placed_at);`);
    this.addSql(`create index "order_risk_address_idx" on "order" (hub_risk_address(ship_province, ship_city, ship_district, ship_line1), placed_at);`);

    this.addSql(`alter table "product" add column "list_price" numeric(14,2) null;`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT', 'STOCK_SYNC_FAILED', 'VOLUME_ANOMALY', 'RISK'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "risk_flag" cascade;`);

    this.addSql(`drop table if exists "risk_rule" cascade;`);

    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`drop index "order_risk_buyer_idx";`);
    this.addSql(`drop index "order_risk_phone_idx";`);
    this.addSql(`drop index "order_risk_address_idx";`);
    this.addSql(`alter table "order" drop column "held_at", drop column "held_reason", drop column "held_by";`);

    this.addSql(`alter table "product" drop column "list_price";`);
    this.addSql(`delete from "stock_alert" where "kind" = 'RISK';`);
    for (const f of [
      'hub_risk_buyer(text, text, text, text, text, text)',
      'hub_risk_phone(text)',
      'hub_risk_phone_digits(text)',
      'hub_risk_address(text, text, text, text)',
      'hub_risk_text(text)',
    ]) {
      this.addSql(`drop function if exists ${f};`);
    }

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT', 'STOCK_SYNC_FAILED', 'VOLUME_ANOMALY'));`);
  }

}
