import { Migration } from '@mikro-orm/migrations';

export class Migration20261127040819_stock_levels extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "inventory_item" add column "stock_level" varchar(8) not null default 'OK', add column "drop_reference" int null, add column "drop_reference_at" timestamptz null, add column "sudden_drop_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "inventory_item" drop column "stock_level", drop column "drop_reference", drop column "drop_reference_at", drop column "sudden_drop_at";`);
  }

}
