import { Migration } from '@mikro-orm/migrations';

/** Each polled channel keeps the cursor of its after-sale records apart from its orders'. */
export class Migration20261204140249_refund_poll_cursor extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "channel" add column "refund_poll_cursor" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "channel" drop column "refund_poll_cursor";`);
  }

}
