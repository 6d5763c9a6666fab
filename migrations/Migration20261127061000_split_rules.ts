import { Migration } from '@mikro-orm/migrations';

export class Migration20261127061000_split_rules extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "split_rule" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "name" varchar(64) not null, "enabled" boolean not null default true, "priority" int not null default 100, "condition" jsonb not null default '{}', "grouping" jsonb not null, "description" text null, constraint "split_rule_pkey" primary key ("id"), constraint split_rule_shape check (jsonb_typeof("condition") = 'object' and jsonb_typeof("grouping") = 'object'));`);
    this.addSql(`alter table "split_rule" add constraint "split_rule_name_unique" unique ("name");`);

    // The first shipped rule: cold-chain goods to a far region travel as their own chilled parcel.
    this.addSql(`insert into "split_rule" ("name", "priority", "condition", "grouping", "description") values ('cold-chain-remote', 10, '{"remote": true}', '{"by": "coldChain", "groups": [{"label": "ambient", "coldChain": false}, {"label": "chilled", "coldChain": true}]}', 'An order with cold-chain and ambient lines to a remote province ships as one ambient and one chilled sub-order.');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "split_rule" cascade;`);
  }

}
