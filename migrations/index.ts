import { Migration20261204163736_velocity_rollup } from './Migration20261204163736_velocity_rollup.js';
import { Migration20261204163530_refunds_rollup } from './Migration20261204163530_refunds_rollup.js';
import { Migration20261204140249_refund_poll_cursor } from './Migration20261204140249_refund_poll_cursor.js';
import { Migration20261204133607_return_webhooks } from './Migration20261204133607_return_webhooks.js';
import { Migration20261204133347_returns_lines_and_log } from './Migration20261204133347_returns_lines_and_log.js';
import { Migration20261204133620_risk } from './Migration20261204133620_risk.js';
import { Migration20261204132637_returns } from './Migration20261204132637_returns.js';
import { Migration20261204010000_reports } from './Migration20261204010000_reports.js';
import { Migration20261204100000_status_since } from './Migration20261204100000_status_since.js';
import { Migration20261203173253_customer_notices } from './Migration20261203173253_customer_notices.js';
import { Migration20261203170424_outbound_webhooks } from './Migration20261203170424_outbound_webhooks.js';
import { Migration20261203043000_listing_feed_notifications } from './Migration20261203043000_listing_feed_notifications.js';
import { Migration20261203080000_waiting_job_lookup } from './Migration20261203080000_waiting_job_lookup.js';
import { Migration20261203081000_stock_sync_per_statement } from './Migration20261203081000_stock_sync_per_statement.js';
import { Migration20261203100000_listing_share } from './Migration20261203100000_listing_share.js';
import { Migration20261203120000_listing_siblings_index } from './Migration20261203120000_listing_siblings_index.js';
import { Migration20261203150000_product_stock_jobs } from './Migration20261203150000_product_stock_jobs.js';
import { Migration20261203042300_channel_api_credentials_trigger } from './Migration20261203042300_channel_api_credentials_trigger.js';
import { Migration20261202225134_stock_sync } from './Migration20261202225134_stock_sync.js';
import { Migration20261202152000_api_key_revocation } from './Migration20261202152000_api_key_revocation.js';
import { Migration20261202154000_delivery_replays } from './Migration20261202154000_delivery_replays.js';
import { Migration20261202153000_api_key_limits } from './Migration20261202153000_api_key_limits.js';
import { Migration20261202130000_order_origin } from './Migration20261202130000_order_origin.js';
import { Migration20261202155000_hold_api_key } from './Migration20261202155000_hold_api_key.js';
import { Migration20261127055000_order_event_numbering } from './Migration20261127055000_order_event_numbering.js';
import { Migration20261127061000_split_rules } from './Migration20261127061000_split_rules.js';
import { Migration20261127045000_change_notifications } from './Migration20261127045000_change_notifications.js';
import { Migration20261127040819_stock_levels } from './Migration20261127040819_stock_levels.js';
import { Migration20261127033737_unknown_product_alert } from './Migration20261127033737_unknown_product_alert.js';
import { Migration20261127030225_initial } from './Migration20261127030225_initial.js';

// Every migration, in the order it runs. `npm run migration:create` adds new ones here.
export const migrationsList = [
  { name: 'Migration20261127030225_initial', class: Migration20261127030225_initial },
  {
    name: 'Migration20261127033737_unknown_product_alert',
    class: Migration20261127033737_unknown_product_alert,
  },
  { name: 'Migration20261127040819_stock_levels', class: Migration20261127040819_stock_levels },
  {
    name: 'Migration20261127045000_change_notifications',
    class: Migration20261127045000_change_notifications,
  },
  {
    name: 'Migration20261127055000_order_event_numbering',
    class: Migration20261127055000_order_event_numbering,
  },
  { name: 'Migration20261127061000_split_rules', class: Migration20261127061000_split_rules },
  { name: 'Migration20261202130000_order_origin', class: Migration20261202130000_order_origin },
  {
    name: 'Migration20261202152000_api_key_revocation',
    class: Migration20261202152000_api_key_revocation,
  },
  { name: 'Migration20261202153000_api_key_limits', class: Migration20261202153000_api_key_limits },
  {
    name: 'Migration20261202154000_delivery_replays',
    class: Migration20261202154000_delivery_replays,
  },
  { name: 'Migration20261202155000_hold_api_key', class: Migration20261202155000_hold_api_key },
  { name: 'Migration20261202225134_stock_sync', class: Migration20261202225134_stock_sync },
  {
    name: 'Migration20261203042300_channel_api_credentials_trigger',
    class: Migration20261203042300_channel_api_credentials_trigger,
  },
  {
    name: 'Migration20261203043000_listing_feed_notifications',
    class: Migration20261203043000_listing_feed_notifications,
  },
  { name: 'Migration20261203080000_waiting_job_lookup', class: Migration20261203080000_waiting_job_lookup },
  {
    name: 'Migration20261203081000_stock_sync_per_statement',
    class: Migration20261203081000_stock_sync_per_statement,
  },
  { name: 'Migration20261203100000_listing_share', class: Migration20261203100000_listing_share },
  {
    name: 'Migration20261203120000_listing_siblings_index',
    class: Migration20261203120000_listing_siblings_index,
  },
  { name: 'Migration20261203150000_product_stock_jobs', class: Migration20261203150000_product_stock_jobs },
  { name: 'Migration20261203170424_outbound_webhooks', class: Migration20261203170424_outbound_webhooks },
  { name: 'Migration20261203173253_customer_notices', class: Migration20261203173253_customer_notices },
  { name: 'Migration20261204010000_reports', class: Migration20261204010000_reports },
  { name: 'Migration20261204100000_status_since', class: Migration20261204100000_status_since },
  { name: 'Migration20261204132637_returns', class: Migration20261204132637_returns },
  {
    name: 'Migration20261204133347_returns_lines_and_log',
    class: Migration20261204133347_returns_lines_and_log,
  },
  { name: 'Migration20261204133607_return_webhooks', class: Migration20261204133607_return_webhooks },
  { name: 'Migration20261204133620_risk', class: Migration20261204133620_risk },
  { name: 'Migration20261204140249_refund_poll_cursor', class: Migration20261204140249_refund_poll_cursor },
  { name: 'Migration20261204163530_refunds_rollup', class: Migration20261204163530_refunds_rollup },
  { name: 'Migration20261204163736_velocity_rollup', class: Migration20261204163736_velocity_rollup },
];
