import { Migration } from '@mikro-orm/migrations';

export class Migration20261202130000_order_origin extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create type "order_origin" as enum ('WEBHOOK', 'POLL', 'API', 'CSV', 'PLACED');`);
    this.addSql(`alter table "order" add column "origin" "order_origin" null;`);

    // Orders stored before: the door their first payload came through, by the ingest log;
    // without one, an order with no payload was placed through the API (placeOrder).
    this.addSql(`update "order" o set "origin" = f.source::text::order_origin
      from (select distinct on (order_id) order_id, source from ingest_log where order_id is not null order by order_id, id) f
      where f.order_id = o.id and o.parent_id is null;`);
    this.addSql(`update "order" set "origin" = (case when raw is null then 'PLACED' else 'API' end)::order_origin
      where "origin" is null and parent_id is null;`);
    this.addSql(`update "order" c set "origin" = p.origin from "order" p where p.id = c.parent_id;`);
    this.addSql(`alter table "order" alter column "origin" set not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "order" drop column "origin";`);
    this.addSql(`drop type "order_origin";`);
  }

}
