import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse, type GraphQLSchema } from 'graphql';
import type pg from 'pg';
import { Pool } from 'undici';
import { queryCost } from '../server/query-limits.js';

/**
 * What only the benchmarks need. The scratch database, the hub as a process, freePort and graphql
 * are shared with the tests: test/support/scratch-database.ts and test/support/hub-process.ts.
 */

/** The PostgreSQL server the benchmarks make their scratch databases on. */
export const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const BENCH_SECRET = 'bench-webhook-secret-0123456789abcdef';

/**
 * A JD channel `jd-bench` with `products` products, and `count` orders of three lines each
 * delivered through its signed webhook, as the platform would; then the first `shipped`
 * of them packed, shipped and given two tracking events through the GraphQL API.
 */
export async function loadOrders(
  hub: { base: string; adminKey: string },
  graphqlCall: (
    base: string,
    key: string,
    query: string,
    variables?: Record<string, unknown>,
  ) => Promise<unknown>,
  { count, shipped = 0, products = 50 }: { count: number; shipped?: number; products?: number },
): Promise<void> {
  const sample = JSON.parse(
    readFileSync(new URL('../../test/fixtures/channels/jd.json', import.meta.url), 'utf8'),
  );
  const admin = (query: string, variables?: Record<string, unknown>) =>
    graphqlCall(hub.base, hub.adminKey, query, variables);
  await admin(
    `mutation { upsertChannel(input: {code: "jd-bench", platform: JD, name: "JD", webhookSecret: "${BENCH_SECRET}"}) { id } }`,
  );
  for (let i = 0; i < products; i++) {
    await admin(`mutation { upsertProduct(input: {productCode: "SKU-${i}", name: "P${i}"}) { id } }`);
    await admin(
      `mutation { adjustStock(productCode: "SKU-${i}", delta: 1000000, reason: "bench") { onHand } }`,
    );
  }
  let next = 0;
  const ids: string[] = [];
  await inParallel(32, async () => {
    while (next < count) {
      const n = next++;
      const payload = structuredClone(sample);
      payload.orderId = `BENCH-${n}`;
      payload.itemInfoList = [0, 1, 2].map((k) => ({
        ...sample.itemInfoList[0],
        skuId: `${n}${k}`,
        outerSkuId: `SKU-${(n + k) % products}`,
      }));
      payload.orderTotalPrice = payload.orderPayment = '594.00';
      const body = JSON.stringify(payload);
      const response = await fetch(`${hub.base}/webhooks/jd-bench`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', BENCH_SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      const reply = (await response.json()) as { orderId?: string; error?: string };
      if (!reply.orderId) throw new Error(`webhook refused: ${response.status} ${JSON.stringify(reply)}`);
      if (n < shipped) ids.push(reply.orderId);
    }
  });
  let nextShip = 0;
  await inParallel(8, async () => {
    while (nextShip < ids.length) {
      const id = ids[nextShip++];
      await admin(`mutation($id: ID!) { markPacked(orderId: $id) { id } }`, { id });
      await admin(
        `mutation($id: ID!, $tracking: String!) { shipOrder(orderId: $id, carrier: "SF", trackingNumber: $tracking) { id } }`,
        { id, tracking: `SF${id}` },
      );
      for (const status of ['PICKED_UP', 'IN_TRANSIT']) {
        await admin(
          `mutation($id: String!, $status: ShipmentStatus!) { recordShipmentEvent(trackingNumber: $id, status: $status) { id } }`,
          { id: `SF${id}`, status },
        );
      }
    }
  });
}

export async function inParallel(workers: number, work: () => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: workers }, work));
}

export const ORDER_FIELDS = `id externalId status customerName placedAt paidAt shippedAt deliveredAt raw
  channel { code name platform } total { amount currencyCode }
  shippingAddress { name phone province city district line1 postalCode country remote }`;

/** 30 aliases of a page of `n` orders with every field of their own: the costliest read in time and bytes. */
export const flatOrderPages = (n: number) =>
  `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: orders(first: ${n}) { edges { node { ${ORDER_FIELDS} } } }`).join(' ')} }`;

/** The largest size, up to `max`, for which `shape` costs no more than `maxCost`. */
export function largestUnderLimit(
  schema: GraphQLSchema,
  maxCost: number,
  shape: (n: number) => string,
  max: number,
): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (queryCost(schema, { document: parse(shape(mid)) }) <= maxCost) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The value after `--<name>` on the command line, if any. */
export function stringOption(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** `--<name> N`, a positive whole number, or `fallback` when absent. */
export function countOption(name: string, fallback: number): number {
  const raw = stringOption(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

/** The fields of each order of the read path's page. */
export const PAGE_NODE = `id externalId status placedAt customerName total { amount currencyCode }
      channel { code name platform }
      lines { productCode quantity unitPrice { amount currencyCode } product { productCode name } }`;

/**
 * The read path's page (issue 14): the `orders` page a frontend team asks for, a channel and a week, first 50,
 * newest first, with channel, lines and products; `extra`: fields of each order beside the page's.
 */
export function pageQuery(extra: string): string {
  return `query Page($channel: String!, $from: DateTime!, $to: DateTime!) {
  orders(first: 50, filter: { channelCodes: [$channel], placedFrom: $from, placedTo: $to },
         sort: { field: PLACED_AT, direction: DESC }) {
    pageInfo { hasNextPage }
    edges { node {
      ${PAGE_NODE} ${extra}
    } }
  }
}`;
}

export const PAGE = pageQuery('');

export interface Variables {
  channel: string;
  from: string;
  to: string;
}

const WINDOW_MS = 7 * 86_400_000;

/** 400 weeks, each in a busy channel (1,000 orders or more), spread over its orders' span: the same list for every side. */
export async function pageWindows(pool: pg.Pool): Promise<Variables[]> {
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
  return windows;
}

export interface Target {
  name: string;
  base: string;
  headers: Record<string, string>;
  /** The GraphQL query it is sent (the bare handler reads only the variables). */
  query: string;
  /** Its answer as the hub's JSON, for the check. */
  asHub?: (body: unknown) => unknown;
}

export async function ask(client: Pool, target: Target, variables: Variables): Promise<unknown> {
  const reply = await client.request({
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: target.query, variables }),
  });
  const body = (await reply.body.json()) as { errors?: unknown };
  if (reply.statusCode !== 200 || body.errors) {
    throw new Error(`${target.name} answered ${reply.statusCode}: ${JSON.stringify(body).slice(0, 500)}`);
  }
  return body;
}

/** `clients` clients asking `target` for the windows in turn, each its next as soon as it has its answer. */
export async function load(target: Target, windows: Variables[], clients: number, seconds: number) {
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

/** Where two JSON values first differ, as a path with both values there (for the check's message). */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const found = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
      if (found) return found;
    }
  }
  return `${path} (${JSON.stringify(a)?.slice(0, 200)} against ${JSON.stringify(b)?.slice(0, 200)})`;
}
