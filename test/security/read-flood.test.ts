import { once } from 'node:events';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { Platform, Role } from '../../common/enums.js';
import { hubSchema } from '../../server/graphql-schema.js';
import { queryCost } from '../../server/query-limits.js';
import { seedChannel, seedOrder, seedProduct } from '../support/fixtures.js';
import { createTestDatabase } from '../support/database.js';
import { graphql, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { deliver, sample } from '../support/webhooks.js';
import { tableLocker } from '../support/locks.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'read-flood-webhook-secret-0123456789abcdef';
const WEBHOOKS = 200;
const SENDERS = 10;
const READERS = 20;

/** The heaviest read an ANALYST may send: a page of orders with their lines, shipments and tracking. */
const HEAVY_READ = `{ orders(first: 100) { totalCount edges { node {
  id externalId status customerName placedAt total { amount currencyCode }
  lines { productCode quantity unitPrice { amount } }
  shipments { carrier trackingNumber status events { status occurredAt } }
} } } }`;

describe('a flood of heavy reads never leaves webhooks waiting for a connection', () => {
  let hub: TestHub;
  let base: string;
  let analystKey: string;
  let locker: Awaited<ReturnType<typeof tableLocker>>;
  let tid = 0;

  function taobaoOrder() {
    const payload = sample('taobao');
    const id = `4487216655190${String(++tid).padStart(6, '0')}`;
    payload.tid_str = id;
    payload.tid = Number(id);
    return payload;
  }

  /** Sends `count` webhooks from SENDERS senders at once; answers each one's status. */
  async function webhooks(count: number) {
    const results: { status: number }[] = [];
    let left = count;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (left-- > 0) {
          const { status } = await deliver(base, 'taobao-main', taobaoOrder(), { secret: SECRET });
          results.push({ status });
        }
      }),
    );
    return results;
  }

  beforeAll(async () => {
    hub = await startTestHub('security-read-flood');
    base = hub.url.replace(/\/graphql$/, '');
    const channel = await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: SECRET });
    await seedProduct(hub.orm, 'MILK-1L', 1_000_000);
    for (let i = 0; i < 20; i++) await seedOrder(hub.orm, { channel, externalId: `F${i}` });
    analystKey = await hub.apiKey(Role.ANALYST);
    locker = await tableLocker(hub.database.url);
  });

  afterAll(async () => {
    await locker.end();
    await hub.close();
  });

  it('the flood is of the heaviest reads the cost limit lets through', async () => {
    const cost = queryCost(await hubSchema(), { document: parse(HEAVY_READ) });
    expect(cost).toBeLessThanOrEqual(100_000);
    expect(cost * 2).toBeGreaterThan(100_000);
  });

  it(`${WEBHOOKS} webhooks beside ${READERS} heavy reads that hold their connections all answer 200`, async () => {
    await webhooks(20); // warm-up: caches, JIT, the first connections

    // The readers' statements are held by a lock on the shipments, as behind a slow report: each
    // keeps its connection for as long as the flood lasts, the worst a read can do to a pool.
    await locker.lock('shipment');
    let flooding = true;
    const readers = Array.from({ length: READERS }, async () => {
      while (flooding) {
        await fetch(hub.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${analystKey}` },
          body: JSON.stringify({ query: HEAVY_READ }),
        });
      }
    });
    try {
      await waitFor(async () => (await locker.waiting()) >= 5, 'the reads to hold their connections');
      // Every one answered while the reads still held their connections. How much slower they are
      // (the p99 ratio) depends on what else the machine runs: bench/read-flood.ts measures it.
      const flooded = await webhooks(WEBHOOKS);
      expect(flooded.filter((r) => r.status !== 200)).toEqual([]);
      expect(await locker.waiting()).toBeGreaterThanOrEqual(5);
    } finally {
      flooding = false;
      await locker.release();
      await Promise.all(readers);
    }
  });
});

describe('processes that serve webhooks only (HUB_SERVE) never run a read', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let api: HubProcess;
  let door: HubProcess;
  let tid = 0;

  beforeAll(async () => {
    database = await createTestDatabase('security-read-flood-split');
    // One after the other: the first migrates the fresh database.
    api = await startHubProcess(database.url, { HUB_SERVE: 'graphql' });
    door = await startHubProcess(database.url, { HUB_SERVE: 'webhooks' });
    await graphql(
      api.base,
      api.adminKey,
      `
        mutation ($secret: String!) {
          upsertChannel(
            input: { code: "taobao-main", platform: TAOBAO, name: "Taobao", webhookSecret: $secret }
          ) {
            id
          }
        }
      `,
      { secret: SECRET },
    );
  });

  afterAll(async () => {
    await door?.stop();
    await api?.stop();
    await database?.drop();
  });

  it('a webhooks process answers no GraphQL, over HTTP or websocket; a graphql process takes no webhook', async () => {
    const query = await fetch(`${door.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${door.adminKey}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(query.status).toBe(404);
    const socket = new WebSocket(`${door.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const [outcome] = await Promise.race([
      once(socket, 'unexpected-response').then(() => ['refused']),
      once(socket, 'error').then(() => ['refused']),
      once(socket, 'open').then(() => ['open']),
    ]);
    socket.terminate();
    expect(outcome).toBe('refused');
    const { status } = await deliver(api.base, 'taobao-main', sample('taobao'), { secret: SECRET });
    expect(status).toBe(404);
  });

  it(`${WEBHOOKS} webhooks to the webhooks process beside ${READERS} heavy reads on the other all answer 200`, async () => {
    let flooding = true;
    let reads = 0;
    const readers = Array.from({ length: READERS }, async () => {
      while (flooding) {
        const response = await fetch(`${api.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminKey}` },
          body: JSON.stringify({ query: HEAVY_READ }),
        });
        await response.arrayBuffer();
        reads++;
      }
    });
    try {
      await waitFor(() => reads >= READERS, 'the heavy reads to be under way');
      const statuses: number[] = [];
      let left = WEBHOOKS;
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          while (left-- > 0) {
            const payload = sample('taobao');
            const id = `5587216655190${String(++tid).padStart(6, '0')}`;
            payload.tid_str = id;
            payload.tid = Number(id);
            statuses.push((await deliver(door.base, 'taobao-main', payload, { secret: SECRET })).status);
          }
        }),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    } finally {
      flooding = false;
      await Promise.all(readers);
    }
    // What the door took, the API serves.
    const data = (await graphql(api.base, api.adminKey, '{ orders(first: 1) { totalCount } }')) as {
      orders: { totalCount: number };
    };
    expect(data.orders.totalCount).toBe(WEBHOOKS);
  });
});
