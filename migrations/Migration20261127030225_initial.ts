import { Migration } from '@mikro-orm/migrations';

export class Migration20261127030225_initial extends Migration {

  override async up(): Promise<void> {
    // Trigram search for the customerName filter; a trusted extension, so a database owner may create it.
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`create type "order_status" as enum ('PENDING_PAYMENT', 'PAID', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED');`);
    this.addSql(`create table "channel" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "code" varchar(64) not null, "platform" text check ("platform" in ('TAOBAO', 'JD', 'PINDUODUO', 'DOUYIN', 'KUAISHOU', 'YOUZAN', 'SHOPIFY', 'STOREFRONT')) not null, "name" varchar(255) not null, "is_core" boolean not null default false, "sales_open" boolean not null default true, "ingestion_modes" text[] not null, "health" text check ("health" in ('UP', 'DEGRADED', 'DOWN', 'UNKNOWN')) not null default 'UNKNOWN', "last_heartbeat_at" timestamptz null, "last_order_at" timestamptz null, "webhook_secret" varchar(255) null, "api_base_url" varchar(255) null, "poll_cursor" varchar(255) null, constraint "channel_pkey" primary key ("id"));`);
    this.addSql(`alter table "channel" add constraint "channel_code_unique" unique ("code");`);

    this.addSql(`create table "api_key" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "role" text check ("role" in ('ADMIN', 'OPS', 'STOREFRONT', 'ANALYST', 'CONNECTOR')) not null, "channel_id" uuid null, "label" varchar(255) not null, "secret_hash" varchar(64) not null, "revoked_at" timestamptz null, constraint "api_key_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_key" add constraint "api_key_secret_hash_unique" unique ("secret_hash");`);

    this.addSql(`create table "ingest_log" ("id" bigserial primary key, "channel_code" varchar(64) not null, "source" text check ("source" in ('WEBHOOK', 'POLL', 'CSV', 'API')) not null, "raw_body" text not null, "received_at" timestamptz not null default now(), "outcome" text check ("outcome" in ('RECEIVED', 'CREATED', 'UPDATED', 'DUPLICATE', 'FAILED')) not null default 'RECEIVED', "error" text null, "external_id" varchar(128) null, "order_id" uuid null, "processed_at" timestamptz null);`);
    this.addSql(`create index "ingest_log_channel_code_received_at_index" on "ingest_log" ("channel_code", "received_at");`);
    this.addSql(`create index "ingest_log_outcome_received_at_index" on "ingest_log" ("outcome", "received_at");`);

    this.addSql(`create table "order" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "channel_id" uuid not null, "external_id" varchar(128) not null, "status" "order_status" not null, "customer_name" varchar(255) not null, "ship_name" varchar(255) null, "ship_phone" varchar(255) null, "ship_province" varchar(255) null, "ship_city" varchar(255) null, "ship_district" varchar(255) null, "ship_line1" text not null, "ship_postal_code" varchar(255) null, "ship_country" varchar(2) not null default 'CN', "ship_remote" boolean not null default false, "total_amount" numeric(14,2) not null, "currency_code" varchar(3) not null default 'CNY', "placed_at" timestamptz not null, "paid_at" timestamptz null, "shipped_at" timestamptz null, "delivered_at" timestamptz null, "parent_id" uuid null, "raw" jsonb null, constraint "order_pkey" primary key ("id"));`);
    this.addSql(`create index "order_parent_id_index" on "order" ("parent_id");`);
    this.addSql(`create index "order_customer_name_idx" on "order" using gin ("customer_name" gin_trgm_ops);`);
    this.addSql(`create index "order_external_id_idx" on "order" ("external_id");`);
    this.addSql(`create index "order_channel_placed_at_idx" on "order" ("channel_id", "placed_at");`);
    this.addSql(`create index "order_status_idx" on "order" ("status", "id");`);
    this.addSql(`create index "order_total_idx" on "order" ("total_amount", "id");`);
    this.addSql(`create index "order_placed_at_idx" on "order" ("placed_at", "id");`);
    this.addSql(`alter table "order" add constraint "order_channel_external_id_unique" unique ("channel_id", "external_id");`);

    this.addSql(`create table "order_event" ("seq" bigserial primary key, "order_id" uuid not null, "channel_code" varchar(64) not null, "type" varchar(32) not null, "from_status" "order_status" null, "to_status" "order_status" null, "at" timestamptz not null default now(), "source" varchar(64) not null, "detail" jsonb null);`);
    this.addSql(`create index "order_event_channel_code_seq_index" on "order_event" ("channel_code", "seq");`);
    this.addSql(`create index "order_event_order_id_seq_index" on "order_event" ("order_id", "seq");`);

    this.addSql(`create table "product" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "product_code" varchar(128) not null, "name" varchar(255) not null, "cold_chain" boolean not null default false, "closed_on_channels" text[] not null default '{}', constraint "product_pkey" primary key ("id"));`);
    this.addSql(`alter table "product" add constraint "product_product_code_unique" unique ("product_code");`);

    this.addSql(`create table "order_line" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "order_id" uuid not null, "line_no" int not null, "product_code" varchar(128) not null, "product_id" uuid null, "platform_sku_id" varchar(128) null, "quantity" int not null, "unit_price" numeric(14,2) not null, "line_total" numeric(14,2) not null, constraint "order_line_pkey" primary key ("id"), constraint order_line_quantity_positive check (quantity > 0));`);
    this.addSql(`create index "order_line_order_id_index" on "order_line" ("order_id");`);
    this.addSql(`create index "order_line_product_id_index" on "order_line" ("product_id");`);
    this.addSql(`create index "order_line_product_code_idx" on "order_line" ("product_code", "order_id");`);

    this.addSql(`create table "inventory_item" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "product_id" uuid not null, "product_code" varchar(128) not null, "on_hand" int not null default 0, "reserved" int not null default 0, "safety_stock" int not null default 0, constraint "inventory_item_pkey" primary key ("id"), constraint inventory_item_safety_stock_not_negative check (safety_stock >= 0), constraint inventory_item_reserved_within_on_hand check (reserved >= 0 and on_hand >= reserved));`);
    this.addSql(`alter table "inventory_item" add constraint "inventory_item_product_id_unique" unique ("product_id");`);

    this.addSql(`create table "channel_sku" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "channel_id" uuid not null, "platform_sku_id" varchar(128) not null, "product_id" uuid not null, constraint "channel_sku_pkey" primary key ("id"));`);
    this.addSql(`alter table "channel_sku" add constraint "channel_sku_once" unique ("channel_id", "platform_sku_id");`);

    this.addSql(`create table "reconciliation_report" ("id" uuid not null default gen_random_uuid(), "tolerance_percent" double precision not null, "mismatches" int not null, "created_at" timestamptz not null default now(), constraint "reconciliation_report_pkey" primary key ("id"));`);

    this.addSql(`create table "reconciliation_line" ("id" bigserial primary key, "report_id" uuid not null, "line_no" int not null, "product_code" varchar(128) not null, "system_on_hand" int not null, "physical_count" int not null, "difference_percent" double precision not null, "mismatch" boolean not null);`);
    this.addSql(`create index "reconciliation_line_report_id_index" on "reconciliation_line" ("report_id");`);

    this.addSql(`create table "reservation" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "product_id" uuid not null, "product_code" varchar(128) not null, "order_id" uuid null, "quantity" int not null, "status" text check ("status" in ('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED')) not null default 'HELD', "expires_at" timestamptz not null, "channel_code" varchar(64) null, constraint "reservation_pkey" primary key ("id"), constraint reservation_quantity_positive check (quantity > 0));`);
    this.addSql(`create index "reservation_order_id_index" on "reservation" ("order_id");`);
    this.addSql(`create index "reservation_held_expiry_idx" on "reservation" ("expires_at") where "status" = 'HELD';`);

    this.addSql(`create table "shipment" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "order_id" uuid not null, "carrier" varchar(64) not null, "tracking_number" varchar(128) not null, "status" text check ("status" in ('LABEL_CREATED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION')) not null default 'LABEL_CREATED', constraint "shipment_pkey" primary key ("id"));`);
    this.addSql(`create index "shipment_order_id_index" on "shipment" ("order_id");`);
    this.addSql(`alter table "shipment" add constraint "shipment_tracking_number_unique" unique ("tracking_number");`);

    this.addSql(`create table "shipment_event" ("id" bigserial primary key, "shipment_id" uuid not null, "status" text check ("status" in ('LABEL_CREATED', 'PICKED_UP', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION')) not null, "description" text null, "occurred_at" timestamptz not null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "shipment_event_shipment_id_occurred_at_index" on "shipment_event" ("shipment_id", "occurred_at");`);
    this.addSql(`alter table "shipment_event" add constraint "shipment_event_once" unique ("shipment_id", "status", "occurred_at");`);

    this.addSql(`create table "stock_alert" ("id" bigserial primary key, "kind" text check ("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP')) not null, "product_id" uuid null, "product_code" varchar(128) not null, "available" int not null, "threshold" int null, "message" text not null, "channels_closed" text[] not null default '{}', "channels_reopened" text[] not null default '{}', "order_id" uuid null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "stock_alert_created_at_index" on "stock_alert" ("created_at");`);
    this.addSql(`create index "stock_alert_product_code_created_at_index" on "stock_alert" ("product_code", "created_at");`);

    this.addSql(`create table "stock_movement" ("id" bigserial primary key, "product_id" uuid not null, "delta" int not null, "on_hand_after" int not null, "reason" varchar(255) not null, "actor" varchar(255) not null, "order_id" uuid null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "stock_movement_product_id_created_at_index" on "stock_movement" ("product_id", "created_at");`);

    this.addSql(`alter table "api_key" add constraint "api_key_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "order" add constraint "order_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "order" add constraint "order_parent_id_foreign" foreign key ("parent_id") references "order" ("id") on update cascade on delete restrict;`);

    this.addSql(`alter table "order_event" add constraint "order_event_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "order_line" add constraint "order_line_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "order_line" add constraint "order_line_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "inventory_item" add constraint "inventory_item_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "channel_sku" add constraint "channel_sku_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "channel_sku" add constraint "channel_sku_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "reconciliation_line" add constraint "reconciliation_line_report_id_foreign" foreign key ("report_id") references "reconciliation_report" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "reservation" add constraint "reservation_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "reservation" add constraint "reservation_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "shipment" add constraint "shipment_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "shipment_event" add constraint "shipment_event_shipment_id_foreign" foreign key ("shipment_id") references "shipment" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "stock_movement" add constraint "stock_movement_product_id_foreign" foreign key ("product_id") references "product" ("id") on update cascade on delete cascade;`);
  }
}
