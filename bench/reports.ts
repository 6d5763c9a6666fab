// The analysts' reports at scale (issue 14), asked of the hub as a process over HTTP, --runs times each, one at
// a time: salesReport by day, channel and product over the year before the newest order, fulfillmentReport and
// volumeAnomalies over its last month. Beside each, the same answer written straight against the orders (no
// hourly sums, no milestone indexes), run as often on the same database: the baseline. Before timing, the bench
// checks the two give the same numbers.
//
// Then salesReport's refunds (issue 18): --refunds after-sale cases are written by SQL into the scratch database
// (a tenth of the sales by default; the roll-up's triggers count them in the same statements), and salesReport by
// day, channel and product over the year is called through the service on one connection, on its roll-up path
// (the hourly sums of sales and refunds) and on its exact path (the orders and cases themselves), --runs times
// each, interleaved (the first of each pair alternates), after checking both give the same rows. Prints the
// medians and roll-up ÷ exact.
//
// Usage: npm run bench:reports -- [--orders 50000 [--refunds 5000] | --database-url <an already seeded database>]
//   [--runs 10]
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { createLogger } from '../server/logger.js';
import { openOrm } from '../server/orm.js';
import { seedOrders } from '../server/seed.js';
import { SalesGroupBy } from '../common/enums.js';
import { readSalesReport, type SalesInput } from '../services/reports.js';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { countOption, percentile, serverUrl, stringOption } from './support.js';

const RUNS = countOption('runs', 10);
const ORDERS = countOption('orders', 50_000);
const REFUNDS = countOption('refunds', Math.round(ORDERS / 10));
const GIVEN_URL = stringOption('database-url');
const TIME_ZONE = 'Asia/Shanghai';
const DAY_MS = 86_400_000;

const database = GIVEN_URL
  ? { url: GIVEN_URL, drop: async () => undefined }
  : await scratchDatabase(serverUrl, 'bench_reports');
const hub = await startHubProcess(database.url, { LOG_LEVEL: 'warn' }, { readyWithinMs: 600_000 });
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
const client = new Pool(hub.base, { connections: 1 });

async function report<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const reply = await client.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await reply.body.json()) as { data?: Record<string, T>; errors?: unknown };
  if (reply.statusCode !== 200 || body.errors) {
    throw new Error(`the hub answered ${reply.statusCode}: ${JSON.stringify(body).slice(0, 500)}`);
  }
  return Object.values(body.data!)[0];
}

async function timed(run: () => Promise<unknown>): Promise<{ p50: number; p90: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p90: percentile(times, 90) };
}

interface Case {
  name: string;
  range: string;
  hub: () => Promise<unknown>;
  straight: () => Promise<unknown>;
}

try {
  if (!GIVEN_URL) {
    const started = performance.now();
    await seedOrders(database.url, { orders: ORDERS });
    console.log(`seeded ${ORDERS} orders in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    await seedRefunds(pool, REFUNDS);
  }
  // What the seed appended is folded in, as the hub's own job does every few seconds.
  await pool.query('select hub_sales_rollup()');
  await pool.query(
    'analyze "order", order_line, sales_hourly, order_return, order_return_line, refunds_hourly',
  );
  const {
    rows: [facts],
  } = await pool.query<{ orders: string; newest: Date }>(
    `select count(*)::text as orders, max(placed_at) as newest from "order" where parent_id is null`,
  );
  // Whole days in Shanghai, so the hourly sums carry all of the range.
  const end = new Date(
    Math.floor((facts.newest.getTime() + 8 * 3_600_000) / DAY_MS) * DAY_MS - 8 * 3_600_000,
  );
  const year = { from: new Date(end.getTime() - 365 * DAY_MS), to: end };
  const month = { from: new Date(end.getTime() - 30 * DAY_MS), to: end };
  const iso = (r: { from: Date; to: Date }) => ({ from: r.from.toISOString(), to: r.to.toISOString() });
  console.log(`${facts.orders} sales; year ${year.from.toISOString()} to ${year.to.toISOString()}`);

  const SALES = `query ($from: DateTime!, $to: DateTime!, $groupBy: SalesGroupBy!) {
    salesReport(from: $from, to: $to, groupBy: $groupBy, timeZone: "${TIME_ZONE}") {
      key orders units revenue { amount currencyCode } } }`;
  type Sales = {
    key: string;
    orders: number;
    units: number;
    revenue: { amount: string; currencyCode: string };
  }[];
  const salesStraight = (groupBy: 'DAY' | 'CHANNEL' | 'PRODUCT') => async (): Promise<Sales> => {
    const key = {
      DAY: `to_char(o.placed_at at time zone '${TIME_ZONE}', 'YYYY-MM-DD')`,
      CHANNEL: 'c.code',
      PRODUCT: 'l.product_code',
    }[groupBy];
    const { rows } = await pool.query(
      groupBy === 'PRODUCT'
        ? `select ${key} as key, o.currency_code, count(distinct o.id)::int as orders, sum(l.quantity)::int as units,
                  sum(l.line_total)::text as revenue
           from "order" o join order_line l on l.order_id = o.id
           where o.parent_id is null and o.placed_at >= $1 and o.placed_at < $2
             and o.status not in ('CANCELLED', 'REFUNDED')
           group by 1, 2 order by sum(l.line_total) desc, 1, 2`
        : `select ${key} as key, o.currency_code, count(*)::int as orders, coalesce(sum(u.units), 0)::int as units,
                  sum(o.total_amount)::text as revenue
           from "order" o join channel c on c.id = o.channel_id
           left join lateral (select sum(quantity) as units from order_line where order_id = o.id) u on true
           where o.parent_id is null and o.placed_at >= $1 and o.placed_at < $2
             and o.status not in ('CANCELLED', 'REFUNDED')
           group by 1, 2 order by ${groupBy === 'DAY' ? '1, 2' : 'sum(o.total_amount) desc, 1, 2'}`,
      [year.from, year.to],
    );
    return rows.map((r: Record<string, string | number>) => ({
      key: r.key as string,
      orders: r.orders as number,
      units: r.units as number,
      revenue: { amount: Number(r.revenue).toFixed(2), currencyCode: r.currency_code as string },
    }));
  };
  const salesFromHub = (groupBy: string) => async () =>
    (await report<Sales>(SALES, { ...iso(year), groupBy })).filter((r) => r.orders !== 0 || r.units !== 0);

  const FULFILLMENT = `query ($from: DateTime!, $to: DateTime!) {
    fulfillmentReport(from: $from, to: $to) { stage orders avgSeconds p50Seconds p90Seconds } }`;
  const fulfillmentStraight = async () => {
    const db = await pool.connect();
    try {
      // The same formula, without the milestone indexes: every order read.
      await db.query('begin; set local enable_indexscan = off; set local enable_bitmapscan = off');
      const parcel = 'not exists (select 1 from "order" c where c.parent_id = o.id)';
      const part = (stage: string, start: string, end: string, which: string) =>
        `select '${stage}' as stage, greatest(extract(epoch from o.${end} - o.${start}), 0) as s from "order" o
         where o.${end} >= $1 and o.${end} < $2 and o.${start} is not null and ${which}`;
      const { rows } = await db.query(
        `select stage, count(*)::int as orders, round(avg(s)::numeric, 3)::float8 as "avgSeconds",
                round((percentile_cont(0.5) within group (order by s))::numeric, 3)::float8 as "p50Seconds",
                round((percentile_cont(0.9) within group (order by s))::numeric, 3)::float8 as "p90Seconds"
         from (${[
           part('PLACED_TO_PAID', 'placed_at', 'paid_at', 'o.parent_id is null'),
           part('PAID_TO_PACKED', 'paid_at', 'packed_at', parcel),
           part('PACKED_TO_SHIPPED', 'packed_at', 'shipped_at', parcel),
           part('SHIPPED_TO_DELIVERED', 'shipped_at', 'delivered_at', parcel),
         ].join(' union all ')}) d group by stage order by array_position(
           array['PLACED_TO_PAID', 'PAID_TO_PACKED', 'PACKED_TO_SHIPPED', 'SHIPPED_TO_DELIVERED'], stage)`,
        [month.from, month.to],
      );
      await db.query('commit');
      return rows;
    } finally {
      db.release();
    }
  };

  const ANOMALIES = `query ($from: DateTime!, $to: DateTime!) {
    volumeAnomalies(from: $from, to: $to, timeZone: "${TIME_ZONE}") { channelCode bucketStart orders baseline } }`;
  const anomaliesStraight = async () => {
    // Counted from the orders, hour by hour, judged as the hub judges.
    const { rows } = await pool.query(
      `with counts as materialized (
         select channel_id, date_trunc('hour', placed_at, 'UTC') as b, count(*) as n from "order"
         where parent_id is null and placed_at >= $1::timestamptz - interval '8 days' and placed_at < $2
         group by 1, 2),
       judged as (
         select bk.b, c.id, c.code, sum(coalesce(p.n, 0)) / 7.0 as baseline
         from generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') bk(b)
         cross join channel c cross join generate_series(1, 7) k
         left join counts p on p.channel_id = c.id and p.b = bk.b - make_interval(days => k)
         group by 1, 2, 3)
       select j.code as "channelCode", j.b as "bucketStart", coalesce(cur.n, 0)::int as orders,
              round(j.baseline, 3)::float8 as baseline
       from judged j left join counts cur on cur.channel_id = j.id and cur.b = j.b
       where j.baseline >= 5 and abs(coalesce(cur.n, 0) - j.baseline) * 100 > 30 * j.baseline
       order by j.b, j.code`,
      [month.from, month.to],
    );
    return rows.map((r: { bucketStart: Date }) => ({ ...r, bucketStart: r.bucketStart.toISOString() }));
  };

  const cases: Case[] = [
    { name: 'salesReport by DAY', range: 'a year', hub: salesFromHub('DAY'), straight: salesStraight('DAY') },
    {
      name: 'salesReport by CHANNEL',
      range: 'a year',
      hub: salesFromHub('CHANNEL'),
      straight: salesStraight('CHANNEL'),
    },
    {
      name: 'salesReport by PRODUCT',
      range: 'a year',
      hub: salesFromHub('PRODUCT'),
      straight: salesStraight('PRODUCT'),
    },
    {
      name: 'fulfillmentReport',
      range: 'a month',
      hub: () => report(FULFILLMENT, iso(month)),
      straight: fulfillmentStraight,
    },
    {
      name: 'volumeAnomalies',
      range: 'a month',
      hub: () => report(ANOMALIES, iso(month)),
      straight: anomaliesStraight,
    },
  ];

  for (const c of cases) {
    const [a, b] = [await c.hub(), await c.straight()];
    if (!isDeepStrictEqual(a, b)) {
      throw new Error(
        `${c.name}: the hub and the straight SQL differ:\n${JSON.stringify(a).slice(0, 800)}\n${JSON.stringify(b).slice(0, 800)}`,
      );
    }
  }
  console.log(`The hub's answers equal the straight SQL's for all ${cases.length} reports.`);
  console.log('');
  console.log(
    `| report | range | hub p50 | hub p90 | straight from the orders p50 | hub ÷ straight (time) |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const c of cases) {
    const h = await timed(c.hub);
    const s = await timed(c.straight);
    console.log(
      `| ${c.name} | ${c.range} | ${h.p50.toFixed(0)} ms | ${h.p90.toFixed(0)} ms | ${s.p50.toFixed(0)} ms | ${(h.p50 / s.p50).toFixed(2)} |`,
    );
  }
  console.log('');
  await compareRefundPaths(database.url, { ...year, timeZone: TIME_ZONE });
} finally {
  await client.close();
  await pool.end();
  await hub.stop();
  await database.drop();
}

/**
 * After-sale cases on `count` sales (not cancelled, not unpaid), spread by a hash: 9 in 10 refunded a few days
 * after the request, a quarter to all of the sale's total; the returns (every other case) name their sale's first
 * line, the money-only ones none (shared by value over the sale's lines).
 */
async function seedRefunds(db: pg.Pool, count: number): Promise<void> {
  const started = performance.now();
  await db.query(
    `insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
       goods_returned, refund_amount, currency_code, reason_class, responsible, requested_at, platform_updated_at,
       refunded_at)
     select channel_id, 'bench-' || n, external_id, id,
            case when n % 2 = 0 then 'REFUND_ONLY' else 'RETURN_AND_REFUND' end,
            case when n % 10 = 0 then 'REQUESTED' else 'REFUNDED' end, 'bench', n % 2 = 1,
            round(total_amount * (n % 4 + 1) / 4, 2), currency_code, 'QUALITY', 'MERCHANT',
            placed_at + make_interval(days => (n % 10 + 1)::int), placed_at + make_interval(days => (n % 10 + 1)::int),
            case when n % 10 <> 0 then placed_at + make_interval(days => (n % 10 + 2)::int, hours => (n % 24)::int) end
     from (select o.*, row_number() over (order by md5(o.id::text)) as n from "order" o
           where o.parent_id is null and o.status not in ('CANCELLED', 'PENDING_PAYMENT')) s
     where n <= $1`,
    [count],
  );
  await db.query(
    `insert into order_return_line (return_id, line_no, order_line_id, product_code, quantity)
     select r.id, 1, l.id, l.product_code, 1 from order_return r
     join order_line l on l.order_id = r.order_id and l.line_no = 1
     where r.kind = 'RETURN_AND_REFUND' and r.refund_id like 'bench-%'`,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `wrote ${count} after-sale cases and their lines in ${seconds} s (the roll-up counted in the same statements)`,
  );
  await db.query('select hub_sales_rollup()');
}

/** salesReport's roll-up path against its exact path, through the service, interleaved. */
async function compareRefundPaths(url: string, range: Omit<SalesInput, 'groupBy'>): Promise<void> {
  const orm = await openOrm(url, createLogger('warn'));
  try {
    const run = <T extends object>(text: string, params: unknown[]) =>
      orm.em.fork().execute<T[]>(text, params);
    const {
      rows: [counted],
    } = await pool.query<{ cases: string }>(
      'select count(*)::text as cases from order_return where refunded_at >= $1 and refunded_at < $2',
      [range.from, range.to],
    );
    console.log(
      `salesReport over the year in ${range.timeZone} (${counted.cases} cases refunded in it), the service on one ` +
        `connection, ${RUNS} runs of each path interleaved, median:`,
    );
    console.log('');
    console.log('| salesReport by | roll-up path p50 | exact path p50 | roll-up ÷ exact |');
    console.log('| --- | --- | --- | --- |');
    for (const groupBy of [SalesGroupBy.DAY, SalesGroupBy.CHANNEL, SalesGroupBy.PRODUCT]) {
      const input = { ...range, groupBy };
      const paths = [() => readSalesReport(run, input), () => readSalesReport(run, input, { exact: true })];
      const [sums, exact] = await Promise.all(paths.map((p) => p()));
      if (!isDeepStrictEqual(sums, exact)) {
        throw new Error(
          `salesReport by ${groupBy}: the roll-up and exact paths differ:\n${JSON.stringify(sums).slice(0, 800)}\n${JSON.stringify(exact).slice(0, 800)}`,
        );
      }
      const times: [number[], number[]] = [[], []];
      for (let i = 0; i < RUNS; i++) {
        for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const started = performance.now();
          await paths[which]();
          times[which].push(performance.now() - started);
        }
      }
      const [a, b] = times.map((t) =>
        percentile(
          [...t].sort((x, y) => x - y),
          50,
        ),
      );
      console.log(`| ${groupBy} | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(a / b).toFixed(2)} |`);
    }
  } finally {
    await orm.close();
  }
}
