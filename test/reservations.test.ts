import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, Role } from '../common/enums.js';
import { RequestContext } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type GraphQLResponse, type TestHub } from './support/hub.js';

const RESERVE = `mutation ($code: String!, $q: Int!, $ttl: Int) {
  reserveStock(productCode: $code, quantity: $q, ttlSeconds: $ttl) { id productCode quantity status expiresAt order { id } }
}`;
const RELEASE = `mutation ($id: ID!) { releaseReservation(id: $id) { id productCode quantity status expiresAt } }`;

interface Hold {
  id: string;
  productCode: string;
  quantity: number;
  status: string;
  expiresAt: string;
}

describe('reserveStock and releaseReservation', () => {
  let hub: TestHub;
  const sql = <T = Record<string, unknown>>(q: string, p: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(q, p);
  const reserve = (code: string, q: number, ttl?: number, key?: string | null) =>
    hub.gql<{ reserveStock: Hold }>(RESERVE, { code, q, ttl }, key);
  const release = (id: string, key?: string | null) =>
    hub.gql<{ releaseReservation: Hold }>(RELEASE, { id }, key);
  const stock = async (code: string) =>
    (
      await sql<{ on_hand: number; reserved: number }>(
        `select on_hand, reserved from inventory_item where product_code = ?`,
        [code],
      )
    )[0];
  const sweep = () =>
    expireHolds(RequestContext.system(hub.orm.em.fork(), hub.hub.app.log as never, hub.hub.services));
  let storefront: string;
  let otherStorefront: string;

  /** The pool's invariants, checked with SQL after every concurrent run. */
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

  beforeAll(async () => {
    hub = await startTestHub('reservations', { env: { RESERVATION_TTL_SECONDS: '600' } });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'pop-up', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'shut', Platform.STOREFRONT, { salesOpen: false });
    await seedProduct(hub.orm, 'MILK-1L', 10);
    storefront = await hub.apiKey(Role.STOREFRONT, 'shop');
    otherStorefront = await hub.apiKey(Role.STOREFRONT, 'pop-up');
  });

  afterAll(() => hub.close());

  it('holds units with the configured expiry and gives them back on release', async () => {
    const before = Date.now();
    const held = await reserve('MILK-1L', 3);
    expect(errorCodes(held)).toEqual([]);
    const hold = held.data!.reserveStock;
    expect(hold).toMatchObject({ productCode: 'MILK-1L', quantity: 3, status: 'HELD' });
    const expiresIn = Date.parse(hold.expiresAt) - before;
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThan(660_000);
    expect(await stock('MILK-1L')).toEqual({ on_hand: 10, reserved: 3 });

    const released = await release(hold.id);
    expect(released.data!.releaseReservation).toMatchObject({ id: hold.id, quantity: 3, status: 'RELEASED' });
    expect(await stock('MILK-1L')).toEqual({ on_hand: 10, reserved: 0 });
  });

  it('takes ttlSeconds from the caller', async () => {
    const before = Date.now();
    const hold = (await reserve('MILK-1L', 1, 60)).data!.reserveStock;
    expect(Date.parse(hold.expiresAt) - before).toBeGreaterThan(55_000);
    expect(Date.parse(hold.expiresAt) - before).toBeLessThan(120_000);
    await release(hold.id);
  });

  it('answers a hold that is no longer held unchanged when released again: released, expired or committed', async () => {
    const hold = (await reserve('MILK-1L', 2)).data!.reserveStock;
    await release(hold.id);
    const again = await release(hold.id);
    expect(errorCodes(again)).toEqual([]);
    expect(again.data!.releaseReservation).toMatchObject({ id: hold.id, status: 'RELEASED' });

    const expiring = (await reserve('MILK-1L', 2)).data!.reserveStock;
    await sql(`update reservation set expires_at = now() - interval '1 second' where id = ?`, [expiring.id]);
    expect(await sweep()).toBe(1);
    const afterExpiry = await release(expiring.id);
    expect(errorCodes(afterExpiry)).toEqual([]);
    expect(afterExpiry.data!.releaseReservation.status).toBe('EXPIRED');

    const committed = (await reserve('MILK-1L', 1)).data!.reserveStock;
    await sql(`update reservation set status = 'COMMITTED' where id = ?`, [committed.id]);
    await sql(
      `update inventory_item set on_hand = on_hand - 1, reserved = reserved - 1 where product_code = ?`,
      ['MILK-1L'],
    );
    expect((await release(committed.id)).data!.releaseReservation.status).toBe('COMMITTED');
    expect(await stock('MILK-1L')).toEqual({ on_hand: 9, reserved: 0 });
    await sql(`update inventory_item set on_hand = 10 where product_code = ?`, ['MILK-1L']);
    await expectInvariants();
  });

  it('refuses what cannot be held, with the contract’s codes', async () => {
    const cases: [Promise<GraphQLResponse>, string][] = [
      [reserve('NO-SUCH', 1), 'NOT_FOUND'],
      [reserve('MILK-1L', 0), 'BAD_USER_INPUT'],
      [reserve('MILK-1L', -2), 'BAD_USER_INPUT'],
      [reserve('MILK-1L', 1_000_001), 'BAD_USER_INPUT'],
      [reserve('MILK-1L', 1, 0), 'BAD_USER_INPUT'],
      [reserve('MILK-1L', 1, 7 * 24 * 3600 + 1), 'BAD_USER_INPUT'],
      [reserve('MILK-1L', 11), 'INSUFFICIENT_STOCK'],
      [release('00000000-0000-4000-8000-000000000000'), 'NOT_FOUND'],
      [release('not-an-id'), 'BAD_USER_INPUT'],
    ];
    for (const [response, code] of cases) expect(errorCodes(await response)).toEqual([code]);
    const short = await reserve('MILK-1L', 11);
    expect(short.errors![0].extensions).toMatchObject({
      productCode: 'MILK-1L',
      requested: 11,
      available: 10,
    });
    expect(await stock('MILK-1L')).toEqual({ on_hand: 10, reserved: 0 });
  });

  it('lets OPS and STOREFRONT keys hold stock, and no other role', async () => {
    const ops = await hub.apiKey(Role.OPS);
    const analyst = await hub.apiKey(Role.ANALYST);
    const connector = await hub.apiKey(Role.CONNECTOR, 'shop');
    const opsHold = await reserve('MILK-1L', 1, undefined, ops);
    expect(errorCodes(opsHold)).toEqual([]);
    expect(errorCodes(await release(opsHold.data!.reserveStock.id, ops))).toEqual([]);
    expect(errorCodes(await reserve('MILK-1L', 1, undefined, analyst))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await reserve('MILK-1L', 1, undefined, connector))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await reserve('MILK-1L', 1, undefined, null))).toEqual(['UNAUTHENTICATED']);
  });

  it('records a storefront’s hold for its channel, and lets only that channel release it', async () => {
    const hold = (await reserve('MILK-1L', 1, undefined, storefront)).data!.reserveStock;
    expect(await sql(`select channel_code from reservation where id = ?`, [hold.id])).toEqual([
      { channel_code: 'shop' },
    ]);
    expect(errorCodes(await release(hold.id, otherStorefront))).toEqual(['FORBIDDEN']);
    expect((await release(hold.id, storefront)).data!.releaseReservation.status).toBe('RELEASED');

    const opsHold = (await reserve('MILK-1L', 1)).data!.reserveStock;
    expect(errorCodes(await release(opsHold.id, storefront))).toEqual(['FORBIDDEN']);
    await release(opsHold.id);
  });

  it('refuses a storefront’s hold while its channel, or the product on it, is closed', async () => {
    const shut = await hub.apiKey(Role.STOREFRONT, 'shut');
    expect(errorCodes(await reserve('MILK-1L', 1, undefined, shut))).toEqual(['CHANNEL_CLOSED']);
    await sql(`update product set closed_on_channels = '{shop}' where product_code = ?`, ['MILK-1L']);
    try {
      const closed = await reserve('MILK-1L', 1, undefined, storefront);
      expect(errorCodes(closed)).toEqual(['CHANNEL_CLOSED']);
      expect(closed.errors![0].extensions).toMatchObject({ channelCode: 'shop', productCode: 'MILK-1L' });
      // Closed for the storefront only: operators still hold it.
      const opsHold = await reserve('MILK-1L', 1);
      expect(errorCodes(opsHold)).toEqual([]);
      await release(opsHold.data!.reserveStock.id);
    } finally {
      await sql(`update product set closed_on_channels = '{}' where product_code = ?`, ['MILK-1L']);
    }
    expect(await stock('MILK-1L')).toEqual({ on_hand: 10, reserved: 0 });
  });

  it('closes the product on non-core channels when a hold takes it to its safety stock', async () => {
    await seedProduct(hub.orm, 'SAFE-1', 5, 2);
    expect(errorCodes(await reserve('SAFE-1', 3))).toEqual([]);
    const [product] = await sql<{ closed_on_channels: string[] }>(
      `select closed_on_channels from product where product_code = ?`,
      ['SAFE-1'],
    );
    expect(product.closed_on_channels).toContain('shop');
    const alerts = await sql<{ kind: string }>(`select kind from stock_alert where product_code = ?`, [
      'SAFE-1',
    ]);
    expect(alerts.map((a) => a.kind)).toContain('LOW_STOCK');
    expect(errorCodes(await reserve('SAFE-1', 1, undefined, storefront))).toEqual(['CHANNEL_CLOSED']);
  });

  it('grants each of many concurrent holds whole or not at all, in one process', async () => {
    await seedProduct(hub.orm, 'HOT-1', 50);
    const quantities = Array.from({ length: 120 }, (_, i) => 1 + (i % 4));
    const results = await Promise.all(quantities.map((q) => reserve('HOT-1', q)));
    const granted = results.filter((r) => !r.errors).map((r) => r.data!.reserveStock.quantity);
    const refused = results.filter((r) => r.errors).flatMap(errorCodes);
    expect(new Set(refused)).toEqual(new Set(['INSUFFICIENT_STOCK']));
    expect(granted.length + refused.length).toBe(120);
    const total = granted.reduce((a, b) => a + b, 0);
    expect(await stock('HOT-1')).toEqual({ on_hand: 50, reserved: total });
    // Only holds too big for what was left are refused, so at most 3 units stay free.
    expect(50 - total).toBeLessThan(4);
    await expectInvariants();
  });
});
