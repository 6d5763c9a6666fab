import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedChannel, seedOrder } from '../support/fixtures.js';
import { errorCodes, startTestHub, type GraphQLResponse, type TestHub } from '../support/hub.js';
import { tableLocker } from '../support/locks.js';
import { waitFor } from '../support/wait.js';

const PAGE = `{ orders(first: 5) { edges { node { externalId } } } }`;

/**
 * A statement is made slow honestly: another connection holds a lock on the orders table, so
 * the page query waits for it, as it would behind a long migration or a heavy report.
 */
describe('every request runs under the statement_timeout of its role', () => {
  let hub: TestHub;
  let storefrontKey: string;
  let analystKey: string;
  let locker: Awaited<ReturnType<typeof tableLocker>>;

  beforeAll(async () => {
    hub = await startTestHub('security-statement-timeout', {
      env: {
        QUERY_TIMEOUT_CHANNEL_MS: '300',
        QUERY_TIMEOUT_STAFF_MS: '60000',
        REQUEST_POOL_SIZE: '2',
      },
    });
    const shop = await seedChannel(hub.orm, 'shop');
    await seedOrder(hub.orm, { channel: shop, externalId: 'T1' });
    storefrontKey = await hub.apiKey('STOREFRONT', 'shop');
    analystKey = await hub.apiKey('ANALYST');
    locker = await tableLocker(hub.database.url);
  });

  afterEach(() => locker.release());
  afterAll(async () => {
    await locker.end();
    await hub.close();
  });

  const lockOrders = () => locker.lock('order');
  const waiting = (pool: string) => locker.waiting(`order-hub-${pool}`);

  it('a STOREFRONT read held past its short timeout answers QUERY_TIMEOUT, and its connection is freed', async () => {
    await lockOrders();
    // More timed-out requests than the pool has connections: each must give its connection back.
    for (let i = 0; i < 3; i++) {
      const res = await hub.gql(PAGE, undefined, storefrontKey);
      expect(errorCodes(res)).toEqual(['QUERY_TIMEOUT']);
      expect(res.errors![0].message).toMatch(/took too long/);
    }
    await locker.release();
    const after = await hub.gql<{ orders: { edges: unknown[] } }>(PAGE, undefined, storefrontKey);
    expect(errorCodes(after)).toEqual([]);
    expect(after.data!.orders.edges).toHaveLength(1);
  });

  it('an ANALYST read waits past the STOREFRONT timeout and answers once the lock goes', async () => {
    await lockOrders();
    const analyst = hub.gql<{ orders: { edges: unknown[] } }>(PAGE, undefined, analystKey);
    await waitFor(async () => (await waiting('staff-requests')) > 0, 'the analyst query to wait on the lock');
    const storefront = await hub.gql(PAGE, undefined, storefrontKey);
    expect(errorCodes(storefront)).toEqual(['QUERY_TIMEOUT']);
    // The storefront's statement was cancelled after 300 ms; the analyst's still waits.
    expect(await waiting('staff-requests')).toBeGreaterThan(0);
    await locker.release();
    const res: GraphQLResponse<{ orders: { edges: unknown[] } }> = await analyst;
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.edges).toHaveLength(1);
  });
});
