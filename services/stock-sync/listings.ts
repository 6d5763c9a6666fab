import type { ChannelStockState, ConnectorHealth, IngestionMode, Platform } from '../../common/enums.js';

/**
 * What each listing should show and where it stands: the one definition the pushes, the sweep and the
 * GraphQL reads share. A listing is a row of the SKU map (channel_sku); what the channel may sell of a product
 * is its `available` on a channel that sells it, 0 where safety stock closed it or the channel's sales are
 * closed, never more than the channel's cap. Two listings of one product on one channel (a duplicate listing,
 * the same goods under two items) share that number, so together they never offer more than the pool has.
 */

/**
 * The FROM clause every listing query starts with: `cs` the listing, `c` its channel, `p` the product, and
 * `share`: how many listings the product has on the channel (`n`) and how many of them come before this one (`earlier`).
 */
export const LISTING_FROM = `channel_sku cs
  join channel c on c.id = cs.channel_id
  join product p on p.id = cs.product_id
  left join inventory_item ii on ii.product_id = cs.product_id
  left join channel_stock_cap cap on cap.channel_id = cs.channel_id and cap.product_id = cs.product_id
  left join channel_api a on a.channel_id = cs.channel_id
  cross join lateral (select count(*)::int as n, (count(*) filter (where o.id < cs.id))::int as earlier
                        from channel_sku o where o.product_id = cs.product_id and o.channel_id = cs.channel_id) share`;

/** What the channel may sell of the listing's product. */
const CHANNEL_SELLABLE = `(case when not c.sales_open or c.code = any(p.closed_on_channels) then 0
  else greatest(0, least(coalesce(ii.on_hand - ii.reserved, 0), coalesce(cap.cap, 2147483647))) end)`;

/** The number the listing should show now: its even share, the units left over going to the first listings. */
export const LISTING_TARGET = `(${CHANNEL_SELLABLE} / share.n
  + case when share.earlier < ${CHANNEL_SELLABLE} % share.n then 1 else 0 end)`;

/**
 * A claim on `cs` that another push may take over, given the settle and lease (ms) as the query parameters
 * numbered here: its process is gone and any call it sent has had time to land, or it has outlived the
 * longest a push can take (one whose outcome could not be recorded).
 */
export function staleClaim(settleParam: number, leaseParam: number): string {
  return `((not hub_process_alive(cs.push_owner)
      and cs.push_started_at < now() - $${settleParam}::int * interval '1 millisecond')
   or cs.push_started_at < now() - $${leaseParam}::int * interval '1 millisecond')`;
}

/**
 * What operators see, from the last push's outcome and the target now: in sync only when the platform
 * acknowledged exactly today's target and no push is under way. The storefront reads the pool itself: nothing
 * is pushed to it.
 */
export const LISTING_STATE = `(case
  when not c.stock_sync or c.platform = 'STOREFRONT' then 'DISABLED'
  when cs.push_owner is null and cs.sync_state = 'FAILED' then 'FAILED'
  when cs.push_owner is null and not cs.uncertain and cs.confirmed = ${LISTING_TARGET} then 'IN_SYNC'
  when a.throttled_until > now() then 'THROTTLED'
  else 'PENDING' end)`;

/** One listing with its channel, as the API shows it (services/channel-stock.ts shapes it). */
export interface ListingRow {
  listing_id: string;
  product_id: string;
  product_code: string;
  platform_sku_id: string;
  platform_item_id: string | null;
  location_id: string | null;
  target: number;
  confirmed: number | null;
  confirmed_at: Date | null;
  state: ChannelStockState;
  last_error: string | null;
  cap: number | null;
  channel_id: string;
  channel_code: string;
  channel_platform: Platform;
  channel_name: string;
  channel_is_core: boolean;
  channel_sales_open: boolean;
  channel_ingestion_modes: IngestionMode[];
  channel_health: ConnectorHealth;
  channel_last_heartbeat_at: Date | null;
  channel_last_order_at: Date | null;
}

/** Selects ListingRow columns; add a WHERE on cs / c / p. */
export const LISTING_SELECT = `select cs.id as listing_id, cs.product_id, p.product_code, cs.platform_sku_id,
  cs.platform_item_id, cs.location_id, ${LISTING_TARGET} as target, cs.confirmed, cs.confirmed_at,
  ${LISTING_STATE} as state, cs.last_error, cap.cap, c.id as channel_id, c.code as channel_code,
  c.platform as channel_platform, c.name as channel_name, c.is_core as channel_is_core,
  c.sales_open as channel_sales_open, c.ingestion_modes as channel_ingestion_modes, c.health as channel_health,
  c.last_heartbeat_at as channel_last_heartbeat_at, c.last_order_at as channel_last_order_at
  from ${LISTING_FROM}`;
