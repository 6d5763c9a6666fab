import { Migration } from '@mikro-orm/migrations';

/**
 * Wakes every hub process after commit: a stored stock alert notifies `hub_stock_alert`
 * with its id, a change of an inventory item's figures notifies `hub_inventory` with its
 * product code. NOTIFY is delivered on commit only, never for a rolled-back change.
 * The schema generator does not see triggers, so this migration is written by hand.
 */
export class Migration20261127045000_change_notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function hub_notify_stock_alert() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_stock_alert', new.id::text);
  return null;
end $$;`);
    this.addSql(`create trigger stock_alert_notify after insert on "stock_alert"
  for each row execute function hub_notify_stock_alert();`);
    this.addSql(`create or replace function hub_notify_inventory() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_inventory', new.product_code);
  return null;
end $$;`);
    this.addSql(`create trigger inventory_item_notify_update after update of on_hand, reserved, safety_stock on "inventory_item"
  for each row when (old.on_hand is distinct from new.on_hand or old.reserved is distinct from new.reserved
    or old.safety_stock is distinct from new.safety_stock)
  execute function hub_notify_inventory();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists inventory_item_notify_update on "inventory_item";`);
    this.addSql(`drop trigger if exists stock_alert_notify on "stock_alert";`);
    this.addSql(`drop function if exists hub_notify_inventory();`);
    this.addSql(`drop function if exists hub_notify_stock_alert();`);
  }
}
