// The most expensive read each role can still send under the cost limit, on 10,000 orders
// loaded through the hub's webhooks, beside a plain page of orders in the same run. Usage
// (after `npm run build:bench`): node dist/bench/worst-query.js [orders=10000] [shipped=1000]
import 'reflect-metadata';
import { parse } from 'graphql';
import { Role } from '../common/enums.js';
import { loadConfig } from '../server/config.js';
import { hubSchema } from '../server/graphql-schema.js';
import { queryCost } from '../server/query-limits.js';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { flatOrderPages, largestUnderLimit, loadOrders, ORDER_FIELDS, serverUrl } from './support.js';

const orders = Number(process.argv[2] ?? 10_000);
const shipped = Number(process.argv[3] ?? 1000);
const RUNS = 3;
const maxCost = loadConfig({}).maxQueryCost;
const schema = await hubSchema();

/** Each shape, given a page size, is one query; the largest size under the cost limit is the worst. */
const SHAPES: Record<string, { roles: Role[]; max: number; query: (n: number) => string }> = {
  'orders, every list under them': {
    roles: [Role.STOREFRONT, Role.ANALYST, Role.ADMIN],
    max: 500,
    query: (n) => `{ orders(first: ${n}) { totalCount edges { cursor node { ${ORDER_FIELDS}
      lines { id productCode quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode }
        product { productCode name inventory { onHand reserved available safetyStock } } }
      timeline { seq type fromStatus toStatus at source }
      shipments { carrier trackingNumber status updatedAt events { status description occurredAt } }
      reservations { id productCode quantity status expiresAt }
      children { id externalId lines { productCode quantity } } parent { id }
    } } } }`,
  },
  '30 aliases of a flat page of orders': {
    roles: [Role.STOREFRONT, Role.ANALYST, Role.ADMIN],
    max: 500,
    query: flatOrderPages,
  },
  '30 aliases of a page of products': {
    roles: [Role.STOREFRONT, Role.CONNECTOR, Role.ANALYST, Role.ADMIN],
    max: 1000,
    query: (n) =>
      `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: products(first: ${n}) { productCode name closedOnChannels inventory { onHand reserved available safetyStock } }`).join(' ')} }`,
  },
  '30 aliases of the low-stock list and the channels': {
    roles: [Role.ANALYST, Role.ADMIN],
    max: 1,
    query: () =>
      `{ ${Array.from({ length: 15 }, (_, i) => `l${i}: lowStock { productCode onHand available } c${i}: channels { code name salesOpen }`).join(' ')} }`,
  },
};

const PLAIN_PAGE = `{ orders(first: 50) { edges { node { id externalId status total { amount currencyCode } } } } }`;

async function measure(base: string, key: string, query: string) {
  const times: number[] = [];
  let bytes = 0;
  let errors = '';
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    times.push(performance.now() - started);
    bytes = Buffer.byteLength(text);
    const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
    errors = (parsed.errors ?? []).map((e) => e.extensions?.code).join(',');
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(RUNS / 2)], bytes, errors };
}

const db = await scratchDatabase(serverUrl, 'bench_worst_query');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
try {
  const loadStart = performance.now();
  await loadOrders(hub, graphql, { count: orders, shipped });
  console.log(
    `loaded ${orders} orders (${shipped} shipped) through the webhook in ${((performance.now() - loadStart) / 1000).toFixed(0)} s`,
  );
  const keyOf = async (role: Role) => {
    if (role === Role.ADMIN) return hub.adminKey;
    const channel = role === Role.STOREFRONT || role === Role.CONNECTOR ? '"jd-bench"' : 'null';
    const data = (await graphql(
      hub.base,
      hub.adminKey,
      `mutation { createApiKey(role: ${role}, label: "bench", channelCode: ${channel}) { secret } }`,
    )) as { createApiKey: { secret: string } };
    return data.createApiKey.secret;
  };

  const plain = await measure(hub.base, hub.adminKey, PLAIN_PAGE);
  console.log(`\nworst query per role under MAX_QUERY_COST=${maxCost}, median of ${RUNS} runs`);
  console.log(`  plain page (50 orders, 4 fields):  ${plain.ms.toFixed(0)} ms, ${plain.bytes} bytes`);
  for (const role of [Role.STOREFRONT, Role.CONNECTOR, Role.ANALYST, Role.ADMIN]) {
    const key = await keyOf(role);
    let worst: { name: string; n: number; cost: number; ms: number; bytes: number } | null = null;
    for (const [name, shape] of Object.entries(SHAPES)) {
      if (!shape.roles.includes(role)) continue;
      const n = largestUnderLimit(schema, maxCost, shape.query, shape.max);
      if (n === 0) continue;
      const query = shape.query(n);
      const cost = queryCost(schema, { document: parse(query) });
      const result = await measure(hub.base, key, query);
      if (result.errors) throw new Error(`${role} ${name}: ${result.errors}`);
      console.log(
        `  ${role.padEnd(10)} ${name} (first: ${n}, cost ${cost}): ${result.ms.toFixed(0)} ms, ${result.bytes} bytes`,
      );
      if (!worst || result.ms > worst.ms) worst = { name, n, cost, ...result };
    }
    console.log(
      `  ${role.padEnd(10)} WORST: ${worst!.name}: ${worst!.ms.toFixed(0)} ms (${(worst!.ms / plain.ms).toFixed(1)}× the plain page), ${worst!.bytes} bytes`,
    );
  }
} finally {
  await hub.stop();
  await db.drop();
}
