import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { createTestDatabase } from './support/database.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHubBehindProxy, type TestHub } from './support/hub.js';
import type { TcpProxy } from './support/tcp-proxy.js';
import { deliver, sample } from './support/webhooks.js';
import { freePort, graphql, startHubProcess, type HubProcess } from './support/hub-process.js';
import { waitFor } from './support/wait.js';

const SECRET = 'fault-secret-0123456789abcdef0123456';

function jdOrder(n: number) {
  const payload = sample('jd');
  payload.orderId = `F${String(n).padStart(6, '0')}`;
  return payload;
}

describe('a database outage under a running hub', () => {
  let proxy: TcpProxy;
  let hub: TestHub;

  beforeAll(async () => {
    ({ hub, proxy } = await startTestHubBehindProxy('db-outage'));
  });

  afterAll(async () => {
    await hub.close();
    await proxy.close();
  });

  it('answers 503 while the database is away, leaves nothing half-written, and goes on when it is back', async () => {
    const base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'jd-main', Platform.JD, { webhookSecret: SECRET });
    await seedProduct(hub.orm, 'TEA-250G', 100);

    expect((await deliver(base, 'jd-main', jdOrder(1), { secret: SECRET })).status).toBe(200);
    await proxy.cut();
    expect((await deliver(base, 'jd-main', jdOrder(2), { secret: SECRET })).status).toBe(503);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    // A query whose key cannot be read: 503 and a request id to quote, not a bare 500.
    const query = await fetch(hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer hub_some-key-0123456789' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(query.status).toBe(503);
    const { errors } = (await query.json()) as {
      errors: { message: string; extensions: { code: string; requestId: string } }[];
    };
    expect(errors[0].extensions).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      requestId: query.headers.get('x-request-id'),
    });
    expect(errors[0].message).toContain(query.headers.get('x-request-id'));
    await proxy.restore();

    // The platform retries; the hub recovers without a restart.
    await waitFor(
      async () => (await deliver(base, 'jd-main', jdOrder(2), { secret: SECRET })).status === 200,
      'a 200 after the outage',
    );
    const sql = hub.orm.em.getConnection();
    const orders = await sql.execute(`select external_id from "order" order by external_id`);
    expect(orders.map((o) => o.external_id)).toEqual(['F000001', 'F000002']);
    const lines = await sql.execute(`select count(*)::int as n from order_line`);
    expect(lines[0].n).toBe(2);
    const [stock] = await sql.execute(`select on_hand from inventory_item where product_code = 'TEA-250G'`);
    expect(stock.on_hand).toBe(100 - 2 * 2);
  });
});

describe('a hub killed with SIGKILL in the middle of 1,000 webhook deliveries', () => {
  it('keeps every order it said 200 to, doubles none, and the retries complete the set', async () => {
    const db = await createTestDatabase('sigkill');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const hubs: HubProcess[] = [];
    try {
      const first = await startHubProcess(db.url, {}, { port });
      hubs.push(first);
      const gql = (query: string) => graphql(base, first.adminKey, query);
      await gql(
        `mutation { upsertChannel(input: {code: "jd-main", platform: JD, name: "JD", webhookSecret: "${SECRET}"}) { id } }`,
      );
      await gql(`mutation { upsertProduct(input: {productCode: "TEA-250G", name: "Tea"}) { id } }`);
      const pg = await import('pg');
      const direct = new pg.default.Client({ connectionString: db.url });
      await direct.connect();
      await direct.query(`update inventory_item set on_hand = 5000 where product_code = 'TEA-250G'`);

      const total = 1000;
      const answered = new Map<number, string>();
      let next = 0;
      let killed = false;
      const worker = async () => {
        while (next < total && !killed) {
          const n = next++;
          try {
            const reply = await deliver(base, 'jd-main', jdOrder(n), { secret: SECRET });
            if (reply.status === 200) answered.set(n, reply.body.orderId);
          } catch {
            // The connection died with the process: the platform will retry.
          }
          if (answered.size >= 300 && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      await first.exited;
      const before = new Map(answered);
      expect(before.size).toBeGreaterThanOrEqual(300);
      expect(before.size).toBeLessThan(total);

      const second = await startHubProcess(db.url, {}, { port });
      hubs.push(second);
      // The platform retries every delivery it has no 200 for (and, harmlessly, the others too).
      let retry = 0;
      const again = new Map<number, { status: number; orderId: string }>();
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let n = retry++; n < total; n = retry++) {
            const reply = await deliver(base, 'jd-main', jdOrder(n), { secret: SECRET });
            again.set(n, { status: reply.status, orderId: reply.body.orderId });
          }
        }),
      );
      for (let n = 0; n < total; n++) {
        expect(again.get(n)!.status).toBe(200);
        if (before.has(n)) expect(again.get(n)!.orderId).toBe(before.get(n));
      }
      const { rows: orders } = await direct.query(
        `select count(*)::int as n, count(distinct external_id)::int as d from "order"`,
      );
      expect(orders[0]).toEqual({ n: total, d: total });
      const { rows: created } = await direct.query(
        `select count(*)::int as n from order_event where type = 'CREATED'`,
      );
      expect(created[0].n).toBe(total);
      const { rows: stock } = await direct.query(
        `select on_hand, reserved from inventory_item where product_code = 'TEA-250G'`,
      );
      expect(stock[0]).toEqual({ on_hand: 5000 - 2 * total, reserved: 0 });
      await direct.end();
    } finally {
      for (const hub of hubs) await hub.stop();
      await db.drop();
    }
  }, 120_000);
});
