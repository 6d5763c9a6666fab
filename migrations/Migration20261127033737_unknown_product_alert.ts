import { Migration } from '@mikro-orm/migrations';

export class Migration20261127033737_unknown_product_alert extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP', 'UNKNOWN_PRODUCT'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "stock_alert" drop constraint if exists "stock_alert_kind_check";`);

    this.addSql(`alter table "stock_alert" add constraint "stock_alert_kind_check" check("kind" in ('LOW_STOCK', 'OUT_OF_STOCK', 'RESTOCKED', 'RECONCILIATION_MISMATCH', 'SUDDEN_DROP'));`);
  }

}
