import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OrderStatus, Platform } from '../common/enums.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const MARK_PAID = `mutation($id: ID!) {
  markPaid(orderId: $id) { id status paidAt reservations { quantity status } timeline { type fromStatus toStatus source } }
}`;
const CANCEL = `mutation($id: ID!, $reason: String!) {
  cancelOrder(orderId: $id, reason: $reason) { id status reservations { quantity status } timeline { type fromStatus toStatus source } }
}`;

describe('paying and cancelling orders through the API', () => {
  let hub: TestHub;
  let seq = 0;
  const keys: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const place = async (quantity: number, channelCode = 'web') => {
    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode,
        externalId: `LC-${++seq}`,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'TEA', quantity, unitPrice: '2.50' }],
      },
    });
    expect(placed.errors).toBeUndefined();
    return placed.data!.placeOrder.id;
  };
  const markPaid = (id: string, key?: string) => hub.gql<{ markPaid: any }>(MARK_PAID, { id }, key);
  const cancel = (id: string, reason = 'customer asked', key?: string) =>
    hub.gql<{ cancelOrder: any }>(CANCEL, { id, reason }, key);
  const stock = async () =>
    (
      await sql<{ on_hand: number; reserved: number }>(
        `select on_hand, reserved from inventory_item where product_code = 'TEA'`,
      )
    )[0];
  const statusOf = async (id: string) =>
    (await sql<{ status: string }>('select status from "order" where id = ?', [id]))[0].status;

  /** available >= 0; reserved is the sum of HELD reservations; movements add up to the change of onHand. */
  async function expectInvariants(initialOnHand = 10) {
    const [row] = await sql(
      `select i.on_hand, i.reserved,
         (select coalesce(sum(quantity), 0)::int from reservation r where r.product_id = i.product_id and r.status = 'HELD') as held,
         (select coalesce(sum(delta), 0)::int from stock_movement m where m.product_id = i.product_id) as moved
       from inventory_item i where product_code = 'TEA'`,
    );
    expect(row.on_hand - row.reserved).toBeGreaterThanOrEqual(0);
    expect(row.reserved).toBe(row.held);
    expect(row.on_hand - initialOnHand).toBe(row.moved);
  }

  beforeAll(async () => {
    hub = await startTestHub('order-lifecycle');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'other-shop', Platform.STOREFRONT);
    keys.OPS = await hub.apiKey('OPS');
    keys.ANALYST = await hub.apiKey('ANALYST');
    keys.STOREFRONT = await hub.apiKey('STOREFRONT', 'web');
  });

  beforeEach(async () => {
    await sql('delete from "order"');
    await sql('delete from product');
    await seedProduct(hub.orm, 'TEA', 10);
  });

  afterAll(() => hub.close());

  describe('markPaid', () => {
    it('commits the holds: on-hand and reserved both drop, and the timeline says PAID from the api', async () => {
      const id = await place(3);
      expect(await stock()).toEqual({ on_hand: 10, reserved: 3 });
      const paid = await markPaid(id, keys.OPS);
      expect(paid.errors).toBeUndefined();
      expect(paid.data!.markPaid).toMatchObject({
        status: 'PAID',
        reservations: [{ quantity: 3, status: 'COMMITTED' }],
      });
      expect(paid.data!.markPaid.paidAt).not.toBeNull();
      expect(paid.data!.markPaid.timeline.at(-1)).toEqual({
        type: 'STATUS_CHANGED',
        fromStatus: 'PENDING_PAYMENT',
        toStatus: 'PAID',
        source: 'api',
      });
      expect(await stock()).toEqual({ on_hand: 7, reserved: 0 });
      expect(await sql('select delta, reason, order_id from stock_movement')).toEqual([
        { delta: -3, reason: 'sale', order_id: id },
      ]);
      await expectInvariants();
    });

    it('refuses to pay an order twice, or a cancelled one, with INVALID_TRANSITION and changes nothing', async () => {
      const id = await place(3);
      await markPaid(id);
      const again = await markPaid(id);
      expect(errorCodes(again)).toEqual(['INVALID_TRANSITION']);
      expect(again.errors![0].message).toContain('cannot go from PAID to PAID');
      expect(await stock()).toEqual({ on_hand: 7, reserved: 0 });

      const other = await place(2);
      await cancel(other);
      expect(errorCodes(await markPaid(other))).toEqual(['INVALID_TRANSITION']);
      expect(await statusOf(other)).toBe('CANCELLED');
      expect(await stock()).toEqual({ on_hand: 7, reserved: 0 });
      await expectInvariants();
    });

    it('fails with INSUFFICIENT_STOCK when the hold is gone and so are the units, leaving the order unpaid', async () => {
      const id = await place(3);
      // The hold lapsed (as the sweeper does for a marketplace order) and the units were sold elsewhere.
      await sql(`update reservation set status = 'EXPIRED' where order_id = ?`, [id]);
      await sql(`update inventory_item set reserved = 0, on_hand = 2`);
      expect(errorCodes(await markPaid(id))).toEqual(['INSUFFICIENT_STOCK']);
      expect(await statusOf(id)).toBe('PENDING_PAYMENT');
      expect(await stock()).toEqual({ on_hand: 2, reserved: 0 });
    });
  });

  describe('cancelOrder', () => {
    it('releases an unpaid order’s holds and keeps the reason in the timeline', async () => {
      const id = await place(4);
      const cancelled = await cancel(id, 'customer changed their mind');
      expect(cancelled.errors).toBeUndefined();
      expect(cancelled.data!.cancelOrder).toMatchObject({
        status: 'CANCELLED',
        reservations: [{ quantity: 4, status: 'RELEASED' }],
      });
      expect(await stock()).toEqual({ on_hand: 10, reserved: 0 });
      const [event] = await sql(
        `select from_status, to_status, source, detail from order_event where order_id = ? and type = 'STATUS_CHANGED'`,
        [id],
      );
      expect(event).toEqual({
        from_status: 'PENDING_PAYMENT',
        to_status: 'CANCELLED',
        source: 'api',
        detail: { reason: 'customer changed their mind' },
      });
      await expectInvariants();
    });

    it('puts a paid order’s units back on the shelf, with a movement', async () => {
      const id = await place(4);
      await markPaid(id);
      expect(await stock()).toEqual({ on_hand: 6, reserved: 0 });
      expect((await cancel(id)).data!.cancelOrder.status).toBe('CANCELLED');
      expect(await stock()).toEqual({ on_hand: 10, reserved: 0 });
      expect(await sql('select delta from stock_movement order by id')).toEqual([
        { delta: -4 },
        { delta: 4 },
      ]);
      await expectInvariants();
    });

    it('refuses to cancel a shipped or already cancelled order', async () => {
      const channel = (await sql<{ id: string }>(`select id from channel where code = 'web'`))[0];
      const shipped = await seedOrder(hub.orm, {
        channel: { id: channel.id, code: 'web' } as never,
        externalId: 'SHIPPED-1',
        status: OrderStatus.SHIPPED,
      });
      expect(errorCodes(await cancel(shipped.id))).toEqual(['INVALID_TRANSITION']);
      expect(await statusOf(shipped.id)).toBe('SHIPPED');

      const id = await place(1);
      await cancel(id);
      expect(errorCodes(await cancel(id))).toEqual(['INVALID_TRANSITION']);
      expect(
        await sql(
          `select count(*)::int as n from order_event where order_id = ? and to_status = 'CANCELLED'`,
          [id],
        ),
      ).toEqual([{ n: 1 }]);
    });

    it('needs a reason', async () => {
      const id = await place(1);
      expect(errorCodes(await cancel(id, '  '))).toEqual(['BAD_USER_INPUT']);
      expect(await statusOf(id)).toBe('PENDING_PAYMENT');
    });

    it('settles a payment and a cancellation racing on one order consistently', async () => {
      const id = await place(5);
      const [paid, cancelled] = await Promise.all([markPaid(id), cancel(id)]);
      expect(cancelled.errors).toBeUndefined(); // cancel is valid from PENDING_PAYMENT and from PAID
      expect(errorCodes(paid)).toEqual(paid.errors ? ['INVALID_TRANSITION'] : []);
      expect(await statusOf(id)).toBe('CANCELLED');
      expect(await stock()).toEqual({ on_hand: 10, reserved: 0 });
      await expectInvariants();
    });
  });

  describe('errors and access', () => {
    it('answers NOT_FOUND for an unknown order and BAD_USER_INPUT for a malformed id', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect(errorCodes(await markPaid(unknown))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await cancel(unknown))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await markPaid('not-an-id'))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await cancel('not-an-id'))).toEqual(['BAD_USER_INPUT']);
    });

    it('lets a storefront key move its own channel’s orders only, and an analyst key none', async () => {
      const own = await place(1, 'web');
      const foreign = await place(1, 'other-shop');
      expect((await markPaid(own, keys.STOREFRONT)).data!.markPaid.status).toBe('PAID');
      expect(errorCodes(await markPaid(foreign, keys.STOREFRONT))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await cancel(foreign, 'x', keys.STOREFRONT))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await markPaid(foreign, keys.ANALYST))).toEqual(['FORBIDDEN']);
      expect(await statusOf(foreign)).toBe('PENDING_PAYMENT');
      expect((await cancel(foreign, 'ops says so', keys.OPS)).data!.cancelOrder.status).toBe('CANCELLED');
    });
  });
});
