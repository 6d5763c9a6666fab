// Writes ops/grafana/order-hub.json, the hub's Grafana dashboard: panels are listed here once, laid out on the
// grid in order. Run `node ops/grafana/build-dashboard.mjs && npx prettier --write ops/grafana` after a change;
// test/grafana-dashboard.test.ts checks the result against the hub's metrics and its database.
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const PROM = { type: 'prometheus', uid: '${prometheus}' };
const PG = { type: 'grafana-postgresql-datasource', uid: '${postgres}' };
const ON = 'instance=~"$instance"';

/** A time series panel of PromQL queries ([expr, legend] pairs). */
function graph(title, description, queries, unit = 'short') {
  return {
    type: 'timeseries',
    title,
    description,
    datasource: PROM,
    fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] } },
    targets: queries.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: PROM,
      expr,
      legendFormat,
    })),
  };
}

/** A table panel of one SQL query on the hub's database. */
function table(title, description, rawSql) {
  return {
    type: 'table',
    title,
    description,
    datasource: PG,
    targets: [{ refId: 'A', datasource: PG, format: 'table', editorMode: 'code', rawQuery: true, rawSql }],
  };
}

function row(title) {
  return { type: 'row', title, collapsed: false, panels: [] };
}

const p = (q) => `histogram_quantile(${q}`;
const panels = [
  row('Orders and webhooks'),
  graph(
    'New orders per minute, by channel',
    'Orders created by the gateway (every door: webhook, poll, API, CSV), summed over the hub processes.',
    [
      [
        `sum by (channel) (rate(hub_orders_ingested_total{outcome="created", ${ON}}[$__rate_interval])) * 60`,
        '{{channel}}',
      ],
    ],
  ),
  graph(
    'Ingest outcomes per minute',
    'created / updated / duplicate (the same payload again) / rejected (unmappable or invalid) / failed (not stored for an error of the hub: a webhook answered 503, which the platform sends again, or a CSV row).',
    [[`sum by (outcome) (rate(hub_orders_ingested_total{${ON}}[$__rate_interval])) * 60`, '{{outcome}}']],
  ),
  graph(
    'Webhook latency p50 / p90',
    'POST /webhooks/:channelCode, from the request to the answer (200 only once the order is committed).',
    [
      [
        `${p(0.5)}, sum by (le) (rate(hub_webhook_request_duration_seconds_bucket{${ON}}[$__rate_interval])))`,
        'p50',
      ],
      [
        `${p(0.9)}, sum by (le) (rate(hub_webhook_request_duration_seconds_bucket{${ON}}[$__rate_interval])))`,
        'p90',
      ],
      [
        `${p(0.9)}, sum by (le, channel) (rate(hub_webhook_request_duration_seconds_bucket{${ON}}[$__rate_interval])))`,
        'p90 {{channel}}',
      ],
    ],
    's',
  ),
  graph(
    'Webhook 5xx rate',
    'Share of webhook answers that are 5xx, by channel (the platforms retry them). Alert: HubWebhook5xxRate.',
    [
      [
        `sum by (channel) (rate(hub_webhook_responses_total{status_class="5xx", ${ON}}[$__rate_interval])) / sum by (channel) (rate(hub_webhook_responses_total{${ON}}[$__rate_interval]))`,
        '{{channel}}',
      ],
    ],
    'percentunit',
  ),
  row('Stock'),
  graph(
    'Holds per minute: taken, refused, expired',
    'reservation: reserveStock; order: the holds of unpaid orders. Refused: not enough stock.',
    [
      [
        `sum by (source, outcome) (rate(hub_stock_holds_total{${ON}}[$__rate_interval])) * 60`,
        '{{source}} {{outcome}}',
      ],
    ],
  ),
  graph(
    'Stock alerts per minute, by kind',
    'Every process hears every committed alert, so this takes the highest count, not the sum.',
    [[`max by (kind) (rate(hub_stock_alerts_total{${ON}}[$__rate_interval])) * 60`, '{{kind}}']],
  ),
  graph(
    'Stock sync pushes per minute, by platform and outcome',
    'set: the platform shows the number; failed: refused for good; throttled; error: no usable answer. Alert: HubStockSyncFailing.',
    [
      [
        `sum by (platform, outcome) (rate(hub_stock_sync_pushes_total{${ON}}[$__rate_interval])) * 60`,
        '{{platform}} {{outcome}}',
      ],
    ],
  ),
  graph(
    'Oldest due stock push',
    'How long the oldest push that is due has waited in the queue (every process reads the same queue). Alert: HubStockSyncBacklog.',
    [[`max(hub_stock_sync_oldest_pending_seconds{${ON}})`, 'oldest due push']],
    's',
  ),
  table(
    'Products with no or negative available stock',
    'available = on hand - reserved, at or below zero, lowest first; oversold lines show as OUT_OF_STOCK alerts naming an order. The table constraint keeps reserved within on hand, so a negative figure means that constraint was lifted.',
    `select i.product_code, i.on_hand, i.reserved, i.on_hand - i.reserved as available, i.safety_stock, i.updated_at
from inventory_item i
where i.on_hand - i.reserved <= 0 or i.on_hand < 0
order by i.on_hand - i.reserved, i.product_code
limit 100`,
  ),
  table(
    'Sudden drops in the time range',
    'SUDDEN_DROP alerts (more than SUDDEN_DROP_PERCENT of available lost within SUDDEN_DROP_WINDOW_SECONDS), with the stock now.',
    `select a.created_at, a.product_code, a.threshold as available_before, a.available as available_after,
       i.on_hand - i.reserved as available_now, a.message
from stock_alert a
left join inventory_item i on i.product_id = a.product_id
where a.kind = 'SUDDEN_DROP' and $__timeFilter(a.created_at)
order by a.created_at desc
limit 100`,
  ),
  row('Orders stuck'),
  table(
    'Orders stuck past their threshold, by status and channel',
    'PAID longer than $stuck_paid_hours h, PACKED longer than $stuck_packed_hours h, SHIPPED longer than $stuck_shipped_days days (the variables above).',
    `select o.status::text as status, c.code as channel, count(*) as orders,
       min(coalesce(case o.status when 'PAID' then o.paid_at when 'PACKED' then o.packed_at
                                  when 'SHIPPED' then o.shipped_at end, o.placed_at)) as oldest_since
from "order" o
join channel c on c.id = o.channel_id
where (o.status = 'PAID' and coalesce(o.paid_at, o.placed_at) < now() - make_interval(hours => $stuck_paid_hours))
   or (o.status = 'PACKED' and coalesce(o.packed_at, o.paid_at, o.placed_at) < now() - make_interval(hours => $stuck_packed_hours))
   or (o.status = 'SHIPPED' and coalesce(o.shipped_at, o.placed_at) < now() - make_interval(days => $stuck_shipped_days))
group by 1, 2
order by oldest_since`,
  ),
  table(
    'The longest stuck orders',
    'The 50 orders that have waited longest in PAID, PACKED or SHIPPED past the thresholds.',
    `select c.code as channel, o.external_id, o.status::text as status,
       coalesce(case o.status when 'PAID' then o.paid_at when 'PACKED' then o.packed_at
                              when 'SHIPPED' then o.shipped_at end, o.placed_at) as since,
       o.customer_name, o.total_amount, o.currency_code
from "order" o
join channel c on c.id = o.channel_id
where (o.status = 'PAID' and coalesce(o.paid_at, o.placed_at) < now() - make_interval(hours => $stuck_paid_hours))
   or (o.status = 'PACKED' and coalesce(o.packed_at, o.paid_at, o.placed_at) < now() - make_interval(hours => $stuck_packed_hours))
   or (o.status = 'SHIPPED' and coalesce(o.shipped_at, o.placed_at) < now() - make_interval(days => $stuck_shipped_days))
order by since
limit 50`,
  ),
  row('Delivery to subscribers and merchants'),
  graph(
    'Outbound webhook attempts per minute',
    'delivered; retrying (failed, tried again on the schedule); failed (given up: HubOutboundWebhooksGivenUp).',
    [
      [
        `sum by (outcome) (rate(hub_outbound_webhook_attempts_total{${ON}}[$__rate_interval])) * 60`,
        '{{outcome}}',
      ],
    ],
  ),
  graph(
    'Open subscriptions',
    'graphql-ws subscriptions per process, and the source streams that serve them (identical subscriptions share one).',
    [
      [`sum by (instance) (hub_subscriptions_open{${ON}})`, 'subscriptions {{instance}}'],
      [`sum by (instance) (hub_subscription_streams{${ON}})`, 'streams {{instance}}'],
    ],
  ),
  graph(
    'Event delivery lag p50 / p90',
    "Seconds from an event's time in the database to its hand-over to the subscribers. Alert: HubSubscribersLagging.",
    [
      [
        `${p(0.5)}, sum by (le, topic) (rate(hub_event_delivery_lag_seconds_bucket{${ON}}[$__rate_interval])))`,
        'p50 {{topic}}',
      ],
      [
        `${p(0.9)}, sum by (le, topic) (rate(hub_event_delivery_lag_seconds_bucket{${ON}}[$__rate_interval])))`,
        'p90 {{topic}}',
      ],
    ],
    's',
  ),
  row('Processes'),
  graph(
    'Database pools: connections used and requests waiting',
    'Per process and pool (main: webhooks and jobs; *-requests: the API; feed, replay, exports, stock-sync, webhooks, notices). Alert: HubDatabasePoolSaturated.',
    [
      [
        `sum by (instance, pool) (hub_db_pool_connections{state="used", ${ON}})`,
        'used {{instance}} {{pool}}',
      ],
      [
        `sum by (instance, pool) (hub_db_pool_connections{state="pending", ${ON}})`,
        'waiting {{instance}} {{pool}}',
      ],
    ],
  ),
  graph('CPU and event loop lag', "prom-client's process metrics, per process.", [
    [`rate(process_cpu_seconds_total{${ON}}[$__rate_interval])`, 'CPU {{instance}}'],
    [`nodejs_eventloop_lag_p99_seconds{${ON}}`, 'event loop lag p99 {{instance}}'],
  ]),
];

// Rows span the width; other panels go two to a row.
let y = 0;
let x = 0;
let id = 1;
for (const panel of panels) {
  panel.id = id++;
  if (panel.type === 'row') {
    if (x) y += 8;
    panel.gridPos = { h: 1, w: 24, x: 0, y };
    y += 1;
    x = 0;
    continue;
  }
  panel.gridPos = { h: 8, w: 12, x, y };
  x = x ? 0 : 12;
  if (!x) y += 8;
}

const number = (name, label, value) => ({
  name,
  label,
  type: 'textbox',
  query: value,
  current: { text: value, value },
  hide: 0,
});

const dashboard = {
  __inputs: [
    {
      name: 'DS_PROMETHEUS',
      label: 'Prometheus',
      description: "The Prometheus that scrapes the hub's /metrics",
      type: 'datasource',
      pluginId: 'prometheus',
      pluginName: 'Prometheus',
    },
    {
      name: 'DS_POSTGRES',
      label: 'PostgreSQL',
      description: "The hub's database (a read-only user will do)",
      type: 'datasource',
      pluginId: 'grafana-postgresql-datasource',
      pluginName: 'PostgreSQL',
    },
  ],
  title: 'Order hub',
  uid: 'order-hub',
  description: "The order hub's metrics (GET /metrics of each process) and its database.",
  tags: ['order-hub'],
  timezone: 'browser',
  schemaVersion: 39,
  version: 1,
  editable: true,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      {
        name: 'prometheus',
        label: 'Prometheus',
        type: 'datasource',
        query: 'prometheus',
        current: { text: '${DS_PROMETHEUS}', value: '${DS_PROMETHEUS}' },
        hide: 0,
      },
      {
        name: 'postgres',
        label: 'Hub database',
        type: 'datasource',
        query: 'grafana-postgresql-datasource',
        current: { text: '${DS_POSTGRES}', value: '${DS_POSTGRES}' },
        hide: 0,
      },
      {
        name: 'instance',
        label: 'Process',
        type: 'query',
        datasource: PROM,
        query: { query: 'label_values(hub_orders_ingested_total, instance)', refId: 'instance' },
        definition: 'label_values(hub_orders_ingested_total, instance)',
        includeAll: true,
        multi: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
        refresh: 2,
        hide: 0,
      },
      number('stuck_paid_hours', 'PAID stuck after (h)', '24'),
      number('stuck_packed_hours', 'PACKED stuck after (h)', '24'),
      number('stuck_shipped_days', 'SHIPPED stuck after (days)', '7'),
    ],
  },
  annotations: { list: [] },
  panels,
};

// Another path as the first argument: the dashboard test builds into a scratch file to compare.
writeFileSync(
  process.argv[2] ?? new URL('order-hub.json', import.meta.url),
  `${JSON.stringify(dashboard, null, 2)}\n`,
);
