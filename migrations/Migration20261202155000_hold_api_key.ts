import { Migration } from '@mikro-orm/migrations';

export class Migration20261202155000_hold_api_key extends Migration {

  override async up(): Promise<void> {
    // Holds made before were not counted per key; they keep no key and expire as before.
    this.addSql(`alter table "reservation" add column "api_key_id" uuid null;`);
    this.addSql(`alter table "reservation" add constraint "reservation_api_key_id_foreign" foreign key ("api_key_id") references "api_key" ("id") on update cascade on delete set null;`);
    this.addSql(`create index "reservation_held_api_key_idx" on "reservation" ("api_key_id") where "status" = 'HELD';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "reservation_held_api_key_idx";`);
    this.addSql(`alter table "reservation" drop constraint "reservation_api_key_id_foreign";`);
    this.addSql(`alter table "reservation" drop column "api_key_id";`);
  }

}
