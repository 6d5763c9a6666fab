import pg from 'pg';
import { Platform } from '../common/enums.js';
import { isRemoteProvince } from '../services/provinces.js';

/**
 * Demo and benchmark data: channels on every platform, a catalog with stock, and a year of orders with their
 * lines, sub-orders, timelines and parcels. Each chunk of orders is a few set-based statements run by
 * PostgreSQL (`generate_series`), so a million orders take minutes and the process stays small.
 *
 * Every value but the row ids is a hash of (seed, order number, purpose): the same seed gives the same orders,
 * spread over the year before the day it runs. Orders are history, as a CSV backfill stores it (origin CSV, CREATED marked
 * historical): they take no stock and make no customer notices. Their events are written already numbered
 * (`seq`), under the numberer's lock, so a hub starting on the database has nothing to number and hands no
 * webhook deliveries for them to the merchants' endpoints. The statement triggers on order_event (the
 * numberer's wake-up, customer notices) run once a chunk and find nothing to do; order and order_line have no
 * triggers; a new inventory row's stock sync trigger (per row, 2,000 times once) finds no listing of a new
 * product to push, and no other stock trigger fires: the seed never updates stock.
 */

export interface SeedSummary {
  /** Rows this run added (sub-orders counted as orders). */
  orders: number;
  lines: number;
  events: number;
  shipments: number;
  /** The seed's channels and products, made by this run or an earlier one. */
  channels: number;
  products: number;
}

export interface SeedOptions {
  orders: number;
  seed?: number;
  onProgress?: (done: number) => void;
}

/** Orders made per transaction: enough for set-based work, few enough for steady progress and memory. */
const SEED_CHUNK = 100_000;
const SEED_PRODUCTS = 2_000;

/** Channels per platform with their share of the orders: the big marketplaces take most. */
const CHANNELS: { platform: Platform; shares: number[] }[] = [
  { platform: Platform.TAOBAO, shares: [0.22, 0.1] },
  { platform: Platform.DOUYIN, shares: [0.18, 0.08] },
  { platform: Platform.JD, shares: [0.12] },
  { platform: Platform.PINDUODUO, shares: [0.12] },
  { platform: Platform.KUAISHOU, shares: [0.07] },
  { platform: Platform.YOUZAN, shares: [0.04] },
  { platform: Platform.STOREFRONT, shares: [0.04] },
  { platform: Platform.SHOPIFY, shares: [0.03] },
];

const PLACES: [province: string, city: string, district: string][] = [
  ['Guangdong', 'Guangzhou', 'Tianhe'],
  ['Guangdong', 'Shenzhen', 'Nanshan'],
  ['Zhejiang', 'Hangzhou', 'Xihu'],
  ['Jiangsu', 'Nanjing', 'Gulou'],
  ['Shanghai', 'Shanghai', 'Pudong'],
  ['Beijing', 'Beijing', 'Chaoyang'],
  ['Shandong', 'Jinan', 'Lixia'],
  ['Sichuan', 'Chengdu', 'Wuhou'],
  ['Hubei', 'Wuhan', 'Hongshan'],
  ['Fujian', 'Fuzhou', 'Gulou'],
  ['Henan', 'Zhengzhou', 'Jinshui'],
  ['Hunan', 'Changsha', 'Yuelu'],
  ['Xinjiang', 'Urumqi', 'Tianshan'],
  ['Hainan', 'Haikou', 'Meilan'],
  ['Gansu', 'Lanzhou', 'Chengguan'],
];

/** The addresses as the order rows take them, the far regions marked as the hub marks them when it stores one. */
const PLACE_ROWS = JSON.stringify(
  PLACES.map(([province, city, district]) => ({
    province,
    city,
    district,
    remote: isRemoteProvince(province),
  })),
);

/** Buyers' surnames and given names, common ones (the risk fixture's buyers are named from the same lists). */
export const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹'.split('');
export const GIVEN_NAMES = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '霞',
  '平',
  '刚',
  '桂英',
  '建华',
  '晓燕',
];
const CARRIERS: [name: string, prefix: string][] = [
  ['SF Express', 'SF'],
  ['ZTO', 'ZT'],
  ['YTO', 'YT'],
  ['JD Logistics', 'JDL'],
  ['STO', 'ST'],
];
const PRODUCT_KINDS = [
  'Tea',
  'Snack box',
  'Phone case',
  'T-shirt',
  'Face cream',
  'Rice',
  'Ice cream',
  'Headphones',
];

/** `slots` entries, each value repeated in proportion to its weight: a pick is an index from a uniform hash. */
function slotsOf<T>(weighted: [T, number][], slots: number): T[] {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  const out: T[] = [];
  let acc = 0;
  for (const [value, w] of weighted) {
    acc += w;
    while (out.length < Math.round((acc / total) * slots)) out.push(value);
  }
  return out;
}

/** Days back from today (0 to 364), busier towards now, on weekends and on the sale days (11-11, 6-18, 12-12). */
function daySlots(today: Date): number[] {
  const weights: [number, number][] = [];
  for (let back = 0; back < 365; back++) {
    const day = new Date(today.getTime() - back * 86_400_000);
    const md = `${day.getUTCMonth() + 1}-${day.getUTCDate()}`;
    const sale = md === '11-11' ? 8 : md === '6-18' ? 4 : md === '12-12' ? 3 : md === '11-10' ? 2 : 1;
    const weekend = day.getUTCDay() === 0 || day.getUTCDay() === 6 ? 1.2 : 1;
    weights.push([back, sale * weekend * (1 + (365 - back) / 365)]);
  }
  return slotsOf(weights, 20_000);
}

/** Hours of the day (China time): quiet at night, a lunch bump, the peak in the evening. */
const HOUR_WEIGHTS = [3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 5, 5, 5, 6, 7, 8, 10, 11, 10, 6];

/** Seeds the database at `databaseUrl`, which must hold the hub's migrated schema (`migrate` in server/orm.ts). */
export async function seedOrders(databaseUrl: string, options: SeedOptions): Promise<SeedSummary> {
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(options.orders) || options.orders < 1)
    throw new RangeError('orders must be a positive integer');
  if (!Number.isSafeInteger(seed)) throw new RangeError('seed must be an integer');
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'order-hub-seed' });
  await client.connect();
  try {
    // A uniform number in [0, 1) from (seed, n, purpose k < 64): the same inputs, the same data. A 64-bit
    // integer hash, of which 53 bits make the float: several times cheaper than hashing text.
    await client.query(`create function pg_temp.u(n bigint, k int, s bigint) returns float8
      language sql immutable as $$ select (hashint8extended(n * 64 + k, s) & 9007199254740991)::float8 / 9007199254740992 $$`);
    const channels = await seedChannels(client);
    const products = await seedProducts(client);
    const { rows: nowRows } = await client.query<{ now: Date }>('select now() as now');
    const anchor = nowRows[0].now;
    const channelSlots = slotsOf(
      channels.map((c) => [c.id, c.share] as [string, number]),
      1_000,
    );
    const params = {
      channelSlots,
      days: daySlots(anchor),
      hours: slotsOf(
        HOUR_WEIGHTS.map((w, h) => [h, w] as [number, number]),
        1_000,
      ),
    };
    const summary: SeedSummary = {
      orders: 0,
      lines: 0,
      events: 0,
      shipments: 0,
      channels: channels.length,
      products,
    };
    for (let lo = 1; lo <= options.orders; lo += SEED_CHUNK) {
      const hi = Math.min(options.orders, lo + SEED_CHUNK - 1);
      const added = await seedChunk(client, { lo, hi, seed, anchor, ...params });
      summary.orders += added.orders;
      summary.lines += added.lines;
      summary.events += added.events;
      summary.shipments += added.shipments;
      options.onProgress?.(hi);
    }
    // The channels' list shows when each last took an order.
    await client.query(
      `update channel c set last_order_at = m.at
       from (select s.id, (select max(placed_at) from "order" o where o.channel_id = s.id) as at from seed_channel s) m
       where c.id = m.id and m.at is not null and (c.last_order_at is null or c.last_order_at < m.at)`,
    );
    // The sales just appended, folded into the reports' hourly sums (the hub does it every few seconds).
    await client.query('select hub_sales_rollup()');
    // Statistics, and the visibility map autovacuum would set later: index-only scans work from the start.
    await client.query(
      'vacuum (analyze) channel, product, inventory_item, "order", order_line, order_event, shipment, shipment_event, sales_hourly, sales_hourly_change',
    );
    return summary;
  } finally {
    await client.end();
  }
}

async function seedChannels(client: pg.Client): Promise<{ id: string; code: string; share: number }[]> {
  const rows = CHANNELS.flatMap(({ platform, shares }) =>
    shares.map((share, i) => ({
      code: `seed-${platform.toLowerCase()}-${i + 1}`,
      platform,
      name: `${platform[0]}${platform.slice(1).toLowerCase()} shop ${i + 1} (seed)`,
      share,
    })),
  );
  await client.query(
    `insert into channel (code, platform, name, ingestion_modes)
     select code, platform, name, '{WEBHOOK}' from unnest($1::text[], $2::text[], $3::text[]) as v(code, platform, name)
     on conflict (code) do nothing`,
    [rows.map((r) => r.code), rows.map((r) => r.platform), rows.map((r) => r.name)],
  );
  const { rows: ids } = await client.query<{ id: string; code: string }>(
    'select id, code from channel where code = any($1::text[])',
    [rows.map((r) => r.code)],
  );
  const idOf = new Map(ids.map((r) => [r.code, r.id]));
  const channels = rows.map((r) => ({ id: idOf.get(r.code)!, code: r.code, share: r.share }));
  await client.query(
    `create temp table seed_channel as select * from unnest($1::uuid[], $2::text[]) as c(id, code)`,
    [channels.map((c) => c.id), channels.map((c) => c.code)],
  );
  return channels;
}

/** The catalog (`SEED-P0001`…): every 20th product travels cold, which is what split orders split on. */
async function seedProducts(client: pg.Client): Promise<number> {
  await client.query('begin');
  try {
    await client.query(
      `insert into product (product_code, name, cold_chain)
       select 'SEED-P' || lpad(n::text, 4, '0'), ($2::text[])[1 + n % cardinality($2::text[])] || ' no. ' || n, n % 20 = 0
       from generate_series(1, $1::int) n
       on conflict (product_code) do nothing`,
      [SEED_PRODUCTS, PRODUCT_KINDS],
    );
    // Stock on hand to sell from; the seeded orders are history and take none of it.
    await client.query(
      `insert into inventory_item (product_id, product_code, on_hand, safety_stock)
       select p.id, p.product_code, 50 + floor(pg_temp.u(n, 30, 0) * 950)::int, 10
       from generate_series(1, $1::int) n join product p on p.product_code = 'SEED-P' || lpad(n::text, 4, '0')
       on conflict (product_id) do nothing`,
      [SEED_PRODUCTS],
    );
    // Prices do not depend on the seed: every set of orders sells the catalog at the same prices.
    await client.query(
      `create temp table seed_product as
       select n, p.id, p.product_code as code,
              round((9.9 + 990 * pow(pg_temp.u(n, 31, 0), 3))::numeric, 1) + 0.00 as price
       from generate_series(1, $1::int) n join product p on p.product_code = 'SEED-P' || lpad(n::text, 4, '0')`,
      [SEED_PRODUCTS],
    );
    await client.query('create unique index on seed_product (n)');
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    throw err;
  }
  return SEED_PRODUCTS;
}

interface ChunkParams {
  lo: number;
  hi: number;
  seed: number;
  anchor: Date;
  channelSlots: string[];
  days: number[];
  hours: number[];
}

async function seedChunk(client: pg.Client, p: ChunkParams) {
  await client.query('begin');
  try {
    const counts = await chunkStatements(client, p);
    await client.query('commit');
    return counts;
  } catch (err) {
    await client.query('rollback');
    throw err;
  }
}

async function chunkStatements(client: pg.Client, p: ChunkParams) {
  // Each order's fate and the times of its steps; the status is the last step reached by the anchor (now).
  await client.query(
    `create temp table seed_o on commit drop as
     with base as (
       select n, pg_temp.u(n, 1, $3) u_ch, pg_temp.u(n, 2, $3) u_day, pg_temp.u(n, 3, $3) u_hour,
              pg_temp.u(n, 4, $3) u_sec, pg_temp.u(n, 5, $3) u_fate, pg_temp.u(n, 6, $3) u_pay,
              pg_temp.u(n, 7, $3) u_pack, pg_temp.u(n, 8, $3) u_ship, pg_temp.u(n, 9, $3) u_deliver,
              pg_temp.u(n, 10, $3) u_lines, pg_temp.u(n, 11, $3) u_split, pg_temp.u(n, 12, $3) u_name,
              pg_temp.u(n, 13, $3) u_place, pg_temp.u(n, 14, $3) u_after, pg_temp.u(n, 15, $3) u_carrier,
              pg_temp.u(n, 16, $3) u_given
       from generate_series($1::int, $2::int) n
     ), placed as (
       select b.*, ($5::uuid[])[1 + floor(u_ch * cardinality($5::uuid[]))::int] as channel_id,
              (date_trunc('day', $4::timestamptz at time zone 'Asia/Shanghai')
                - make_interval(days => ($6::int[])[1 + floor(u_day * cardinality($6::int[]))::int])
                + make_interval(hours => ($7::int[])[1 + floor(u_hour * cardinality($7::int[]))::int],
                                secs => floor(u_sec * 3600)))
               at time zone 'Asia/Shanghai' as t
       from base b
     ), timed as (
       -- Today's orders placed later than now move back a week: same weekday and hour.
       select p.*, case when t > $4::timestamptz then t - interval '7 days' else t end as placed,
              case when u_fate < 0.025 then 'unpaid_cancel' when u_fate < 0.04 then 'paid_cancel'
                   when u_fate < 0.055 then 'refund' else 'normal' end as fate,
              case when u_lines < 0.55 then 1 when u_lines < 0.8 then 2 when u_lines < 0.93 then 3 else 4 end as n_lines
       from placed p
     ), steps as (
       select t.*,
              placed + make_interval(secs => 30 + u_pay * 1500) as pay_at,
              placed + make_interval(secs => 30 + u_pay * 1500 + 3600 + u_pack * 72000) as pack_at,
              placed + make_interval(secs => 30 + u_pay * 1500 + 3600 + u_pack * 72000 + 1800 + u_ship * 36000) as ship_at,
              placed + make_interval(secs => 30 + u_pay * 1500 + 3600 + u_pack * 72000 + 1800 + u_ship * 36000
                                             + 86400 + u_deliver * 345600) as deliver_at
       from timed t
     ), ends as (
       select s.*,
              case fate when 'unpaid_cancel' then placed + interval '30 minutes'
                        when 'paid_cancel' then pay_at + (pack_at - pay_at) * u_after end as cancel_at,
              case when fate = 'refund' then deliver_at + make_interval(days => 1, secs => u_after * 518400) end as refund_at,
              -- A split needs two kinds of parcel: its first line travels cold, the others do not.
              fate = 'normal' and n_lines >= 2 and u_split < 0.045 as split
       from steps s
     )
     select gen_random_uuid() as id, null::uuid as parent_id, e.n, 'SEED-' || $3 || '-' || e.n as external_id,
            null::text as label, e.channel_id, c.code as channel_code, e.placed as placed_at,
            case when e.fate = 'unpaid_cancel' then null else e.pay_at end as pay_at,
            case when e.fate in ('unpaid_cancel', 'paid_cancel') then null else e.pack_at end as pack_at,
            case when e.fate in ('unpaid_cancel', 'paid_cancel') then null else e.ship_at end as ship_at,
            case when e.fate in ('unpaid_cancel', 'paid_cancel') then null else e.deliver_at end as deliver_at,
            e.cancel_at, e.refund_at, e.split, e.n_lines, e.u_carrier,
            ($8::text[])[1 + floor(e.u_name * cardinality($8::text[]))::int]
              || ($9::text[])[1 + floor(e.u_given * cardinality($9::text[]))::int] as customer_name,
            ($10::jsonb)->(floor(e.u_place * jsonb_array_length($10::jsonb))::int) as place
     from ends e join seed_channel c on c.id = e.channel_id`,
    [p.lo, p.hi, p.seed, p.anchor, p.channelSlots, p.days, p.hours, SURNAMES, GIVEN_NAMES, PLACE_ROWS],
  );
  // Times past the anchor have not happened yet: they are cleared, and the status is the last step reached.
  await client.query(
    `update seed_o set
       pay_at = case when pay_at <= $1 then pay_at end, pack_at = case when pack_at <= $1 then pack_at end,
       ship_at = case when ship_at <= $1 then ship_at end, deliver_at = case when deliver_at <= $1 then deliver_at end,
       cancel_at = case when cancel_at <= $1 then cancel_at end, refund_at = case when refund_at <= $1 then refund_at end`,
    [p.anchor],
  );
  // Orders of this chunk stored by an earlier run are left as they are, with everything that hangs on them.
  await client.query(
    `delete from seed_o o using "order" x where x.channel_id = o.channel_id and x.external_id = o.external_id`,
  );
  // An order is split once paid; one not paid yet is not split.
  await client.query(`update seed_o set split = false where split and pay_at is null`);
  await client.query(
    `insert into seed_o (id, parent_id, n, external_id, label, channel_id, channel_code, placed_at, pay_at, pack_at,
       ship_at, deliver_at, cancel_at, refund_at, split, n_lines, u_carrier, customer_name, place)
     select gen_random_uuid(), o.id, o.n, o.external_id || '#' || g.label, g.label, o.channel_id, o.channel_code,
            o.placed_at, o.pay_at, o.pack_at, o.ship_at, o.deliver_at, null, null, false, o.n_lines,
            o.u_carrier, o.customer_name, o.place
     from seed_o o cross join (values ('cold'), ('dry')) as g(label) where o.split`,
  );

  await client.query('analyze seed_o');
  // Lines of the sales; a sub-order copies its parcel's share of them (as services/splitting.ts does).
  await client.query(
    `create temp table seed_l on commit drop as
     with picked as (
       select o.id as order_id, ln,
              case when o.split and ln = 1 then 20 * (1 + floor(pg_temp.u(o.n * 8 + ln, 20, $1) * ($2 / 20))::int)
                   else 1 + floor($2 * pow(pg_temp.u(o.n * 8 + ln, 21, $1), 2.5))::int end as pn,
              case when pg_temp.u(o.n * 8 + ln, 22, $1) < 0.8 then 1
                   when pg_temp.u(o.n * 8 + ln, 22, $1) < 0.95 then 2 else 3 end as quantity,
              o.split
       from seed_o o cross join lateral generate_series(1, o.n_lines) ln where o.parent_id is null
     )
     select k.order_id, k.ln as line_no, p.id as product_id, p.code as product_code, k.quantity,
            p.price as unit_price, p.price * k.quantity as line_total
     from picked k
     join seed_product p on p.n = case when k.split and k.ln > 1 and k.pn % 20 = 0 then k.pn - 1 else k.pn end`,
    [p.seed, SEED_PRODUCTS],
  );
  await client.query(
    `insert into seed_l (order_id, line_no, product_id, product_code, quantity, unit_price, line_total)
     select c.id, case when c.label = 'cold' then 1 else l.line_no - 1 end, l.product_id, l.product_code, l.quantity,
            l.unit_price, l.line_total
     from seed_o c join seed_l l on l.order_id = c.parent_id
     where (c.label = 'cold') = (l.line_no = 1)`,
  );

  await client.query('analyze seed_l');
  const orders = await client.query(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, ship_postal_code, ship_remote, total_amount, placed_at, paid_at,
       packed_at, shipped_at, delivered_at, parent_id, origin, created_at, updated_at)
     select o.id, o.channel_id, o.external_id,
            (case when o.refund_at is not null then 'REFUNDED' when o.cancel_at is not null then 'CANCELLED'
                  when o.deliver_at is not null then 'DELIVERED' when o.ship_at is not null then 'SHIPPED'
                  when o.pack_at is not null then 'PACKED' when o.pay_at is not null then 'PAID'
                  else 'PENDING_PAYMENT' end)::order_status,
            o.customer_name, o.customer_name, '1' || (30 + o.n % 60) || '****' || lpad((o.n % 10000)::text, 4, '0'),
            o.place->>'province', o.place->>'city', o.place->>'district',
            (1 + o.n % 300) || ' ' || (o.place->>'district') || ' Road, building ' || (1 + o.n % 40),
            lpad((100000 + o.n % 900000)::text, 6, '0'), (o.place->>'remote')::boolean,
            t.total,
            o.placed_at, o.pay_at, o.pack_at, o.ship_at, o.deliver_at, o.parent_id, 'CSV',
            o.placed_at, coalesce(o.refund_at, o.cancel_at, o.deliver_at, o.ship_at, o.pack_at, o.pay_at, o.placed_at)
     from seed_o o join (select order_id, sum(line_total) as total from seed_l group by order_id) t on t.order_id = o.id
     -- In the order they were placed, as a hub receives them: a range of days is a range of pages.
     order by o.placed_at, o.parent_id nulls first`,
  );
  const lines = await client.query(
    `insert into order_line (order_id, line_no, product_code, product_id, quantity, unit_price, line_total)
     select l.order_id, l.line_no, l.product_code, l.product_id, l.quantity, l.unit_price, l.line_total
     from seed_l l join seed_o o on o.id = l.order_id
     order by o.placed_at, l.order_id, l.line_no`,
  );

  // One parcel per shipped order that is not split (a split order's parcels are its sub-orders).
  await client.query(
    `create temp table seed_s on commit drop as
     select gen_random_uuid() as id, o.id as order_id, o.channel_code, o.ship_at, o.deliver_at,
            ($2::text[])[1 + floor(o.u_carrier * cardinality($2::text[]))::int] as carrier,
            ($3::text[])[1 + floor(o.u_carrier * cardinality($3::text[]))::int] || $1 || 'T' || o.n
              || coalesce('-' || o.label, '') as tracking_number
     from seed_o o where o.ship_at is not null and not o.split`,
    [p.seed, CARRIERS.map(([name]) => name), CARRIERS.map(([, prefix]) => prefix)],
  );
  // The carrier's scans after the scan-out; those still ahead of the anchor have not happened.
  await client.query(
    `create temp table seed_se on commit drop as
     select s.id as shipment_id, e.status, e.description, e.at, e.step
     from seed_s s cross join lateral (values
       ('PICKED_UP', 'Picked up by ' || s.carrier, s.ship_at + interval '2 hours', 1),
       ('IN_TRANSIT', 'Left the sorting centre', s.ship_at + interval '14 hours', 2),
       ('OUT_FOR_DELIVERY', 'Out for delivery', s.deliver_at - interval '4 hours', 3),
       ('DELIVERED', 'Delivered', s.deliver_at, 4)) as e(status, description, at, step)
     where e.at <= $1 and (e.step < 3 or s.deliver_at is not null)`,
    [p.anchor],
  );
  const shipments = await client.query(
    `insert into shipment (id, order_id, carrier, tracking_number, status, created_at, updated_at)
     select s.id, s.order_id, s.carrier, s.tracking_number,
            coalesce(e.status, 'LABEL_CREATED'),
            s.ship_at, coalesce(s.deliver_at, s.ship_at)
     from seed_s s
     left join (select distinct on (shipment_id) shipment_id, status from seed_se order by shipment_id, step desc) e
       on e.shipment_id = s.id`,
  );
  await client.query(
    `insert into shipment_event (shipment_id, status, description, occurred_at, created_at)
     select shipment_id, status, description, at, at from seed_se`,
  );

  const events = await insertEvents(client);
  return {
    orders: orders.rowCount ?? 0,
    lines: lines.rowCount ?? 0,
    events,
    shipments: shipments.rowCount ?? 0,
  };
}

/**
 * Each order's timeline as services/order-transitions.ts and services/shipping.ts write it, numbered here: the
 * numberer's lock is held to commit, so the `seq`s follow every number given before and none given later.
 */
async function insertEvents(client: pg.Client): Promise<number> {
  await client.query(
    `create temp table seed_e on commit drop as
     select o.id as order_id, o.channel_code, e.*
     from seed_o o cross join lateral (values
       -- (step, type, from, to, at, source, detail)
       (1, 'CREATED', null, 'PENDING_PAYMENT', o.placed_at, o.channel_code, '{"historical":true}'::jsonb),
       (2, 'STATUS_CHANGED', 'PENDING_PAYMENT', 'PAID', o.pay_at, o.channel_code, null),
       (3, 'SPLIT', 'PAID', 'PAID', o.pay_at + interval '1 minute', 'system', null),
       (4, 'STATUS_CHANGED', 'PAID', 'PACKED', o.pack_at, case when o.split then 'system' else 'api' end,
          case when o.split then '{"reason":"all sub-orders PACKED"}'::jsonb end),
       -- A customer cancels before packing: from PENDING_PAYMENT (a payment timeout) or PAID.
       (5, 'STATUS_CHANGED', case when o.pay_at is null then 'PENDING_PAYMENT' else 'PAID' end, 'CANCELLED', o.cancel_at,
          case when o.pay_at is null then 'system' else o.channel_code end,
          jsonb_build_object('reason', case when o.pay_at is null then 'payment timeout' else 'cancelled by the customer' end)),
       (6, 'STATUS_CHANGED', 'PACKED', 'SHIPPED', o.ship_at, case when o.split then 'system' else 'logistics' end,
          case when o.split then '{"reason":"all sub-orders SHIPPED"}'::jsonb end),
       (7, 'SHIPMENT_UPDATED', null, null, o.ship_at, 'logistics', null),
       (9, 'STATUS_CHANGED', 'SHIPPED', 'DELIVERED', o.deliver_at,
          case when o.split then 'system' else 'logistics' end,
          case when o.split then '{"reason":"all sub-orders DELIVERED"}'::jsonb end),
       (10, 'STATUS_CHANGED', 'DELIVERED', 'REFUNDED', o.refund_at, o.channel_code, null))
       as e(step, type, from_status, to_status, at, source, detail)
     where e.at is not null
       -- A sub-order starts at the split: no CREATED, payment or split of its own.
       and not (o.parent_id is not null and e.step <= 3)
       and (e.step <> 3 or o.split)
       and (e.step <> 7 or not o.split)`,
  );
  await client.query(
    `update seed_e e set detail = jsonb_build_object('rule', 'cold-chain', 'children', c.children)
     from (select parent_id, jsonb_agg(jsonb_build_object('id', id, 'externalId', external_id, 'label', label)
                                       order by label) as children
           from seed_o where parent_id is not null group by parent_id) c
     where e.step = 3 and c.parent_id = e.order_id`,
  );
  // The scan-out moves the order to SHIPPED and names the parcel.
  await client.query(
    `update seed_e e set detail = coalesce(e.detail, '{}'::jsonb)
                                  || jsonb_build_object('carrier', s.carrier, 'trackingNumber', s.tracking_number)
     from seed_s s where s.order_id = e.order_id and e.step = 6`,
  );
  await client.query(
    `update seed_e e set detail = jsonb_build_object('shipmentId', s.id, 'carrier', s.carrier,
                                                     'trackingNumber', s.tracking_number, 'status', 'LABEL_CREATED')
     from seed_s s where s.order_id = e.order_id and e.step = 7`,
  );
  await client.query(
    `insert into seed_e (order_id, channel_code, step, type, from_status, to_status, at, source, detail)
     select s.order_id, s.channel_code, 8, 'SHIPMENT_UPDATED', null, null, se.at, 'logistics',
            jsonb_build_object('shipmentId', s.id, 'trackingNumber', s.tracking_number, 'status', se.status,
                               'description', se.description, 'occurredAt', se.at, 'newest', true)
     from seed_s s join seed_se se on se.shipment_id = s.id`,
  );
  // Held to commit, as hub_number_order_events() holds it: no number is given twice.
  await client.query(`select pg_advisory_xact_lock(hashtext('order-hub:order_event.seq'))`);
  const events = await client.query(
    `insert into order_event (seq, order_id, channel_code, type, from_status, to_status, at, source, detail)
     select (select coalesce(max(seq), 0) from order_event) + row_number() over (order by e.at, e.order_id, e.step),
            e.order_id, e.channel_code, e.type, e.from_status::order_status, e.to_status::order_status, e.at,
            e.source, e.detail
     from seed_e e
     order by e.at, e.order_id, e.step`,
  );
  return events.rowCount ?? 0;
}
