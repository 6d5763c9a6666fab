import { Migration } from '@mikro-orm/migrations';

/** Outbound webhooks hear of after-sale cases: a RETURN_UPDATED order event makes 'return.updated' deliveries. */
export class Migration20261204133607_return_webhooks extends Migration {

  override async up(): Promise<void> {
    this.addSql(webhookOrderEventsFunction(`when 'RETURN_UPDATED' then 'return.updated'`));
  }

  override async down(): Promise<void> {
    this.addSql(webhookOrderEventsFunction(''));
  }

}

/**
 * hub_webhook_order_events as migration outbound_webhooks made it (called by hub_number_order_events as each
 * event is numbered), with `moreTypes` (further `when <event type> then <outbound type>` arms) in its mapping.
 */
function webhookOrderEventsFunction(moreTypes: string): string {
  return `create or replace function hub_webhook_order_events(p_after bigint) returns void language plpgsql
set plan_cache_mode = force_custom_plan as $$
declare
  made bigint[];
begin
  if not exists (select 1 from webhook_endpoint where enabled) then
    return;
  end if;
  with made as (
    insert into outbound_delivery (webhook_id, endpoint_id, event_type, ordering_key, order_id, event_seq, occurred_at)
    select 'msg_order_' || e.seq, w.id, t.type, 'order:' || e.order_id, e.order_id, e.seq, e.at
      from order_event e
      cross join lateral (select case e.type when 'CREATED' then 'order.created'
                                             when 'STATUS_CHANGED' then 'order.status_changed'
                                             when 'SHIPMENT_UPDATED' then 'shipment.updated' ${moreTypes} end as type) t
      join webhook_endpoint w on w.enabled and t.type = any(w.events)
                             and (w.channel_codes is null or e.channel_code = any(w.channel_codes))
     where e.seq > p_after
     order by e.seq, w.id
    on conflict do nothing
    returning id)
  select array_agg(id) into made from made;
  if made is not null then
    perform hub_webhook_queue_heads(made);
  end if;
end $$;`;
}
