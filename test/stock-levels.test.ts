import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { deliver, sample } from './support/webhooks.js';

const ADJUST = `mutation($code: String!, $delta: Int!, $reason: String!) {
  adjustStock(productCode: $code, delta: $delta, reason: $reason) { productCode onHand reserved available safetyStock }
}`;
const SAFETY = `mutation($code: String!, $safetyStock: Int!) {
  setSafetyStock(productCode: $code, safetyStock: $safetyStock) { productCode onHand reserved available safetyStock }
}`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;
const SECRET = 'tmall-secret-0123456789abcdef012345';

describe('adjusting stock, safety stock and stock alerts', () => {
  let hub: TestHub;
  let base: string;
  let seq = 0;
  const keys: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const adjust = (delta: number, reason = 'count', code = 'TEA', key?: string | null) =>
    hub.gql<{ adjustStock: any }>(ADJUST, { code, delta, reason }, key);
  const place = (quantity: number, channelCode = 'web', code = 'TEA') =>
    hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode,
        externalId: `SL-${++seq}`,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: code, quantity, unitPrice: '1.00' }],
      },
    });
  const alerts = (code = 'TEA') =>
    sql<{
      kind: string;
      available: number;
      threshold: number | null;
      channels_closed: string[];
      channels_reopened: string[];
    }>(
      `select kind, available, threshold, channels_closed, channels_reopened from stock_alert
       where product_code = ? order by id`,
      [code],
    );
  const closedOn = async (code = 'TEA') =>
    (
      await sql<{ c: string[] }>('select closed_on_channels as c from product where product_code = ?', [code])
    )[0].c;
  const stock = async (code = 'TEA') =>
    (
      await sql<{ on_hand: number; reserved: number; available: number }>(
        'select on_hand, reserved, on_hand - reserved as available from inventory_item where product_code = ?',
        [code],
      )
    )[0];

  /** The invariants that hold after every transaction. */
  async function expectInvariants(code: string, initialOnHand: number) {
    const [row] = await sql(
      `select i.on_hand, i.reserved,
         (select coalesce(sum(quantity), 0)::int from reservation r where r.product_id = i.product_id and r.status = 'HELD') as held,
         (select coalesce(sum(delta), 0)::int from stock_movement m where m.product_id = i.product_id) as moved
       from inventory_item i where product_code = ?`,
      [code],
    );
    expect(row.on_hand - row.reserved).toBeGreaterThanOrEqual(0);
    expect(row.reserved).toBe(row.held);
    expect(row.on_hand - initialOnHand).toBe(row.moved);
  }

  beforeAll(async () => {
    hub = await startTestHub('stock-levels', { env: { RESTOCK_MARGIN: '5' } });
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT, { isCore: true });
    await seedChannel(hub.orm, 'pop-up', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'tmall', Platform.TAOBAO, { webhookSecret: SECRET });
    keys.OPS = await hub.apiKey('OPS');
    keys.ANALYST = await hub.apiKey('ANALYST');
    keys.STOREFRONT = await hub.apiKey('STOREFRONT', 'web');
  });

  beforeEach(async () => {
    await sql('delete from "order"');
    await sql('delete from stock_alert');
    await sql('delete from product');
  });

  afterAll(() => hub.close());

  describe('adjustStock', () => {
    it('books receipts and damage as movements naming who and why, and the movements add up', async () => {
      await seedProduct(hub.orm, 'TEA', 10);
      const received = await adjust(25, 'receipt PO-7', 'TEA', keys.OPS);
      expect(received.errors).toBeUndefined();
      expect(received.data!.adjustStock).toEqual({
        productCode: 'TEA',
        onHand: 35,
        reserved: 0,
        available: 35,
        safetyStock: 0,
      });
      expect((await adjust(-4, '  broken in transit  ')).data!.adjustStock.onHand).toBe(31);

      const [opsKey] = await sql<{ id: string }>(`select id from api_key where label = 'test OPS'`);
      expect(await sql('select delta, on_hand_after, reason, actor from stock_movement order by id')).toEqual(
        [
          { delta: 25, on_hand_after: 35, reason: 'receipt PO-7', actor: opsKey.id },
          { delta: -4, on_hand_after: 31, reason: 'broken in transit', actor: 'env-admin' },
        ],
      );
      await expectInvariants('TEA', 10);
    });

    it('cannot take on-hand below the units held for unpaid orders, and changes nothing then', async () => {
      await seedProduct(hub.orm, 'TEA', 10);
      expect((await place(8)).errors).toBeUndefined();
      const refused = await adjust(-3, 'damaged');
      expect(errorCodes(refused)).toEqual(['INSUFFICIENT_STOCK']);
      expect(refused.errors![0].message).toContain('Only 2 of "TEA" available, 3 requested');
      expect(await stock()).toEqual({ on_hand: 10, reserved: 8, available: 2 });
      expect((await adjust(-2, 'damaged')).data!.adjustStock).toMatchObject({ onHand: 8, available: 0 });
      await expectInvariants('TEA', 10);
    });

    it('refuses a blank reason, a zero or absurd delta, and an unknown product', async () => {
      await seedProduct(hub.orm, 'TEA', 10);
      expect(errorCodes(await adjust(5, '   '))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await adjust(0))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await adjust(5_000_000))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await adjust(-5_000_000))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await adjust(5, 'receipt', 'NOPE'))).toEqual(['NOT_FOUND']);
      expect(await stock()).toMatchObject({ on_hand: 10 });
      expect(await sql('select count(*)::int as n from stock_movement')).toEqual([{ n: 0 }]);
    });

    it('is for OPS and ADMIN keys only', async () => {
      await seedProduct(hub.orm, 'TEA', 10);
      expect(errorCodes(await adjust(1, 'x', 'TEA', keys.ANALYST))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await adjust(1, 'x', 'TEA', keys.STOREFRONT))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await adjust(1, 'x', 'TEA', null))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await hub.gql(SAFETY, { code: 'TEA', safetyStock: 3 }, keys.STOREFRONT))).toEqual([
        'FORBIDDEN',
      ]);
      expect(await stock()).toMatchObject({ on_hand: 10 });
    });
  });

  describe('setSafetyStock', () => {
    it('sets the threshold, refusing a negative one and an unknown product', async () => {
      await seedProduct(hub.orm, 'TEA', 30);
      const set = await hub.gql<{ setSafetyStock: any }>(SAFETY, { code: 'TEA', safetyStock: 7 }, keys.OPS);
      expect(set.data!.setSafetyStock).toMatchObject({ productCode: 'TEA', safetyStock: 7, available: 30 });
      expect(errorCodes(await hub.gql(SAFETY, { code: 'TEA', safetyStock: -1 }))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await hub.gql(SAFETY, { code: 'NOPE', safetyStock: 1 }))).toEqual(['NOT_FOUND']);
      expect(await alerts()).toEqual([]);
    });

    it('closes the product at once when the new threshold is at or above what is available', async () => {
      await seedProduct(hub.orm, 'TEA', 10);
      await hub.gql(SAFETY, { code: 'TEA', safetyStock: 10 });
      expect(await closedOn()).toEqual(['pop-up', 'tmall']);
      expect((await alerts()).map((a) => a.kind)).toEqual(['LOW_STOCK']);
    });
  });

  describe('safety stock', () => {
    it('closes only non-core channels at the threshold: placeOrder there fails, a core channel still sells', async () => {
      await seedProduct(hub.orm, 'TEA', 20, 5);
      expect((await place(14)).errors).toBeUndefined();
      expect(await closedOn()).toEqual([]);
      expect((await place(1)).errors).toBeUndefined(); // available 5 = safety stock

      expect(await closedOn()).toEqual(['pop-up', 'tmall']);
      expect(await alerts()).toEqual([
        {
          kind: 'LOW_STOCK',
          available: 5,
          threshold: 5,
          channels_closed: ['pop-up', 'tmall'],
          channels_reopened: [],
        },
      ]);
      expect(errorCodes(await place(1, 'pop-up'))).toEqual(['CHANNEL_CLOSED']);
      expect((await place(1, 'web')).errors).toBeUndefined();
      const low = await hub.gql<{ lowStock: { productCode: string }[] }>('{ lowStock { productCode } }');
      expect(low.data!.lowStock).toEqual([{ productCode: 'TEA' }]);
      await expectInvariants('TEA', 20);
    });

    it('does not flap around the threshold, and reopens with RESTOCKED only above threshold + margin', async () => {
      await seedProduct(hub.orm, 'TEA', 6, 5);
      for (const delta of [-1, +1, -1, +3, -4, +5]) await adjust(delta); // 5, 6, 5, 8, 4, 9
      expect(await stock()).toMatchObject({ available: 9 });
      expect(await closedOn()).toEqual(['pop-up', 'tmall']);
      expect((await alerts()).map((a) => a.kind)).toEqual(['LOW_STOCK']);

      await adjust(1); // 10 = 5 + margin 5: still closed
      expect(await closedOn()).toEqual(['pop-up', 'tmall']);
      await adjust(1); // 11: above
      expect(await closedOn()).toEqual([]);
      expect((await alerts()).at(-1)).toEqual({
        kind: 'RESTOCKED',
        available: 11,
        threshold: 5,
        channels_closed: [],
        channels_reopened: ['pop-up', 'tmall'],
      });
      expect((await place(1, 'pop-up')).errors).toBeUndefined();

      // Once open, dipping back into the band above the threshold does not close it again.
      await adjust(-4); // 6
      expect(await closedOn()).toEqual([]);
      expect((await alerts()).map((a) => a.kind)).toEqual(['LOW_STOCK', 'RESTOCKED']);
      await expectInvariants('TEA', 6);
    });

    it('raises OUT_OF_STOCK once when nothing is left, and again only after a new crossing', async () => {
      await seedProduct(hub.orm, 'TEA', 3, 1);
      expect((await place(3)).errors).toBeUndefined();
      expect((await alerts()).map((a) => [a.kind, a.available])).toEqual([
        ['LOW_STOCK', 0],
        ['OUT_OF_STOCK', 0],
      ]);
      await hub.gql(SAFETY, { code: 'TEA', safetyStock: 2 });
      expect(errorCodes(await place(1))).toEqual(['INSUFFICIENT_STOCK']);
      expect((await alerts()).map((a) => a.kind)).toEqual(['LOW_STOCK', 'OUT_OF_STOCK']);

      await adjust(1);
      await adjust(-1);
      const levels = (await alerts()).filter((a) => a.kind !== 'SUDDEN_DROP');
      expect(levels.map((a) => a.kind)).toEqual(['LOW_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK']);
      await expectInvariants('TEA', 3);
    });

    it('keeps a sold-out product without safety stock open: OUT_OF_STOCK, and INSUFFICIENT_STOCK on every channel', async () => {
      await seedProduct(hub.orm, 'TEA', 2, 0);
      expect((await place(2, 'pop-up')).errors).toBeUndefined();
      expect((await alerts()).map((a) => a.kind)).toEqual(['OUT_OF_STOCK']);
      expect(await closedOn()).toEqual([]);
      expect(errorCodes(await place(1, 'pop-up'))).toEqual(['INSUFFICIENT_STOCK']);
    });

    it('raises SUDDEN_DROP when more than half of what was available goes within the window, once per window', async () => {
      await seedProduct(hub.orm, 'TEA', 101);
      await adjust(-1, 'count'); // 100: the window starts here
      expect((await place(50)).errors).toBeUndefined(); // exactly half: not more than 50%
      expect((await alerts()).map((a) => a.kind)).toEqual([]);
      expect((await place(1)).errors).toBeUndefined(); // 49
      expect(await alerts()).toEqual([
        { kind: 'SUDDEN_DROP', available: 49, threshold: 100, channels_closed: [], channels_reopened: [] },
      ]);
      expect((await place(40)).errors).toBeUndefined(); // 9: same window, no second alert
      expect((await alerts()).map((a) => a.kind)).toEqual(['SUDDEN_DROP']);

      // Ten minutes later (moved back in time rather than waited for), a new window starts from 9.
      await sql(
        `update inventory_item set drop_reference_at = drop_reference_at - interval '11 minutes',
           sudden_drop_at = sudden_drop_at - interval '11 minutes'`,
      );
      await adjust(1, 'count'); // 10: new window
      expect((await place(6)).errors).toBeUndefined(); // 4
      expect((await alerts()).map((a) => [a.kind, a.available, a.threshold])).toEqual([
        ['SUDDEN_DROP', 49, 100],
        ['SUDDEN_DROP', 4, 10],
      ]);
    });

    it('does not call a slow fall across windows sudden', async () => {
      await seedProduct(hub.orm, 'TEA', 100);
      await adjust(-1, 'count'); // 99: window starts
      expect((await place(40)).errors).toBeUndefined(); // 59
      await sql(`update inventory_item set drop_reference_at = drop_reference_at - interval '11 minutes'`);
      expect((await place(1)).errors).toBeUndefined(); // 58: new window from here
      expect((await place(20)).errors).toBeUndefined(); // 38
      expect(await alerts()).toEqual([]);
    });

    it('raises the alerts when a marketplace webhook order takes the last units', async () => {
      await seedProduct(hub.orm, 'MILK-1L', 4, 2);
      const payload = sample('taobao');
      payload.status = 'WAIT_SELLER_SEND_GOODS';
      payload.orders.order[0].num = 4;
      payload.orders.order[0].outer_sku_id = 'MILK-1L';
      payload.orders.order[0].payment = (129.9 * 4).toFixed(2);
      payload.payment = (129.9 * 4).toFixed(2);
      const reply = await deliver(base, 'tmall', payload, { secret: SECRET });
      expect(reply.status).toBe(200);
      expect(await stock('MILK-1L')).toEqual({ on_hand: 0, reserved: 0, available: 0 });
      expect(await alerts('MILK-1L')).toEqual([
        {
          kind: 'LOW_STOCK',
          available: 0,
          threshold: 2,
          channels_closed: ['pop-up', 'tmall'],
          channels_reopened: [],
        },
        { kind: 'OUT_OF_STOCK', available: 0, threshold: 2, channels_closed: [], channels_reopened: [] },
      ]);
      expect(await closedOn('MILK-1L')).toEqual(['pop-up', 'tmall']);
      expect(errorCodes(await place(1, 'pop-up', 'MILK-1L'))).toEqual(['CHANNEL_CLOSED']);
      await expectInvariants('MILK-1L', 4);
    });
  });
});
