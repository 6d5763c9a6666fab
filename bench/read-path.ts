// The read path at scale (issue 14): the `orders` page a frontend team asks for (a channel and a week, first 50,
// newest first, with channel, lines and products), on --orders seeded orders (server/seed.ts), from the hub as a
// process, beside a hand-written version: two SQL statements and a bare HTTP handler in this process returning
// the same JSON (checked at the start), on a pool as large as the hub's request pool; and PostGraphile 5
// serving the same page from the same tables in its own process (bench/postgraphile-server.ts), its answer
// mapped to the hub's JSON and checked the same way. All under --clients concurrent clients for --seconds,
// --pairs rounds (a pair: each of them in turn, the order reversed every other round); then one request at a
// time. --no-postgraphile leaves PostGraphile out.
//
// --database-url runs on a database already seeded (`npm run seed`) instead of seeding a scratch one.
//
// Usage: npm run bench:read-path -- [--orders 1000000 | --database-url <url>] [--clients 32] [--seconds 10]
//        [--pairs 2] [--single 50] [--no-postgraphile]
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { seedOrders } from '../server/seed.js';
import { freePort, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import {
  ask,
  countOption,
  firstDifference,
  load,
  PAGE,
  pageWindows,
  percentile,
  serverUrl,
  stringOption,
  type Target,
  type Variables,
} from './support.js';

const ORDERS = countOption('orders', 1_000_000);
const CLIENTS = countOption('clients', 32);
const SECONDS = countOption('seconds', 10);
const PAIRS = countOption('pairs', 2);
const SINGLE = countOption('single', 50);
const POSTGRAPHILE = !process.argv.includes('--no-postgraphile');
const GIVEN_URL = stringOption('database-url');
/** The hub's REQUEST_POOL_SIZE default: each side gets as many connections. */
const POOL_SIZE = 10;

/**
 * The same page in PostGraphile's shape (Amber preset, connection filter with relation filters): the channel
 * through the order's channel relation, sub-orders left out as the hub does, the same order and tie-break,
 * lines in line order. `rowId` is the order's uuid (Amber's `id` is its global node id).
 */
const POSTGRAPHILE_PAGE = `query Page($channel: String!, $from: Datetime!, $to: Datetime!) {
  allOrders(first: 50, orderBy: [PLACED_AT_DESC, ROW_ID_DESC],
            filter: { channelByChannelId: { code: { equalTo: $channel } },
                      placedAt: { greaterThanOrEqualTo: $from, lessThan: $to }, parentId: { isNull: true } }) {
    pageInfo { hasNextPage }
    nodes {
      rowId externalId status placedAt customerName totalAmount currencyCode
      channelByChannelId { code name platform }
      orderLinesByOrderId(orderBy: LINE_NO_ASC) {
        nodes { productCode quantity unitPrice productByProductId { productCode name } }
      }
    }
  }
}`;

interface PostGraphileOrder {
  rowId: string;
  externalId: string;
  status: string;
  placedAt: string;
  customerName: string;
  totalAmount: string;
  currencyCode: string;
  channelByChannelId: { code: string; name: string; platform: string };
  orderLinesByOrderId: {
    nodes: {
      productCode: string;
      quantity: number;
      unitPrice: string;
      productByProductId: { productCode: string; name: string } | null;
    }[];
  };
}

/** PostGraphile's answer in the hub's JSON: fields renamed, timestamps as ISO strings (PostGraphile gives
 * PostgreSQL's text with an offset), amounts with the order's currency as the hub gives them. */
function fromPostGraphile(body: unknown): unknown {
  const { allOrders } = (body as { data: { allOrders: { pageInfo: unknown; nodes: PostGraphileOrder[] } } })
    .data;
  return {
    data: {
      orders: {
        pageInfo: allOrders.pageInfo,
        edges: allOrders.nodes.map((o) => ({
          node: {
            id: o.rowId,
            externalId: o.externalId,
            status: o.status,
            placedAt: new Date(o.placedAt).toISOString(),
            customerName: o.customerName,
            total: { amount: o.totalAmount, currencyCode: o.currencyCode },
            channel: o.channelByChannelId,
            lines: o.orderLinesByOrderId.nodes.map((l) => ({
              productCode: l.productCode,
              quantity: l.quantity,
              unitPrice: { amount: l.unitPrice, currencyCode: o.currencyCode },
              product: l.productByProductId,
            })),
          },
        })),
      },
    },
  };
}

/** The same page as the hub gives it, from two statements: the orders, then their lines with products. */
function handWritten(pool: pg.Pool) {
  return async ({ channel, from, to }: Variables) => {
    const { rows: orders } = await pool.query(
      `select o.id, o.external_id, o.status, o.placed_at, o.customer_name, o.total_amount, o.currency_code,
              c.code, c.name, c.platform
         from "order" o join channel c on c.id = o.channel_id
        where c.code = $1 and o.placed_at >= $2 and o.placed_at < $3 and o.parent_id is null
        order by o.placed_at desc, o.id desc limit 51`,
      [channel, from, to],
    );
    const page = orders.slice(0, 50);
    const { rows: lines } = await pool.query(
      `select l.order_id, l.product_code, l.quantity, l.unit_price, p.product_code as code, p.name
         from order_line l left join product p on p.id = l.product_id
        where l.order_id = any($1::uuid[]) order by l.order_id, l.line_no`,
      [page.map((o) => o.id)],
    );
    const byOrder = new Map<string, unknown[]>(page.map((o) => [o.id, []]));
    for (const l of lines) {
      byOrder.get(l.order_id)!.push({
        productCode: l.product_code,
        quantity: l.quantity,
        unitPrice: { amount: l.unit_price, currencyCode: 'CNY' },
        product: l.code === null ? null : { productCode: l.code, name: l.name },
      });
    }
    return {
      data: {
        orders: {
          pageInfo: { hasNextPage: orders.length > 50 },
          edges: page.map((o) => ({
            node: {
              id: o.id,
              externalId: o.external_id,
              status: o.status,
              placedAt: (o.placed_at as Date).toISOString(),
              customerName: o.customer_name,
              total: { amount: o.total_amount, currencyCode: o.currency_code },
              channel: { code: o.code, name: o.name, platform: o.platform },
              lines: byOrder.get(o.id),
            },
          })),
        },
      },
    };
  };
}

async function startHandServer(pool: pg.Pool) {
  const answer = handWritten(pool);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: Variables };
      answer(variables).then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** bench/postgraphile-server.ts, compiled beside this file. */
const POSTGRAPHILE_SERVER = new URL('./postgraphile-server.js', import.meta.url);
/** How long PostGraphile may take to introspect the database and listen, and to stop when asked. */
const POSTGRAPHILE_START_MS = 120_000;
const POSTGRAPHILE_STOP_MS = 10_000;

/** Started processes still to stop, killed if this process exits or is interrupted before it stops them. */
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    children.forEach((c) => c.kill('SIGKILL'));
    process.exit(code);
  });
}

/**
 * PostGraphile in its own process on this Node (process.execPath), with a pool as large as the others', in
 * production mode as it would be deployed; resolves once it listens.
 */
async function startPostGraphile(databaseUrl: string) {
  const port = await freePort();
  const child = spawn(process.execPath, [POSTGRAPHILE_SERVER.pathname], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      POOL_SIZE: String(POOL_SIZE),
      NODE_ENV: 'production',
      GRAPHILE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const kill = setTimeout(() => child.kill('SIGKILL'), POSTGRAPHILE_STOP_MS);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    }
    children.delete(child);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`PostGraphile was not ready within ${POSTGRAPHILE_START_MS} ms:\n${output}`)),
        POSTGRAPHILE_START_MS,
      );
      const onData = () => {
        if (!output.includes('PostGraphile ready')) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      };
      child.stdout!.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(
          new Error(
            `PostGraphile exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`,
          ),
        );
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  // Whatever it says later (errors under load) comes through.
  child.stdout!.on('data', (c: Buffer) => process.stdout.write(`[postgraphile] ${c.toString()}`));
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(`[postgraphile] ${c.toString()}`));
  return { base: `http://127.0.0.1:${port}`, stop };
}

const database = GIVEN_URL
  ? { url: GIVEN_URL, drop: async () => undefined }
  : await scratchDatabase(serverUrl, 'bench_read_path');
// As deployed, and as PostGraphile runs beside it: graphql-js checks every type test harder outside production.
const hub = await startHubProcess(
  database.url,
  { LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  { readyWithinMs: 600_000 },
);
children.add(hub.child);
const pool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE });
const hand = await startHandServer(pool);
let postgraphile: Awaited<ReturnType<typeof startPostGraphile>> | undefined;
try {
  if (GIVEN_URL) {
    const { rows } = await pool.query<{ n: string }>('select count(*)::text as n from "order"');
    console.log(`## read path: ${rows[0].n} orders already seeded; ${CLIENTS} clients, ${SECONDS} s runs`);
  } else {
    const seedStarted = Date.now();
    const seeded = await seedOrders(database.url, { orders: ORDERS });
    console.log(
      `## read path: ${seeded.orders} orders seeded in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s ` +
        `(${seeded.lines} lines); ${CLIENTS} clients, ${SECONDS} s runs`,
    );
  }
  // After the hub has migrated the database: PostGraphile introspects it when it starts.
  if (POSTGRAPHILE) postgraphile = await startPostGraphile(database.url);
  const windows = await pageWindows(pool);
  const targets: Target[] = [
    { name: 'hub', base: hub.base, headers: { authorization: `Bearer ${hub.adminKey}` }, query: PAGE },
    { name: 'hand-written SQL', base: hand.base, headers: {}, query: PAGE },
  ];
  if (postgraphile) {
    targets.push({
      name: 'PostGraphile',
      base: postgraphile.base,
      headers: {},
      query: POSTGRAPHILE_PAGE,
      asHub: fromPostGraphile,
    });
  }

  // Same rows, same JSON (PostGraphile's mapped to the hub's shape), on pages that are not all empty.
  const checkers = targets.map((t) => new Pool(t.base, { connections: 1 }));
  let ordersChecked = 0;
  for (const w of windows.slice(0, 5)) {
    const hubAnswer = await ask(checkers[0], targets[0], w);
    ordersChecked += (hubAnswer as { data: { orders: { edges: unknown[] } } }).data.orders.edges.length;
    for (let i = 1; i < targets.length; i++) {
      const t = targets[i];
      const raw = await ask(checkers[i], t, w);
      const answer = t.asHub ? t.asHub(raw) : raw;
      if (!isDeepStrictEqual(hubAnswer, answer)) {
        throw new Error(
          `the hub's and ${t.name}'s answers differ for ${JSON.stringify(w)}, first at ` +
            `${firstDifference(hubAnswer, answer)}:\n` +
            `${JSON.stringify(hubAnswer).slice(0, 800)}\n${JSON.stringify(answer).slice(0, 800)}`,
        );
      }
    }
  }
  await Promise.all(checkers.map((c) => c.close()));
  if (ordersChecked === 0) throw new Error('the pages checked are all empty: nothing was compared');

  // Warm each (caches, JIT, connections), uncounted.
  for (const t of targets) await load(t, windows, CLIENTS, 3);

  console.log('');
  console.log('| pair | serving | requests/s | p50 | p99 |');
  console.log('| --- | --- | --- | --- | --- |');
  const ratios: string[] = [];
  const postgraphileRatios: string[] = [];
  for (let pair = 1; pair <= PAIRS; pair++) {
    const order = pair % 2 === 1 ? targets : [...targets].reverse();
    const rates = new Map<string, number>();
    for (const t of order) {
      const r = await load(t, windows, CLIENTS, SECONDS);
      rates.set(t.name, r.rate);
      console.log(
        `| ${pair} | ${t.name} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms |`,
      );
    }
    ratios.push((rates.get('hub')! / rates.get('hand-written SQL')!).toFixed(2));
    if (postgraphile) postgraphileRatios.push((rates.get('hub')! / rates.get('PostGraphile')!).toFixed(2));
  }
  console.log('');
  console.log(`hub ÷ hand-written, pair by pair: ${ratios.join(', ')}`);
  if (postgraphile) console.log(`hub ÷ PostGraphile, pair by pair: ${postgraphileRatios.join(', ')}`);

  console.log('');
  console.log(`One request at a time (${SINGLE} each):`);
  for (const t of targets) {
    const client = new Pool(t.base, { connections: 1 });
    const times: number[] = [];
    for (let i = 0; i < SINGLE; i++) {
      const s = performance.now();
      await ask(client, t, windows[(i * 37) % windows.length]);
      times.push(performance.now() - s);
    }
    await client.close();
    times.sort((a, b) => a - b);
    console.log(
      `- ${t.name}: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms`,
    );
  }
} finally {
  await postgraphile?.stop();
  await new Promise((resolve) => hand.server.close(resolve));
  await pool.end();
  await hub.stop();
  await database.drop();
}
