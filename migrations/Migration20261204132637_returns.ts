import { Migration } from '@mikro-orm/migrations';

/** After-sale cases (returns, refunds) with their lines and timeline; refunded money and units on orders; quarantine. */
export class Migration20261204132637_returns extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "order_return" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "channel_id" uuid not null, "refund_id" varchar(128) not null, "external_id" varchar(128) not null, "order_id" uuid null, "kind" text check ("kind" in ('REFUND_ONLY', 'RETURN_AND_REFUND', 'EXCHANGE')) not null, "status" text check ("status" in ('REQUESTED', 'APPROVED', 'RETURN_IN_TRANSIT', 'RETURN_RECEIVED', 'REFUNDED', 'REJECTED', 'CANCELLED')) not null, "platform_status" varchar(64) not null, "goods_returned" boolean null, "refund_amount" numeric(14,2) not null, "currency_code" varchar(3) not null default 'CNY', "reason_text" text null, "reason_code" varchar(64) null, "reason_class" text check ("reason_class" in ('QUALITY', 'WRONG_OR_MISSING', 'DAMAGED_IN_TRANSIT', 'NOT_AS_DESCRIBED', 'BUYER_REMORSE', 'OTHER')) not null, "responsible" text check ("responsible" in ('MERCHANT', 'CARRIER', 'BUYER', 'UNKNOWN')) not null, "return_tracking_number" varchar(128) null, "return_carrier" varchar(64) null, "requested_at" timestamptz not null, "platform_updated_at" timestamptz not null, "received_at" timestamptz null, "refunded_at" timestamptz null, "raw" jsonb null, constraint "order_return_pkey" primary key ("id"), constraint order_return_refund_amount_not_negative check (refund_amount >= 0));`);
    this.addSql(`create index "order_return_refunded_at_idx" on "order_return" ("refunded_at") where "refunded_at" is not null;`);
    this.addSql(`create index "order_return_requested_at_idx" on "order_return" ("requested_at");`);
    this.addSql(`create index "order_return_order_id_idx" on "order_return" ("order_id");`);
    this.addSql(`create index "order_return_channel_external_id_idx" on "order_return" ("channel_id", "external_id");`);
    this.addSql(`alter table "order_return" add constraint "order_return_channel_refund_id_unique" unique ("channel_id", "refund_id");`);

    this.addSql(`create table "order_return_event" ("id" bigserial primary key, "return_id" uuid not null, "from_status" text check ("from_status" in ('REQUESTED', 'APPROVED', 'RETURN_IN_TRANSIT', 'RETURN_RECEIVED', 'REFUNDED', 'REJECTED', 'CANCELLED')) null, "to_status" text check ("to_status" in ('REQUESTED', 'APPROVED', 'RETURN_IN_TRANSIT', 'RETURN_RECEIVED', 'REFUNDED', 'REJECTED', 'CANCELLED')) not null, "platform_status" varchar(64) not null, "at" timestamptz not null default now(), "source" varchar(64) not null, "detail" jsonb null);`);
    this.addSql(`create index "order_return_event_return_id_id_index" on "order_return_event" ("return_id", "id");`);

    this.addSql(`create table "order_return_line" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "return_id" uuid not null, "line_no" int not null, "order_line_id" uuid null, "product_code" varchar(128) null, "platform_sku_id" varchar(128) null, "platform_line_id" varchar(128) null, "quantity" int null, "restocked" int not null default 0, "quarantined" int not null default 0, constraint "order_return_line_pkey" primary key ("id"), constraint order_return_line_units_not_negative check (restocked >= 0 and quarantined >= 0));`);
    this.addSql(`create index "order_return_line_return_id_index" on "order_return_line" ("return_id");`);
    this.addSql(`create index "order_return_line_order_line_id_index" on "order_return_line" ("order_line_id");`);

    this.addSql(`alter table "order_return" add constraint "order_return_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete restrict;`);
    this.addSql(`alter table "order_return" add constraint "order_return_order_id_foreign" foreign key ("order_id") references "order" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "order_return_event" add constraint "order_return_event_return_id_foreign" foreign key ("return_id") references "order_return" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "order_return_line" add constraint "order_return_line_return_id_foreign" foreign key ("return_id") references "order_return" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "order_return_line" add constraint "order_return_line_order_line_id_foreign" foreign key ("order_line_id") references "order_line" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "order" add column "refunded_amount" numeric(14,2) not null default '0';`);

    this.addSql(`alter table "product" add column "inspect_returns" boolean not null default false;`);

    this.addSql(`alter table "order_line" add column "refunded_quantity" int not null default 0;`);

    this.addSql(`alter table "inventory_item" add column "quarantined" int not null default 0;`);
    this.addSql(`alter table "inventory_item" add constraint inventory_item_quarantined_not_negative check(quarantined >= 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "order_return_event" drop constraint "order_return_event_return_id_foreign";`);

    this.addSql(`alter table "order_return_line" drop constraint "order_return_line_return_id_foreign";`);

    this.addSql(`drop table if exists "order_return" cascade;`);

    this.addSql(`drop table if exists "order_return_event" cascade;`);

    this.addSql(`drop table if exists "order_return_line" cascade;`);

    this.addSql(`alter table "inventory_item" drop constraint inventory_item_quarantined_not_negative;`);
    this.addSql(`alter table "inventory_item" drop column "quarantined";`);

    this.addSql(`alter table "order" drop column "refunded_amount";`);

    this.addSql(`alter table "order_line" drop column "refunded_quantity";`);

    this.addSql(`alter table "product" drop column "inspect_returns";`);
  }

}
