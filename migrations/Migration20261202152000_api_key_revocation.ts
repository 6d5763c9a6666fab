import { Migration } from '@mikro-orm/migrations';

/**
 * `last_used_at` for the `apiKeys` list, and a notification on commit when a key is
 * revoked (`hub_api_key_revoked` with its id), so every hub process closes the key's
 * websockets. Triggers, not the service, send it: a key revoked or deleted by hand in SQL is out too.
 */
export class Migration20261202152000_api_key_revocation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "api_key" add column "last_used_at" timestamptz null;`);
    this.addSql(`create or replace function hub_notify_api_key_revoked() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_api_key_revoked', (case when tg_op = 'DELETE' then old.id else new.id end)::text);
  return null;
end $$;`);
    this.addSql(`create trigger api_key_notify_revoked after update of revoked_at on "api_key"
  for each row when (old.revoked_at is null and new.revoked_at is not null)
  execute function hub_notify_api_key_revoked();`);
    // A key deleted outright is out as well.
    this.addSql(`create trigger api_key_notify_deleted after delete on "api_key"
  for each row execute function hub_notify_api_key_revoked();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists api_key_notify_deleted on "api_key";`);
    this.addSql(`drop trigger if exists api_key_notify_revoked on "api_key";`);
    this.addSql(`drop function if exists hub_notify_api_key_revoked();`);
    this.addSql(`alter table "api_key" drop column "last_used_at";`);
  }
}
