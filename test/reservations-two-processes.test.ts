import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubProcess } from './support/hub-process.js';
import { RequestContext } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type GraphQLResponse, type TestHub } from './support/hub.js';

const RESERVE = `mutation ($code: String!, $q: Int!) {
  reserveStock(productCode: $code, quantity: $q) { id quantity status }
}`;
const RELEASE = `mutation ($id: ID!) { releaseReservation(id: $id) { id status } }`;

type Hold = GraphQLResponse<{ reserveStock: { id: string; quantity: number; status: string } }>;

/**
 * Two hub processes on one database: this test's own hub, and `node dist/server/main.js`
 * started as a child process. Each combines its own concurrent holds; only the
 * database's conditional statements keep them from overselling together.
 */
describe('holds from two hub processes on one database', () => {
  let hub: TestHub;
  let other: Awaited<ReturnType<typeof startHubProcess>>;
  const sql = <T = Record<string, unknown>>(q: string, p: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(q, p);

  /** Sends to this process for even `i`, to the other process for odd `i`. */
  async function send(
    i: number,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLResponse> {
    if (i % 2 === 0) return hub.gql(query, variables);
    const response = await fetch(`${other.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${other.adminKey}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  }
  const reserve = (i: number, code: string, q: number) => send(i, RESERVE, { code, q }) as Promise<Hold>;
  const sweep = () =>
    expireHolds(RequestContext.system(hub.orm.em.fork(), hub.hub.app.log as never, hub.hub.services));

  async function expectInvariants() {
    const rows = await sql<{ product_code: string; available: number; reserved: number; held: number }>(
      `select i.product_code, i.on_hand - i.reserved as available, i.reserved,
              coalesce((select sum(r.quantity) from reservation r
                        where r.product_id = i.product_id and r.status = 'HELD'), 0)::int as held
       from inventory_item i`,
    );
    for (const row of rows) {
      expect(row.available, row.product_code).toBeGreaterThanOrEqual(0);
      expect(row.reserved, row.product_code).toBe(row.held);
    }
  }
  const available = async (code: string) =>
    (
      await sql<{ available: number }>(
        `select on_hand - reserved as available from inventory_item where product_code = ?`,
        [code],
      )
    )[0].available;

  beforeAll(async () => {
    hub = await startTestHub('reservations-two-processes');
    other = await startHubProcess(hub.database.url, { HOST: '127.0.0.1', SWEEP_INTERVAL_SECONDS: '0' });
  });

  afterAll(async () => {
    await other?.stop();
    await hub?.close();
  });

  it('gives exactly 50 holds and 150 INSUFFICIENT_STOCK for 200 holds of 1 on 50 available', async () => {
    await seedProduct(hub.orm, 'FLASH-1', 50);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => reserve(i, 'FLASH-1', 1)));
    const held = results.filter((r) => r.data?.reserveStock?.status === 'HELD');
    expect(held).toHaveLength(50);
    expect(results.filter((r) => r.errors).flatMap(errorCodes)).toEqual(
      Array(150).fill('INSUFFICIENT_STOCK'),
    );
    // Each process answered every request sent to it, with a hold or a refusal.
    for (const parity of [0, 1]) {
      const answered = results.filter((r, i) => i % 2 === parity && (r.data?.reserveStock || r.errors));
      expect(answered).toHaveLength(100);
    }
    expect(await available('FLASH-1')).toBe(0);
    await expectInvariants();
  });

  it('keeps the invariants with mixed quantities, releases and expiries racing each other', async () => {
    await seedProduct(hub.orm, 'FLASH-2', 60);
    // Some holds already in place, some of them already due.
    const early = await Promise.all(Array.from({ length: 20 }, (_, i) => reserve(i, 'FLASH-2', 1)));
    const earlyIds = early.map((r) => r.data!.reserveStock.id);
    await sql(
      `update reservation set expires_at = now() - interval '1 second' where id in (${earlyIds
        .slice(0, 10)
        .map(() => '?')
        .join(', ')})`,
      earlyIds.slice(0, 10),
    );
    const racing: Promise<unknown>[] = [
      ...Array.from({ length: 120 }, (_, i) => reserve(i, 'FLASH-2', 1 + (i % 3))),
      // Releases race the sweeper over the due holds, and new holds over the freed units.
      ...earlyIds.map((id, i) => send(i, RELEASE, { id })),
      sweep(),
      sweep(),
    ];
    const settled = await Promise.all(racing);
    const responses = settled.slice(0, 120 + earlyIds.length) as GraphQLResponse[];
    expect(new Set(responses.flatMap(errorCodes))).toEqual(new Set(['INSUFFICIENT_STOCK']));
    const statuses = await sql<{ status: string }>(
      `select status from reservation where id in (${earlyIds.map(() => '?').join(', ')})`,
      earlyIds,
    );
    expect(statuses.every((s) => s.status === 'RELEASED' || s.status === 'EXPIRED')).toBe(true);
    await expectInvariants();
  });

  it('does not deadlock with many products held in different orders by both processes', async () => {
    // Each process combines the holds waiting for different products into one transaction,
    // so two batches from two processes lock several rows each, in whatever order they came.
    const codes = Array.from({ length: 12 }, (_, i) => `MANY-${i}`);
    for (const code of codes) await seedProduct(hub.orm, code, 40);
    const requests: Promise<GraphQLResponse>[] = [];
    for (let i = 0; i < 240; i++) {
      const code = codes[i % 2 === 0 ? (i * 7) % 12 : 11 - ((i * 7) % 12)];
      requests.push(reserve(i, code, 1 + (i % 2)));
    }
    const results = await Promise.all(requests);
    const codesSeen = new Set(results.flatMap(errorCodes));
    codesSeen.delete('INSUFFICIENT_STOCK');
    expect(codesSeen).toEqual(new Set());
    await expectInvariants();
  });
});
