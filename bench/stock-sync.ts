// The stock sync to the platforms (issue 12, "Speed"). Two parts, each on its own scratch database and hub
// process (`node dist/server/main.js`, which runs the sync), with the seven fake platforms of
// test/support/fake-platforms.ts in this process, each answering after --latency ms, all on 127.0.0.1:
//
// 1. Burst: --changes adjustStock calls over --products products, sent through the hub's GraphQL API as
//    fast as it takes them (--batch mutations a request, --concurrency requests in flight), every product
//    listed on one channel of each platform. Reports the calls each platform got and, for each listing, the
//    time from the last change until its platform shows the hub's target for it (p50, p99, max per
//    platform), beside the lower bound the platform's call rate sets (batches needed / calls a second).
// 2. Sync on vs off: the webhook-ingest and hot-product hold workloads (bench/ingest-load.ts,
//    bench/hold-load.ts) with every product listed on the seven platforms, the channels' stockSync on and
//    off in turn (--pairs pairs, each in the other order than the one before), and each pair's ratio.
//
// Usage: npm run bench:stock-sync -- [--products 1000] [--changes 20000] [--latency 20] [--batch 20]
//   [--concurrency 16] [--max-wait 240] [--rps N] [--seconds 10] [--pairs 2] [--ingest-connections 32]
//   [--hold-connections 64] [--only burst|onoff|ingest|holds] [--sync-process] [--warmup 10]
// (or `npm run build:bench` and `npx node dist/bench/stock-sync.js …`: Node 24, as the hub needs.)
// --rps: calls a second every channel may make, instead of each platform's documented default: a what-if
// that shows how fast the engine itself converges when the platform allows more.
// --sync-process: in the on/off part, the hub that takes the orders and holds runs no stock sync
// (STOCK_SYNC_CONCURRENCY=0); a second hub process on the same database pushes, as a deployment may split them.
// --warmup: seconds of one run with sync on and one with it off before the pairs, not counted (0: none).
// --max-wait: how long the burst waits for convergence after the last change before it reports what is left.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Platform } from '../common/enums.js';
import { PlatformClients } from '../services/platform-client.js';
import { LISTING_SELECT } from '../services/stock-sync/listings.js';
import { stockClientFor } from '../services/stock-sync/platforms/index.js';
import type { FakePlatformName } from '../test/support/fake-platforms.js';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import {
  ALL_PLATFORMS,
  connectFake,
  createChannel,
  listingStates,
  openDb,
  startSyncFake,
  type ConnectedChannel,
  type MappedListing,
  type SyncDb,
  type SyncFake,
} from '../test/support/stock-sync.js';
import { HOLD_SCENARIOS, holdCheck, holdRun, prepareHolds } from './hold-load.js';
import { INGEST_PRODUCTS, ingestRun, prepareIngest } from './ingest-load.js';
import { inParallel, percentile, serverUrl } from './support.js';

function option(name: string, fallback: number, { zero = false } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero))
    throw new Error(`--${name} needs a positive number${zero ? ' or 0' : ''}`);
  return value;
}
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex < 0 ? null : process.argv[onlyIndex + 1];
if (only !== null && !['burst', 'onoff', 'ingest', 'holds'].includes(only))
  throw new Error('--only takes burst, onoff, ingest or holds');

const PRODUCTS = option('products', 1000);
const CHANGES = option('changes', 20_000);
const LATENCY_MS = option('latency', 20);
const BATCH = option('batch', 20);
const CONCURRENCY = option('concurrency', 16);
const MAX_WAIT_S = option('max-wait', 240);
const RPS = process.argv.includes('--rps') ? option('rps', 1) : null;
const SECONDS = option('seconds', 10);
const PAIRS = option('pairs', 2);
const WARMUP_SECONDS = option('warmup', 10, { zero: true });
const INGEST_CONNECTIONS = option('ingest-connections', 32);
const HOLD_CONNECTIONS = option('hold-connections', 64);
const SYNC_PROCESS = process.argv.includes('--sync-process');

// Shopify's Standard plan (docs/stock-sync.md): 100 points a second; the bucket holds 1,000.
const SHOPIFY_BUDGET = { maximum: 1000, restorePerSecond: 100 };

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const channelCode = (platform: FakePlatformName) => `sync-${platform.toLowerCase()}`;
const SYNC_CHANNELS = ALL_PLATFORMS.map(channelCode);
const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '—');

/**
 * The seven fake platforms, each with a channel `sync-<platform>` connected to it (test/support/stock-sync.ts)
 * whose listings are `products`, every one showing `quantity` and recorded as confirmed: the state after an
 * initial sync. stockSync stays off until `setSync`, so the setup queues no pushes of numbers the fakes
 * already show.
 */
async function attachPlatforms(
  db: SyncDb,
  products: string[],
  quantity: number,
): Promise<ConnectedChannel[]> {
  const fakes: SyncFake[] = [];
  const channels: ConnectedChannel[] = [];
  try {
    for (const platform of ALL_PLATFORMS) {
      const sync = await startSyncFake(platform, { latencyMs: LATENCY_MS, shopifyBudget: SHOPIFY_BUDGET });
      fakes.push(sync);
      const code = channelCode(platform);
      await createChannel(db, code, platform);
      channels.push(
        await connectFake(db, {
          channelCode: code,
          sync,
          productCodes: products,
          initialQuantity: quantity,
          stockSync: false,
          ...(RPS && { requestsPerSecond: RPS }),
        }),
      );
    }
    await db.sql(
      `update channel_sku set confirmed = $1, confirmed_at = now(), sync_state = 'IN_SYNC'
        where channel_id in (select id from channel where code = any($2))`,
      [quantity, SYNC_CHANNELS],
    );
    return channels;
  } catch (err) {
    await Promise.all(fakes.map((f) => f.fake.close()));
    throw err;
  }
}

const closeFakes = (channels: ConnectedChannel[]) => Promise.all(channels.map((c) => c.sync.fake.close()));

/**
 * Turns the seven channels' stockSync on or off without queueing a push of every listing, as the trigger on
 * `channel` would (session_replication_role = replica skips triggers): with sync on, a run pushes what its own
 * changes move, and what the hub's sweep finds out of step.
 */
async function setSync(direct: pg.Client, on: boolean): Promise<void> {
  await direct.query('begin');
  try {
    await direct.query(`set local session_replication_role = replica`);
    await direct.query(`update channel set stock_sync = $1 where code = any($2)`, [on, SYNC_CHANNELS]);
    await direct.query('commit');
  } catch (err) {
    await direct.query('rollback');
    throw err;
  }
}

/**
 * Every listing in step, as once the sync has caught up: each fake shows the listing's target, recorded as
 * confirmed. Before every on/off run, so a run with sync on pushes what its own changes move, not what
 * changed while sync was off (which the hub's sweep would queue at once). Triggers off (replica), as the
 * pushes' own writes raise no trigger that queues a push either.
 */
async function inStep(direct: pg.Client, channels: ConnectedChannel[]): Promise<void> {
  const listings = new Map(
    channels.flatMap((c) =>
      c.listings.map((l) => [`${c.channelCode}/${l.platformSkuId}`, { c, l }] as const),
    ),
  );
  const { rows } = await direct.query<{ channel_code: string; platform_sku_id: string; target: number }>(
    `select channel_code, platform_sku_id, target from (${LISTING_SELECT} where c.code = any($1)) l`,
    [SYNC_CHANNELS],
  );
  for (const row of rows) {
    const { c, l } = listings.get(`${row.channel_code}/${row.platform_sku_id}`)!;
    if (c.sync.fake.quantity(l.fakeSkuId, l.locationId ?? undefined) !== row.target) {
      c.sync.fake.setQuantity(l.fakeSkuId, row.target, l.locationId ?? undefined);
    }
  }
  await direct.query('begin');
  try {
    await direct.query(`set local session_replication_role = replica`);
    await direct.query(
      `update channel_sku cs set confirmed = l.target, confirmed_at = now(), sync_state = 'IN_SYNC', uncertain = false
         from (${LISTING_SELECT} where c.code = any($1)) l
        where cs.id = l.listing_id and (cs.confirmed is distinct from l.target or cs.sync_state <> 'IN_SYNC')`,
      [SYNC_CHANNELS],
    );
    await direct.query('commit');
  } catch (err) {
    await direct.query('rollback');
    throw err;
  }
}

async function queuedPushes(db: SyncDb): Promise<number> {
  const [row] = await db.sql<{ n: number }>(
    `select count(*)::int as n from graphile_worker._private_jobs where key like 'stock-sync%'`,
  );
  return row.n;
}

/** Waits until the queue holds no push, within `maxMs`; answers how long it took. */
async function untilQueueEmpty(db: SyncDb, maxMs: number): Promise<number> {
  const start = now();
  while ((await queuedPushes(db)) > 0) {
    if (now() - start > maxMs) throw new Error(`the push queue did not drain within ${maxMs} ms`);
    await sleep(100);
  }
  return now() - start;
}

async function pushesRecorded(db: SyncDb): Promise<number> {
  const [row] = await db.sql<{ n: number }>(`select count(*)::int as n from stock_push`);
  return row.n;
}

/** Index and sequential scans of graphile-worker's job table so far (statistics lag commits by up to a second). */
async function jobTableScans(db: SyncDb): Promise<number> {
  const [row] = await db.sql<{ n: number }>(
    `select (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::int as n from pg_stat_user_tables
      where schemaname = 'graphile_worker' and relname = '_private_jobs'`,
  );
  return row?.n ?? 0;
}

/** A small seeded generator, so every run sends the same changes. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The pace the hub keeps on a platform (calls a second, listings a call) and the least time setting every
 * listing once takes at that pace: one call per batch the platform's batch calls allow.
 */
function platformPace(platform: FakePlatformName, listings: MappedListing[]) {
  const http = new PlatformClients();
  try {
    const client = stockClientFor(Platform[platform], { http })!;
    const perKey = new Map<string, number>();
    for (const listing of listings) {
      const key = client.batchKey({ listingId: listing.platformSkuId, ...listing });
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    let calls = 0;
    for (const n of perKey.values()) calls += Math.ceil(n / client.maxBatch);
    const rps = RPS ?? client.defaultRequestsPerSecond;
    let boundMs = (calls / rps) * 1000;
    if (platform === 'SHOPIFY') {
      // And the cost budget: 10 points a call and 1 a quantity (the fake's guess), from a full bucket.
      const points = calls * 10 + listings.length;
      boundMs = Math.max(
        boundMs,
        ((points - SHOPIFY_BUDGET.maximum) / SHOPIFY_BUDGET.restorePerSecond) * 1000,
      );
    }
    return { rps, maxBatch: client.maxBatch, calls, boundMs };
  } finally {
    http.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1. Burst

async function burst(): Promise<void> {
  const database = await scratchDatabase(serverUrl, 'bench_stock_sync_burst');
  const hub = await startHubProcess(database.url, {}, { passStderr: true });
  const db = openDb(database.url);
  const direct = new pg.Client({ connectionString: database.url });
  await direct.connect();
  let channels: ConnectedChannel[] = [];
  try {
    const START = 10_000;
    const products = Array.from({ length: PRODUCTS }, (_, i) => `P-${String(i).padStart(5, '0')}`);
    await db.sql(
      `with p as (insert into product (product_code, name) select code, code from unnest($1::text[]) code
                  returning id, product_code)
       insert into inventory_item (product_id, product_code, on_hand) select id, product_code, $2 from p`,
      [products, START],
    );
    channels = await attachPlatforms(db, products, START);
    await setSync(direct, true);

    // The changes, drawn up front: a random product each, ±1–5 units; the pool's final numbers follow.
    const random = mulberry32(12);
    const changes = Array.from({ length: CHANGES }, () => ({
      product: products[Math.floor(random() * PRODUCTS)],
      delta: (1 + Math.floor(random() * 5)) * (random() < 0.5 ? -1 : 1),
    }));
    const finalAvailable = new Map(products.map((code) => [code, START]));
    for (const c of changes) finalAvailable.set(c.product, finalAvailable.get(c.product)! + c.delta);
    const requests: string[] = [];
    for (let i = 0; i < changes.length; i += BATCH) {
      const fields = changes
        .slice(i, i + BATCH)
        .map(
          (c, k) =>
            `a${k}: adjustStock(productCode: "${c.product}", delta: ${c.delta}, reason: "bench") { onHand }`,
        );
      requests.push(`mutation { ${fields.join(' ')} }`);
    }

    console.log(
      `## burst: ${CHANGES.toLocaleString('en')} adjustStock over ${PRODUCTS.toLocaleString('en')} products ` +
        `(${BATCH} a request, ${CONCURRENCY} requests in flight), every product listed on 7 platforms answering ` +
        `in ${LATENCY_MS} ms; ${RPS ? `every channel at ${RPS} calls/s (--rps)` : "each platform's own call rate"}`,
    );
    let next = 0;
    const firstChange = now();
    await inParallel(CONCURRENCY, async () => {
      while (next < requests.length) await graphql(hub.base, hub.adminKey, requests[next++]);
    });
    const lastChange = now();
    const callsDuringBurst = new Map(channels.map((c) => [c.channelCode, c.sync.fake.calls.length]));
    console.log(
      `changes took ${seconds(lastChange - firstChange)}: ${((CHANGES / (lastChange - firstChange)) * 1000).toFixed(0)} changes/s through the API`,
    );

    // For each listing, when its platform first shows the final number (0: it already did at the last change).
    const pending = new Map(channels.map((c) => [c, new Set(c.listings)]));
    const agreedAfter = new Map(channels.map((c) => [c, [] as number[]]));
    const look = () => {
      const at = Math.max(0, now() - lastChange);
      for (const [channel, left] of pending) {
        for (const listing of left) {
          const shown = channel.sync.fake.quantity(listing.fakeSkuId, listing.locationId ?? undefined);
          if (shown === finalAvailable.get(listing.productCode)) {
            left.delete(listing);
            agreedAfter.get(channel)!.push(at);
          }
        }
      }
      return [...pending.values()].reduce((n, left) => n + left.size, 0);
    };
    const deadline = lastChange + MAX_WAIT_S * 1000;
    let lastReport = now();
    for (let left = look(); left > 0 && now() < deadline; left = look()) {
      if (now() - lastReport > 15_000) {
        console.log(`  ${seconds(now() - lastChange)} after the last change: ${left} listings not there yet`);
        lastReport = now();
      }
      await sleep(20);
    }
    const fakesAgreedMs = now() - lastChange;

    // The hub's own view: the target it computes for each listing, and when it reports every one IN_SYNC.
    let states = await listingStates(db);
    while (states.some((s) => s.state !== 'IN_SYNC') && now() < deadline) {
      await sleep(200);
      states = await listingStates(db);
    }
    const hubInSyncMs = states.some((s) => s.state !== 'IN_SYNC') ? NaN : now() - lastChange;
    const wrongTargets = states.filter((s) => s.target !== finalAvailable.get(s.productCode)).length;
    const outcomes = await db.sql<{ channel_code: string; outcome: string; n: number }>(
      `select channel_code, outcome, count(*)::int as n from stock_push group by 1, 2 order by 1, 2`,
    );
    const left = [...pending.values()].reduce((n, l) => n + l.size, 0);
    console.log(
      left
        ? `NOT converged: ${left} listings still off ${MAX_WAIT_S} s after the last change (--max-wait)`
        : `every fake showed the hub's target ${seconds(fakesAgreedMs)} after the last change; ` +
            `the hub reported every listing IN_SYNC after ${seconds(hubInSyncMs)}`,
    );
    console.log(
      `hub targets equal to the pool's final numbers: ${states.length - wrongTargets} of ${states.length}`,
    );
    console.log('');
    console.log(
      '| platform | calls (during / after the burst) | writes applied | listings there | p50 | p99 | max | within 5 s | pace: calls/s × listings/call | lower bound | max ÷ bound |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const channel of channels) {
      const { fake, platform } = channel.sync;
      const times = agreedAfter.get(channel)!.sort((a, b) => a - b);
      const max = pending.get(channel)!.size > 0 ? Infinity : (times.at(-1) ?? 0);
      const pace = platformPace(platform, channel.listings);
      const during = callsDuringBurst.get(channel.channelCode)!;
      console.log(
        `| ${platform} | ${fake.calls.length} (${during} / ${fake.calls.length - during}) | ${fake.writes()} ` +
          `| ${times.length} of ${channel.listings.length} | ${seconds(percentile(times, 50))} | ${seconds(percentile(times, 99))} ` +
          `| ${seconds(max)} | ${max <= 5000 ? 'yes' : 'no'} | ${pace.rps} × ${pace.maxBatch} ` +
          `| ${seconds(pace.boundMs)} (${pace.calls} calls) | ${Number.isFinite(max) ? (max / pace.boundMs).toFixed(1) : '—'} |`,
      );
    }
    console.log('');
    console.log(
      `pushes recorded (stock_push): ${outcomes.map((o) => `${o.channel_code} ${o.outcome} ${o.n}`).join(', ')}`,
    );
  } finally {
    await direct.end();
    await db.end();
    await hub.stop();
    await closeFakes(channels);
    await database.drop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Sync on vs off

interface RunFigures {
  rate: number;
  p50: number;
  p99: number;
  note: string;
}

/** Runs `work` with sync off and on in turn (off–on, on–off, …) and prints each run and each pair's ratio. */
async function onOff(
  label: string,
  { url, db, direct, channels }: { url: string; db: SyncDb; direct: pg.Client; channels: ConnectedChannel[] },
  work: (run: number, seconds: number) => Promise<RunFigures>,
): Promise<void> {
  console.log(`### ${label}`);
  console.log('');
  console.log(
    '| pair | sync | per second | p50 | p99 | pushes during the run | queued at its end | `jobs:insert` notifications | job table scans | |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  // What the enqueue costs besides its rows: graphile-worker's add_jobs notifies `jobs:insert` in every
  // transaction that queues a push, and each notification may make every hub's worker look for jobs.
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  const notices = { count: 0 };
  listener.on('notification', () => notices.count++);
  await listener.query('listen "jobs:insert"');
  const ratios: string[] = [];
  let run = 0;
  // Every run starts on an empty queue (what the run before left goes as no-ops with sync off), every
  // listing in step.
  const measured = async (pair: string, on: boolean, seconds: number) => {
    await setSync(direct, false);
    await untilQueueEmpty(db, 300_000);
    await inStep(direct, channels);
    await setSync(direct, on);
    const pushesBefore = await pushesRecorded(db);
    const scansBefore = await jobTableScans(db);
    notices.count = 0;
    const figures = await work(run++, seconds);
    const pushes = (await pushesRecorded(db)) - pushesBefore;
    console.log(
      `| ${pair} | ${on ? 'on' : 'off'} | ${figures.rate.toFixed(0)} | ${figures.p50} ms | ${figures.p99} ms ` +
        `| ${pushes} | ${await queuedPushes(db)} | ${notices.count} | ${(await jobTableScans(db)) - scansBefore} | ${figures.note} |`,
    );
    return figures.rate;
  };
  // Not counted: the first seconds of either path in a fresh hub (and fakes) run cold: code not yet
  // optimised, statements not yet prepared on the sync's connections.
  if (WARMUP_SECONDS > 0) for (const on of [true, false]) await measured('warm-up', on, WARMUP_SECONDS);
  for (let pair = 1; pair <= PAIRS; pair++) {
    const rates = new Map<boolean, number>();
    for (const on of pair % 2 === 1 ? [false, true] : [true, false]) {
      rates.set(on, await measured(String(pair), on, SECONDS));
    }
    ratios.push((rates.get(true)! / rates.get(false)!).toFixed(2));
  }
  await setSync(direct, false);
  await listener.end();
  console.log('');
  console.log(`on ÷ off, pair by pair: ${ratios.join(', ')}`);
  console.log('');
}

async function syncOnOff(): Promise<void> {
  console.log(
    `## sync on vs off: ${PAIRS} pairs, ${SECONDS} s a run; every product listed on 7 platforms answering in ${LATENCY_MS} ms`,
  );
  for (const workload of (['ingest', 'holds'] as const).filter(
    (w) => only === null || only === 'onoff' || only === w,
  )) {
    const database = await scratchDatabase(serverUrl, `bench_stock_sync_${workload}`);
    // --sync-process: the hub that takes the work pushes nothing; a second hub process does the pushing.
    const hub = await startHubProcess(database.url, SYNC_PROCESS ? { STOCK_SYNC_CONCURRENCY: '0' } : {}, {
      passStderr: true,
    });
    const pusher = SYNC_PROCESS
      ? await startHubProcess(database.url, { HUB_SERVE: 'graphql' }, { passStderr: true }).catch(
          async (err: unknown) => {
            await hub.stop();
            throw err;
          },
        )
      : null;
    const db = openDb(database.url);
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    let channels: ConnectedChannel[] = [];
    try {
      if (workload === 'ingest') {
        await prepareIngest(hub, direct);
        const products = Array.from({ length: INGEST_PRODUCTS }, (_, i) => `SKU-${i}`);
        channels = await attachPlatforms(db, products, 100_000_000);
        await onOff(
          `webhook ingestion (orders/s), ${INGEST_CONNECTIONS} connections, ${INGEST_PRODUCTS} products`,
          { url: database.url, db, direct, channels },
          async (run, seconds) => {
            const r = await ingestRun(hub, {
              seconds,
              connections: INGEST_CONNECTIONS,
              prefix: `S${run}-`,
            });
            return { ...r, note: `${r.ok} answered 200, ${r.non2xx} other, ${r.errors} errors` };
          },
        );
      } else {
        const ids = await prepareHolds(direct);
        channels = await attachPlatforms(db, [...ids.keys()], 100_000_000);
        for (const scenario of HOLD_SCENARIOS) {
          await onOff(
            `reserveStock (holds/s), ${scenario.name}, ${HOLD_CONNECTIONS} connections`,
            { url: database.url, db, direct, channels },
            async (_run, seconds) => {
              const r = await holdRun(hub, scenario, { seconds, connections: HOLD_CONNECTIONS });
              const check = await holdCheck(direct);
              const clean = check.negative === 0 && check.mismatched === 0;
              return {
                ...r,
                note: `${r.refused} refused, ${r.non2xx} non-2xx, ${r.errors} errors; oversell check ${clean ? 'OK' : `FAILED ${JSON.stringify(check)}`}${r.firstRefusal ? `; first refusal: ${r.firstRefusal}` : ''}`,
              };
            },
          );
        }
      }
    } finally {
      await direct.end();
      await db.end();
      await hub.stop();
      await pusher?.stop();
      await closeFakes(channels);
      await database.drop();
    }
  }
}

const started = now();
if (only === null || only === 'burst') await burst();
if (only !== 'burst') await syncOnOff();
console.log(`(whole bench: ${seconds(now() - started)})`);
