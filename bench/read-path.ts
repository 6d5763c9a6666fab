// The read path at scale (issue 14): the `orders` page a frontend team asks for (a channel and a week, first 50,
// newest first, with channel, lines and products), on --orders seeded orders (server/seed.ts), from the hub as a
// process, beside a hand-written version: two SQL statements and a bare HTTP handler in this process returning
// the same JSON (checked at the start), on a pool as large as the hub's request pool. Both under --clients
// concurrent clients for --seconds, --pairs pairs alternating which goes first; then one request at a time.
//
// Usage: npm run bench:read-path -- [--orders 1000000] [--clients 32] [--seconds 10] [--pairs 2] [--single 50]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { seedOrders } from '../server/seed.js';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { percentile, serverUrl } from './support.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}
const ORDERS = option('orders', 1_000_000);
const CLIENTS = option('clients', 32);
const SECONDS = option('seconds', 10);
const PAIRS = option('pairs', 2);
const SINGLE = option('single', 50);
/** The hub's REQUEST_POOL_SIZE default: each side gets as many connections. */
const POOL_SIZE = 10;
const WINDOW_MS = 7 * 86_400_000;

const PAGE = `query Page($channel: String!, $from: DateTime!, $to: DateTime!) {
  orders(first: 50, filter: { channelCodes: [$channel], placedFrom: $from, placedTo: $to },
         sort: { field: PLACED_AT, direction: DESC }) {
    pageInfo { hasNextPage }
    edges { node {
      id externalId status placedAt customerName total { amount currencyCode }
      channel { code name platform }
      lines { productCode quantity unitPrice { amount currencyCode } product { productCode name } }
    } }
  }
}`;

interface Variables {
  channel: string;
  from: string;
  to: string;
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

interface Target {
  name: string;
  base: string;
  headers: Record<string, string>;
}

async function ask(client: Pool, target: Target, variables: Variables): Promise<unknown> {
  const reply = await client.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: PAGE, variables }),
  });
  const body = (await reply.body.json()) as { errors?: unknown };
  if (reply.statusCode !== 200 || body.errors) {
    throw new Error(`${target.name} answered ${reply.statusCode}: ${JSON.stringify(body).slice(0, 500)}`);
  }
  return body;
}

async function load(target: Target, windows: Variables[], clients: number, seconds: number) {
  const client = new Pool(target.base, { connections: clients });
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          await ask(client, target, windows[next++ % windows.length]);
          latencies.push(performance.now() - t);
        }
      }),
    );
  } finally {
    await client.close();
  }
  latencies.sort((a, b) => a - b);
  const elapsed = (performance.now() - started) / 1000;
  return {
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const database = await scratchDatabase(serverUrl, 'bench_read_path');
const hub = await startHubProcess(database.url, { LOG_LEVEL: 'warn' });
const pool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE });
const hand = await startHandServer(pool);
try {
  const seedStarted = Date.now();
  const seeded = await seedOrders(database.url, { orders: ORDERS });
  console.log(
    `## read path: ${seeded.orders} orders seeded in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s ` +
      `(${seeded.lines} lines); ${CLIENTS} clients, ${SECONDS} s runs`,
  );
  // A week in each busy channel, spread over the seeded year, the same list for both sides.
  const { rows: channels } = await pool.query<{ code: string; first: Date; last: Date }>(
    `select c.code, min(o.placed_at) as first, max(o.placed_at) as last from "order" o
       join channel c on c.id = o.channel_id group by c.code having count(*) >= 1000 order by count(*) desc`,
  );
  const windows: Variables[] = [];
  for (let i = 0; i < 400; i++) {
    const c = channels[i % channels.length];
    const span = c.last.getTime() - c.first.getTime() - WINDOW_MS;
    const from = c.first.getTime() + Math.floor((((i * 7919) % 1000) / 1000) * Math.max(span, 0));
    windows.push({
      channel: c.code,
      from: new Date(from).toISOString(),
      to: new Date(from + WINDOW_MS).toISOString(),
    });
  }
  const targets: Target[] = [
    { name: 'hub', base: hub.base, headers: { authorization: `Bearer ${hub.adminKey}` } },
    { name: 'hand-written SQL', base: hand.base, headers: {} },
  ];

  // Same rows, same JSON.
  const checker = new Pool(hub.base, { connections: 1 });
  const handChecker = new Pool(hand.base, { connections: 1 });
  for (const w of windows.slice(0, 5)) {
    const [a, b] = [await ask(checker, targets[0], w), await ask(handChecker, targets[1], w)];
    if (!isDeepStrictEqual(a, b)) {
      throw new Error(
        `the two answers differ for ${JSON.stringify(w)}:\n${JSON.stringify(a).slice(0, 800)}\n${JSON.stringify(b).slice(0, 800)}`,
      );
    }
  }
  await checker.close();
  await handChecker.close();

  // Warm both (caches, JIT, connections), uncounted.
  for (const t of targets) await load(t, windows, CLIENTS, 3);

  console.log('');
  console.log('| pair | serving | requests/s | p50 | p99 |');
  console.log('| --- | --- | --- | --- | --- |');
  const ratios: string[] = [];
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
  }
  console.log('');
  console.log(`hub ÷ hand-written, pair by pair: ${ratios.join(', ')}`);

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
  await new Promise((resolve) => hand.server.close(resolve));
  await pool.end();
  await hub.stop();
  await database.drop();
}
