import { Migration } from '@mikro-orm/migrations';

/**
 * Public event numbers in commit order. A bigserial is taken at insert, not at
 * commit, so a subscriber resuming "after 11" could miss a 10 committed later
 * (DESIGN.md, event order). Events are now stored unnumbered (`id` is internal);
 * `hub_number_order_events()` gives every committed, unnumbered event the next
 * public `seq`, one caller at a time (an advisory lock held to commit), so the
 * numbers a reader can see only ever grow at the end and have no gaps.
 *
 * Wake-ups: inserting events notifies `hub_order_event_pending` on commit (whoever
 * listens numbers them); numbering notifies `hub_order_event` with the highest seq.
 * The schema generator does not see functions and triggers, so this is written by hand.
 */
/**
 * hub_number_order_events(), with `afterNumbering` run in the same transaction once it has numbered events
 * (a later migration hands the new events to the merchants' webhooks there).
 */
export function numberOrderEventsFunction(afterNumbering = ''): string {
  return `create or replace function hub_number_order_events() returns setof "order_event"
language plpgsql as $$
declare
  top bigint;
begin
  -- One numberer at a time, to commit: the next one starts above everything this one gave.
  perform pg_advisory_xact_lock(hashtext('order-hub:order_event.seq'));
  select coalesce(max(seq), 0) into top from order_event;
  return query
    with pending as (
      select e.id, top + row_number() over (order by e.id) as n
      from order_event e where e.seq is null
    )
    update order_event e set seq = p.n from pending p where e.id = p.id
    returning e.*;
  if found then${afterNumbering}
    perform pg_notify('hub_order_event', (select max(seq) from order_event)::text);
  end if;
end $$;`;
}

export class Migration20261127055000_order_event_numbering extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "order_event" rename column "seq" to "id";`);
    this.addSql(`alter sequence "order_event_seq_seq" rename to "order_event_id_seq";`);
    this.addSql(`alter table "order_event" add column "seq" bigint null;`);
    this.addSql(`update "order_event" set "seq" = "id";`);
    this.addSql(`drop index "order_event_channel_code_seq_index";`);
    this.addSql(`drop index "order_event_order_id_seq_index";`);
    this.addSql(`alter table "order_event" add constraint "order_event_seq_unique" unique ("seq");`);
    this.addSql(`create index "order_event_channel_code_seq_index" on "order_event" ("channel_code", "seq");`);
    this.addSql(`create index "order_event_order_id_seq_index" on "order_event" ("order_id", "seq");`);
    this.addSql(`create index "order_event_unnumbered_index" on "order_event" ("id") where "seq" is null;`);

    this.addSql(numberOrderEventsFunction());

    this.addSql(`create or replace function hub_notify_order_event_pending() returns trigger language plpgsql as $$
begin
  perform pg_notify('hub_order_event_pending', '');
  return null;
end $$;`);
    this.addSql(`create trigger order_event_pending_notify after insert on "order_event"
  for each statement execute function hub_notify_order_event_pending();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists order_event_pending_notify on "order_event";`);
    this.addSql(`drop function if exists hub_notify_order_event_pending();`);
    this.addSql(`drop function if exists hub_number_order_events();`);
    this.addSql(`drop index "order_event_unnumbered_index";`);
    this.addSql(`drop index "order_event_order_id_seq_index";`);
    this.addSql(`drop index "order_event_channel_code_seq_index";`);
    this.addSql(`alter table "order_event" drop column "seq";`);
    this.addSql(`alter table "order_event" rename column "id" to "seq";`);
    this.addSql(`alter sequence "order_event_id_seq" rename to "order_event_seq_seq";`);
    this.addSql(`create index "order_event_channel_code_seq_index" on "order_event" ("channel_code", "seq");`);
    this.addSql(`create index "order_event_order_id_seq_index" on "order_event" ("order_id", "seq");`);
  }
}
