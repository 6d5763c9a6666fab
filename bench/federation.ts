// The hub behind a federation gateway (issue 15). The read path's `orders` page (bench/read-path.ts) sent to the
// hub directly, through an Apollo Gateway whose only subgraph is the hub, and through a gateway that composes
// the hub with the example CRM subgraph (docs/crm-subgraph.graphql) asked for each order's customerSegment: rate
// and p99 of each under --clients concurrent clients for --seconds, --pairs rounds (the order reversed every
// other round), and each one's rate over the direct one's. The hub runs as a process; the gateways and the CRM
// run in this process, beside the load generator.
//
// Then `_entities` for 1,000 Order representations (the page's fields) beside the same 1,000 orders read as two
// `orders(first: 500)` pages (500 is the largest page): SQL statements per request and time, --single requests
// each, one at a time, on a hub in this process whose ORM counts the statements (MAX_QUERY_COST raised there:
// 1,000 orders with their lines cost more than a client may ask for).
//
// --database-url runs on a database already seeded (`npm run seed`), only reading it; without it, --orders
// orders are seeded into a scratch database.
//
// Usage: npm run bench:federation -- [--orders 20000 | --database-url <url>] [--clients 32] [--seconds 10]
//        [--pairs 2] [--single 20]
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import { createHub } from '../server/app.js';
import { composeSupergraph, type SubgraphSdl } from '../server/composition.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { openOrm } from '../server/orm.js';
import { seedOrders } from '../server/seed.js';
import { CRM_SDL, startCrmSubgraph, startGateway, type RunningServer } from '../test/support/federation.js';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import {
  ask,
  countOption,
  firstDifference,
  load,
  PAGE,
  PAGE_NODE,
  pageQuery,
  pageWindows,
  percentile,
  serverUrl,
  stringOption,
  type Target,
} from './support.js';

const ORDERS = countOption('orders', 20_000);
const CLIENTS = countOption('clients', 32);
const SECONDS = countOption('seconds', 10);
const PAIRS = countOption('pairs', 2);
const SINGLE = countOption('single', 20);
const GIVEN_URL = stringOption('database-url');
const ENTITY_COUNT = 1000;
const SEGMENTS = ['VIP', 'REGULAR', 'NEW', 'LAPSED'];

type Page = { data: { orders: { edges: { node: Record<string, unknown> }[] } } };

/** The CRM target's answer without its customerSegment: what the hub answers alone. */
function withoutSegment(body: unknown): unknown {
  const page = structuredClone(body) as Page;
  for (const edge of page.data.orders.edges) delete edge.node.customerSegment;
  return page;
}

async function postJson(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  if (body.errors) throw new Error(`${url} answered ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data as Record<string, unknown>;
}

/** The page through the hub and through both gateways, rate and p99 beside each other. */
async function throughGateways(databaseUrl: string, windows: Awaited<ReturnType<typeof pageWindows>>) {
  // As deployed, as bench/read-path.ts runs it.
  const hub = await startHubProcess(
    databaseUrl,
    { LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    { readyWithinMs: 600_000 },
  );
  // Not left running if this process is interrupted before it stops the hub.
  const kill = () => hub.child.kill('SIGKILL');
  process.once('exit', kill);
  const servers: RunningServer[] = [];
  try {
    const hubUrl = `${hub.base}/graphql`;
    const { _service } = (await postJson(hubUrl, hub.adminKey, '{ _service { sdl } }')) as {
      _service: { sdl: string };
    };
    const hubSubgraph: SubgraphSdl = { name: 'hub', url: hubUrl, sdl: _service.sdl };
    const crm = await startCrmSubgraph({
      segmentOf: (id) => SEGMENTS[id.charCodeAt(0) % SEGMENTS.length],
      reviewsOf: () => [],
      followedUp: [],
    });
    servers.push(crm);
    const gateway = async (subgraphs: SubgraphSdl[]) => {
      const composed = composeSupergraph(subgraphs);
      if ('errors' in composed) throw new Error(composed.errors.join('\n'));
      const running = await startGateway(composed.supergraphSdl);
      servers.push(running);
      return new URL(running.url).origin;
    };
    const headers = { authorization: `Bearer ${hub.adminKey}` };
    const targets: Target[] = [
      { name: 'hub directly', base: hub.base, headers, query: PAGE },
      { name: 'gateway, hub only', base: await gateway([hubSubgraph]), headers, query: PAGE },
      {
        name: 'gateway, hub + CRM (customerSegment)',
        base: await gateway([hubSubgraph, { name: 'crm', url: crm.url, sdl: CRM_SDL }]),
        headers,
        query: pageQuery('customerSegment'),
        asHub: withoutSegment,
      },
    ];

    // The same orders every way (the CRM's field set aside), on pages that are not all empty.
    const checker = targets.map((t) => new Pool(t.base, { connections: 1 }));
    let ordersChecked = 0;
    for (const w of windows.slice(0, 5)) {
      const direct = await ask(checker[0], targets[0], w);
      ordersChecked += (direct as Page).data.orders.edges.length;
      for (let i = 1; i < targets.length; i++) {
        const raw = await ask(checker[i], targets[i], w);
        const answer = targets[i].asHub ? targets[i].asHub!(raw) : raw;
        if (!isDeepStrictEqual(direct, answer)) {
          throw new Error(`${targets[i].name} differs at ${firstDifference(direct, answer)}`);
        }
      }
    }
    await Promise.all(checker.map((c) => c.close()));
    if (ordersChecked === 0) throw new Error('the pages checked are all empty: nothing was compared');

    // Warm each (query plans, JIT, connections), uncounted.
    for (const t of targets) await load(t, windows, CLIENTS, 3);

    console.log('');
    console.log('| pair | serving | requests/s | p50 | p99 | rate ÷ direct |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (let pair = 1; pair <= PAIRS; pair++) {
      const order = pair % 2 === 1 ? targets : [...targets].reverse();
      const results = new Map<string, Awaited<ReturnType<typeof load>>>();
      for (const t of order) results.set(t.name, await load(t, windows, CLIENTS, SECONDS));
      const direct = results.get(targets[0].name)!.rate;
      for (const t of targets) {
        const r = results.get(t.name)!;
        console.log(
          `| ${pair} | ${t.name} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ` +
            `${(r.rate / direct).toFixed(2)} |`,
        );
      }
    }
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await hub.stop();
    process.off('exit', kill);
  }
}

const ORDERS_PAGE = `query Orders($after: String) {
  orders(first: 500, after: $after) { pageInfo { endCursor } edges { node { ${PAGE_NODE} } } }
}`;
const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Order { ${PAGE_NODE} } }
}`;

/** `_entities` for 1,000 orders beside the same orders as two pages: statements and time, one request at a time. */
async function entitiesBesidePages(databaseUrl: string) {
  const adminKey = 'bench-federation-admin-key-0123456789';
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    HUB_ADMIN_KEY: adminKey,
    LOG_LEVEL: 'warn',
    MAX_QUERY_COST: '100000000',
  });
  const logger = createLogger(config.logLevel);
  let statements = 0;
  const orm = await openOrm(databaseUrl, logger, {
    debug: ['query'],
    logger: () => statements++,
  });
  const hub = await createHub({ config, logger, orm });
  try {
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}/graphql`;
    /** One request's answer, its statements and its time. */
    const measure = async (query: string, variables: Record<string, unknown>) => {
      const before = statements;
      const started = performance.now();
      const data = await postJson(url, adminKey, query, variables);
      return { data, statements: statements - before, ms: performance.now() - started };
    };
    type Orders = { orders: { pageInfo: { endCursor: string }; edges: { node: { id: string } }[] } };
    const readPages = async () => {
      const first = await measure(ORDERS_PAGE, {});
      const after = (first.data as Orders).orders.pageInfo.endCursor;
      const second = await measure(ORDERS_PAGE, { after });
      return {
        nodes: [first, second].flatMap((p) => (p.data as Orders).orders.edges.map((e) => e.node)),
        statements: first.statements + second.statements,
        ms: first.ms + second.ms,
      };
    };
    const pages = await readPages();
    if (pages.nodes.length !== ENTITY_COUNT) throw new Error(`only ${pages.nodes.length} orders to read`);
    const representations = pages.nodes.map((n) => ({ __typename: 'Order', id: n.id }));
    const readEntities = async () => {
      const r = await measure(ENTITIES, { representations });
      return { nodes: (r.data as { _entities: unknown[] })._entities, statements: r.statements, ms: r.ms };
    };
    const entities = await readEntities();
    if (!isDeepStrictEqual(entities.nodes, pages.nodes)) {
      throw new Error(`_entities and the pages differ at ${firstDifference(pages.nodes, entities.nodes)}`);
    }

    const timed = async (read: () => Promise<{ statements: number; ms: number }>) => {
      const times: number[] = [];
      const counts = new Set<number>();
      for (let i = 0; i < SINGLE; i++) {
        const r = await read();
        times.push(r.ms);
        counts.add(r.statements);
      }
      times.sort((a, b) => a - b);
      return { counts: [...counts].join(' or '), p50: percentile(times, 50), p99: percentile(times, 99) };
    };
    // Alternated, so neither has the warmer caches throughout.
    const entityRuns: Awaited<ReturnType<typeof timed>>[] = [];
    const pageRuns: Awaited<ReturnType<typeof timed>>[] = [];
    for (let round = 0; round < 2; round++) {
      pageRuns.push(await timed(readPages));
      entityRuns.push(await timed(readEntities));
    }
    console.log('');
    console.log(
      `${ENTITY_COUNT} orders with the page's fields, ${SINGLE} requests each per round, one at a time:`,
    );
    console.log('');
    console.log('| round | read as | SQL statements | p50 | p99 |');
    console.log('| --- | --- | --- | --- | --- |');
    for (let round = 0; round < 2; round++) {
      for (const [name, r] of [
        [`_entities, ${ENTITY_COUNT} Order representations`, entityRuns[round]],
        ['orders(first: 500), two pages', pageRuns[round]],
      ] as const) {
        console.log(
          `| ${round + 1} | ${name} | ${r.counts} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms |`,
        );
      }
    }
  } finally {
    await hub.close();
    await orm.close();
  }
}

const database = GIVEN_URL
  ? { url: GIVEN_URL, drop: async () => undefined }
  : await scratchDatabase(serverUrl, 'bench_federation');
try {
  if (!GIVEN_URL) await seedOrders(database.url, { orders: ORDERS });
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const { rows } = await pool.query<{ n: string }>('select count(*)::text as n from "order"');
  const windows = await pageWindows(pool);
  await pool.end();
  console.log(`## federation: ${rows[0].n} orders; ${CLIENTS} clients, ${SECONDS} s runs, ${PAIRS} pairs`);
  await throughGateways(database.url, windows);
  await entitiesBesidePages(database.url);
} finally {
  await database.drop();
}
