import { Migration } from '@mikro-orm/migrations';

/** Refunds name order lines by the platform's line id; a refund body's ingest log row records its case. */
export class Migration20261204133347_returns_lines_and_log extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "ingest_log" add column "return_id" uuid null;`);

    this.addSql(`alter table "order_line" add column "platform_line_id" varchar(128) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "ingest_log" drop column "return_id";`);

    this.addSql(`alter table "order_line" drop column "platform_line_id";`);
  }

}
