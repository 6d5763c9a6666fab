import { Migration } from '@mikro-orm/migrations';

export class Migration20261202154000_delivery_replays extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "webhook_delivery" ("id" bigserial primary key, "channel_id" uuid not null, "delivery_id" varchar(255) not null, "order_id" uuid not null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_once" unique ("channel_id", "delivery_id");`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "hub_secret" ("name" varchar(64) not null, "value" varchar(255) not null, "created_at" timestamptz not null default now(), constraint "hub_secret_pkey" primary key ("name"));`);

    // Rows logged before have no hash: they never match, and nulls do not collide.
    this.addSql(`alter table "ingest_log" add column "body_sha256" varchar(64) null;`);
    this.addSql(`alter table "ingest_log" add constraint "ingest_log_body_once" unique ("channel_code", "body_sha256");`);

    this.addSql(`alter table "shipment_event" add column "content_key" varchar(64) null;`);
    this.addSql(`alter table "shipment_event" add constraint "shipment_event_content_once" unique ("shipment_id", "content_key");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "shipment_event" drop constraint "shipment_event_content_once";`);
    this.addSql(`alter table "shipment_event" drop column "content_key";`);
    this.addSql(`alter table "ingest_log" drop constraint "ingest_log_body_once";`);
    this.addSql(`alter table "ingest_log" drop column "body_sha256";`);
    this.addSql(`drop table if exists "hub_secret" cascade;`);
    this.addSql(`drop table if exists "webhook_delivery" cascade;`);
  }

}
