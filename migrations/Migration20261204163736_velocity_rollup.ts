import { Migration } from '@mikro-orm/migrations';

/**
 * The velocity rule, judged once per window outside the ingestion transaction (services/risk.ts): orders per
 * channel, product and hour as its history (`product_orders_hourly`, rolled up from closed hours, each hour once:
 * `product_orders_hour_rolled`), and the spikes it found (`velocity_spike`, once per channel, product and window).
 * Its window is now whole hours (the roll-up's): a stored `windowMinutes` is rounded up to one.
 */
export class Migration20261204163736_velocity_rollup extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "product_orders_hourly" ("channel_id" uuid not null, "product_code" varchar(128) not null, "hour" timestamptz not null, "orders" int not null, constraint "product_orders_hourly_pkey" primary key ("channel_id", "product_code", "hour"));`);
    this.addSql(`create index "product_orders_hourly_hour_idx" on "product_orders_hourly" ("hour");`);

    this.addSql(`create table "product_orders_hour_rolled" ("hour" timestamptz not null, "rolled_at" timestamptz not null default now(), constraint "product_orders_hour_rolled_pkey" primary key ("hour"));`);

    this.addSql(`create table "velocity_spike" ("channel_id" uuid not null, "product_code" varchar(128) not null, "window_start" timestamptz not null, "window_minutes" int not null, "orders" int not null, "median" double precision not null, "mad" double precision not null, "z_score" double precision not null, "judged_at" timestamptz not null default now(), constraint "velocity_spike_pkey" primary key ("channel_id", "product_code", "window_start"));`);

    this.addSql(`alter table "product_orders_hourly" add constraint "product_orders_hourly_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "velocity_spike" add constraint "velocity_spike_channel_id_foreign" foreign key ("channel_id") references "channel" ("id") on update cascade on delete cascade;`);

    this.addSql(`update "risk_rule" set "params" = jsonb_set("params", '{windowMinutes}',
      to_jsonb(greatest(60, ceil(("params"->>'windowMinutes')::numeric / 60) * 60)::int))
      where "kind" = 'VELOCITY' and "params"->>'windowMinutes' is not null and ("params"->>'windowMinutes')::numeric % 60 <> 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "product_orders_hourly" cascade;`);

    this.addSql(`drop table if exists "product_orders_hour_rolled" cascade;`);

    this.addSql(`drop table if exists "velocity_spike" cascade;`);
  }

}
