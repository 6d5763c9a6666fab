// What the risk rules (services/risk.ts, run by the order gateway in the ingestion transaction) cost the order
// ingestion path, on a scratch database with the hub as a process (`node dist/server/main.js`):
//
// The webhook ingestion workload of bench/ingest-load.ts (signed JD payloads, one new order of one line over 50
// products each), every order placed now by one of --buyers buyers (their own phone and address), after
// --history orders of the same products and buyers over the 14 days before (a line each, one in 12 with an
// after-sale case), so that velocity's baseline and the buyer indexes have rows to read; the products have a
// list price, so mismatch has one to compare. Then --pairs pairs of --seconds runs with the four rules all off
// (setRiskRule(enabled: false) as ADMIN) and all on (their defaults), each pair in the other order than the one
// before, after one uncounted run of each (--warmup seconds). Velocity is not in the ingestion: the hub's velocity
// job (every VELOCITY_CHECK_INTERVAL_SECONDS, 60) judges each closed window while the rule is on; its first run
// after the seeding rolls up the 14 days of history, during whichever run is "on" then. What it did is printed at
// the end.
//
// Usage: npm run bench:risk -- [--pairs 3] [--seconds 10] [--warmup 5] [--connections 32] [--history 30000]
//   [--buyers 20000] [--only BRUSHING|SERIAL_RETURNER|VELOCITY|MISMATCH]
//
// --only: "on" is that one rule alone (the others off), to see which rule costs what.
import pg from 'pg';
import { RiskKind } from '../common/enums.js';
import { graphql, startHubProcess, type HubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { INGEST_CHANNEL, INGEST_PRODUCTS, ingestRun, prepareIngest } from './ingest-load.js';
import { serverUrl } from './support.js';

function option(name: string, fallback: number, { zero = false } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero))
    throw new Error(`--${name} needs a positive number${zero ? ' or 0' : ''}`);
  return value;
}
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex < 0 ? null : (process.argv[onlyIndex + 1] as RiskKind);
if (only !== null && !Object.values(RiskKind).includes(only))
  throw new Error(`--only takes one of ${Object.values(RiskKind).join(', ')}`);

const SECONDS = option('seconds', 10);
const PAIRS = option('pairs', 3);
const WARMUP_SECONDS = option('warmup', 5, { zero: true });
const CONNECTIONS = option('connections', 32);
const HISTORY = option('history', 30_000, { zero: true });
const BUYERS = option('buyers', 20_000);
const HISTORY_DAYS = 14;

/** Buyer k: a phone and an address of their own (the JD fixture's name, city and district). */
const phoneOf = (k: number) => `139${String(k).padStart(8, '0')}`;
const line1Of = (k: number) => `北京朝阳区建国路 ${k} 号`;

/** JD's time: Shanghai wall clock, `2026-11-11 20:15:40`. */
function jdNow(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * --history orders over the 14 days before now, set-based: DELIVERED, one line of 2 × 99.00 of a bench product,
 * by buyer g mod --buyers; one in 12 with an after-sale case (REQUESTED).
 */
async function seedHistory(direct: pg.Client): Promise<void> {
  if (HISTORY === 0) return;
  await direct.query(
    `with o as (
       insert into "order" (channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
         ship_city, ship_district, ship_line1, total_amount, placed_at, paid_at, origin)
       select c.id, 'H-' || g, 'DELIVERED', '买家' || (g % $2), '买家' || (g % $2),
         '139' || lpad((g % $2)::text, 8, '0'), '北京', '北京市', '朝阳区', '北京朝阳区建国路 ' || (g % $2) || ' 号',
         198.00, t.at, t.at, 'CSV'
       from (
         select g, now() - interval '1 minute' - random() * make_interval(days => $4) as at
         from generate_series(1, $1::int) g
       ) t
       cross join (select id from channel where code = $3) c
       returning id, external_id, channel_id, placed_at
     ),
     l as (
       insert into order_line (order_id, line_no, product_code, product_id, quantity, unit_price, line_total)
       select o.id, 1, p.product_code, p.id, 2, 99.00, 198.00
       from o join product p on p.product_code = 'SKU-' || (substr(o.external_id, 3)::int % $5)
     )
     insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
       goods_returned, refund_amount, reason_class, responsible, requested_at, platform_updated_at)
     select o.channel_id, 'RF-' || o.external_id, o.external_id, o.id, 'RETURN_AND_REFUND', 'REQUESTED', 'REQUESTED',
       true, 198.00, 'BUYER_REMORSE', 'BUYER', o.placed_at + interval '1 day', o.placed_at + interval '1 day'
     from o where substr(o.external_id, 3)::int % 12 = 0`,
    [HISTORY, BUYERS, INGEST_CHANNEL, HISTORY_DAYS, INGEST_PRODUCTS],
  );
  // The hub's velocity job rolled the hours up when it started, before this history: it rolls them up again.
  await direct.query(`truncate product_orders_hour_rolled, product_orders_hourly`);
  await direct.query(`vacuum analyze "order", order_line, order_return`);
}

async function setRules(hub: HubProcess, enabledKinds: RiskKind[]): Promise<void> {
  for (const kind of Object.values(RiskKind)) {
    await graphql(
      hub.base,
      hub.adminKey,
      `
        mutation ($kind: RiskKind!, $enabled: Boolean!) {
          setRiskRule(kind: $kind, enabled: $enabled) {
            kind
          }
        }
      `,
      { kind, enabled: enabledKinds.includes(kind) },
    );
  }
}

const started = Date.now();
const database = await scratchDatabase(serverUrl, 'bench_risk_ingest');
let hub: HubProcess | null = null;
let direct: pg.Client | null = null;
let cleaned: Promise<void> | null = null;
/** Stops the hub and drops the database, once, whether the bench ended, failed or was interrupted. */
const cleanUp = () =>
  (cleaned ??= (async () => {
    try {
      await direct?.end().catch(() => {});
      await hub?.stop();
    } finally {
      await database.drop();
    }
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  hub = await startHubProcess(database.url, { LOG_LEVEL: 'warn' }, { passStderr: true });
  direct = new pg.Client({ connectionString: database.url });
  await direct.connect();
  await prepareIngest(hub, direct);
  await direct.query(`update product set list_price = 99.00 where product_code like 'SKU-%'`);
  const seeding = Date.now();
  await seedHistory(direct);
  const seeded = ((Date.now() - seeding) / 1000).toFixed(1);

  const onKinds = only ? [only] : Object.values(RiskKind);
  console.log(
    `## risk rules on vs off: webhook ingestion, ${CONNECTIONS} connections, ${PAIRS} pairs of ${SECONDS} s; ` +
      `"on" = ${onKinds.join(', ')}; ${HISTORY} orders of history over ${HISTORY_DAYS} days (seeded in ${seeded} s), ` +
      `${BUYERS} buyers`,
  );
  console.log('');
  console.log('| pair | rules | orders/s | p50 | p99 | non-2xx | flags raised in the run |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  let run = 0;
  let nextBuyer = 0;
  const measured = async (pair: string, on: boolean, seconds: number) => {
    await setRules(hub!, on ? onKinds : []);
    const { rows: before } = await direct!.query(`select count(*)::int as n from risk_flag`);
    const r = await ingestRun(hub!, {
      seconds,
      connections: CONNECTIONS,
      prefix: `R${run++}-`,
      shape: (payload) => {
        // Buyers in turn, each order placed now.
        const k = nextBuyer++ % BUYERS;
        payload.orderStartTime = payload.paymentConfirmTime = jdNow();
        payload.consigneeInfo = {
          ...payload.consigneeInfo,
          fullname: `买家${k}`,
          mobile: phoneOf(k),
          fullAddress: line1Of(k),
        };
      },
    });
    const { rows: after } = await direct!.query(`select count(*)::int as n from risk_flag`);
    console.log(
      `| ${pair} | ${on ? 'on' : 'off'} | ${r.rate.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${r.non2xx + r.errors} | ${after[0].n - before[0].n} |`,
    );
    return r.rate;
  };
  if (WARMUP_SECONDS > 0) for (const on of [true, false]) await measured('warm-up', on, WARMUP_SECONDS);
  const ratios: string[] = [];
  for (let pair = 1; pair <= PAIRS; pair++) {
    const rates = new Map<boolean, number>();
    for (const on of pair % 2 === 1 ? [false, true] : [true, false]) {
      rates.set(on, await measured(String(pair), on, SECONDS));
    }
    ratios.push((rates.get(true)! / rates.get(false)!).toFixed(2));
  }
  const { rows } = await direct.query(`select count(*)::int as n from "order"`);
  const { rows: velocity } = await direct.query(
    `select (select count(*)::int from product_orders_hour_rolled) as hours,
       (select count(*)::int from velocity_spike) as spikes,
       (select count(*)::int from risk_flag where kind = 'VELOCITY') as flags`,
  );
  console.log('');
  console.log(`on ÷ off, pair by pair: ${ratios.join(', ')}`);
  console.log(
    `velocity job: ${velocity[0].hours} hours rolled up, ${velocity[0].spikes} spikes, ${velocity[0].flags} VELOCITY flags`,
  );
  console.log(
    `(${rows[0].n} orders in the database at the end; whole bench ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
} finally {
  await cleanUp();
}
