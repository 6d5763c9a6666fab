import { Migration } from '@mikro-orm/migrations';

export class Migration20261202153000_api_key_limits extends Migration {

  override async up(): Promise<void> {
    // Each key's own limits; null (every existing key) follows its role's default.
    this.addSql(`alter table "api_key"
      add column "requests_per_second" int null,
      add column "max_concurrent_requests" int null,
      add column "max_websocket_connections" int null,
      add column "max_subscriptions_per_connection" int null,
      add column "websocket_messages_per_second" int null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_key"
      drop column "requests_per_second",
      drop column "max_concurrent_requests",
      drop column "max_websocket_connections",
      drop column "max_subscriptions_per_connection",
      drop column "websocket_messages_per_second";`);
  }

}
