import { Migration } from '@mikro-orm/migrations';

/** The operations board's stuck orders read each unfinished status by when the order entered it. */
export class Migration20261204100000_status_since extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "order_status_since_idx" on "order" ("status", (case "status" when 'PAID' then "paid_at" when 'PACKED' then "packed_at" when 'SHIPPED' then "shipped_at" when 'DELIVERED' then "delivered_at" else "placed_at" end));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "order_status_since_idx";`);
  }
}
