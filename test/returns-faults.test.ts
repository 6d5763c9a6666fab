import { describe, expect, it } from 'vitest';
import { storefrontOrder, storefrontRefund } from './support/after-sale.js';
import { createTestDatabase } from './support/database.js';
import { freePort, graphql, startHubProcess, type HubProcess } from './support/hub-process.js';
import { deliver } from './support/webhooks.js';

const SECRET = 'returns-fault-secret-0123456789abcd';
const TOTAL = 200;

const externalId = (n: number) => `SF-K-${n}`;
const refund = (n: number) =>
  storefrontRefund(`R-K-${n}`, externalId(n), {
    status: 'RETURN_RECEIVED',
    lines: [{ productCode: 'MILK-1L', quantity: 1 }],
    amount: '50.00',
  });

describe('a hub killed with SIGKILL in the middle of a burst of refund webhooks', () => {
  it('keeps every case it said 200 to, doubles no case, movement or timeline entry, and the retries complete the set', async () => {
    const db = await createTestDatabase('returns-sigkill');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const hubs: HubProcess[] = [];
    const pg = await import('pg');
    const direct = new pg.default.Client({ connectionString: db.url });
    try {
      const first = await startHubProcess(db.url, {}, { port });
      hubs.push(first);
      const gql = (query: string) => graphql(base, first.adminKey, query);
      await gql(
        `mutation { upsertChannel(input: {code: "shop", platform: STOREFRONT, name: "Shop", webhookSecret: "${SECRET}"}) { id } }`,
      );
      await gql(`mutation { upsertProduct(input: {productCode: "MILK-1L", name: "Milk"}) { id } }`);
      await direct.connect();
      await direct.query(`update inventory_item set on_hand = 1000 where product_code = 'MILK-1L'`);
      const send = (body: unknown) => deliver(base, 'shop', body, { secret: SECRET });
      for (let n = 0; n < TOTAL; n++) {
        // Each its own buyer: one buyer's 200 refunds would make the serial-returner rule flag the same orders
        // from every transaction (deadlocks, retried; that is not what this test is about).
        const order = storefrontOrder(externalId(n), [
          { productCode: 'MILK-1L', quantity: 1, unitPrice: '50.00' },
        ]);
        const reply = await send({
          ...order,
          customerName: `Buyer ${n}`,
          shippingAddress: { ...order.shippingAddress, name: `Buyer ${n}`, line1: `${n} Navy Way` },
        });
        expect(reply.status).toBe(200);
      }

      const answered = new Map<number, string>();
      let next = 0;
      let killed = false;
      const worker = async () => {
        while (next < TOTAL && !killed) {
          const n = next++;
          try {
            const reply = await send(refund(n));
            if (reply.status === 200) answered.set(n, reply.body.returnId);
          } catch {
            // The connection died with the process: the platform will retry.
          }
          if (answered.size >= 60 && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      await first.exited;
      expect(answered.size).toBeGreaterThanOrEqual(60);
      expect(answered.size).toBeLessThan(TOTAL);

      const second = await startHubProcess(db.url, {}, { port });
      hubs.push(second);
      // The platform retries every delivery it has no 200 for (and, harmlessly, the others too).
      let retry = 0;
      const again = new Map<number, { status: number; returnId: string }>();
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let n = retry++; n < TOTAL; n = retry++) {
            const reply = await send(refund(n));
            again.set(n, { status: reply.status, returnId: reply.body.returnId });
          }
        }),
      );
      for (let n = 0; n < TOTAL; n++) {
        expect(again.get(n)!.status).toBe(200);
        if (answered.has(n)) expect(again.get(n)!.returnId).toBe(answered.get(n));
      }
      const count = async (query: string) => (await direct.query(query)).rows[0];
      expect(
        await count(`select count(*)::int as n, count(distinct refund_id)::int as d from order_return`),
      ).toEqual({
        n: TOTAL,
        d: TOTAL,
      });
      expect(
        await count(
          `select count(*)::int as n, count(distinct order_id)::int as d, sum(delta)::int as units
           from stock_movement where reason = 'returned by customer'`,
        ),
      ).toEqual({ n: TOTAL, d: TOTAL, units: TOTAL });
      expect(
        await count(
          `select count(*)::int as n, count(distinct order_id)::int as d from order_event where type = 'RETURN_UPDATED'`,
        ),
      ).toEqual({ n: TOTAL, d: TOTAL });
      expect(await count(`select count(*)::int as n from order_return_event`)).toEqual({ n: TOTAL });
      expect(await count(`select on_hand from inventory_item where product_code = 'MILK-1L'`)).toEqual({
        on_hand: 1000,
      });
    } finally {
      await direct.end().catch(() => undefined);
      for (const hub of hubs) await hub.stop();
      await db.drop();
    }
  }, 180_000);
});
