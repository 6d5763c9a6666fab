import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

const PLACE = `mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id externalId status total { amount currencyCode } reservations { productCode quantity status } }
}`;

describe('placing an order from the storefront or the API', () => {
  let hub: TestHub;
  let seq = 0;
  const sql = (q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute(q, p);

  const input = (
    lines: { productCode: string; quantity: number; unitPrice: string }[],
    channelCode = 'shop',
  ) => ({
    channelCode,
    externalId: `WEB-${++seq}`,
    customerName: 'Grace Hopper',
    shippingAddress: { line1: '1 Navy Way', city: 'Arlington', country: 'US' },
    lines,
  });

  beforeAll(async () => {
    hub = await startTestHub('place-order');
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'closed-shop', Platform.STOREFRONT, { salesOpen: false });
  });

  beforeEach(async () => {
    await sql('delete from "order"');
    await sql('delete from product');
    await seedProduct(hub.orm, 'TEA', 5);
    await seedProduct(hub.orm, 'CUP', 1);
  });

  afterAll(() => hub.close());

  it('holds every line and answers a PENDING_PAYMENT order with exact totals', async () => {
    const response = await hub.gql<{ placeOrder: any }>(PLACE, {
      input: input([
        { productCode: 'TEA', quantity: 3, unitPrice: '0.10' },
        { productCode: 'CUP', quantity: 1, unitPrice: '0.20' },
      ]),
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.placeOrder).toMatchObject({
      status: 'PENDING_PAYMENT',
      total: { amount: '0.50', currencyCode: 'CNY' },
    });
    expect(response.data!.placeOrder.reservations).toHaveLength(2);
    const stock = await sql(
      'select product_code, on_hand, reserved from inventory_item order by product_code',
    );
    expect(stock).toEqual([
      { product_code: 'CUP', on_hand: 1, reserved: 1 },
      { product_code: 'TEA', on_hand: 5, reserved: 3 },
    ]);
  });

  it('fails with INSUFFICIENT_STOCK and stores nothing when one line cannot be held', async () => {
    const response = await hub.gql(PLACE, {
      input: input([
        { productCode: 'TEA', quantity: 2, unitPrice: '1.00' },
        { productCode: 'CUP', quantity: 2, unitPrice: '1.00' },
      ]),
    });
    expect(errorCodes(response)).toEqual(['INSUFFICIENT_STOCK']);
    expect(response.errors![0].message).toMatch(/CUP/);
    expect(await sql('select count(*)::int as n from "order"')).toEqual([{ n: 0 }]);
    expect(await sql('select sum(reserved)::int as r from inventory_item')).toEqual([{ r: 0 }]);
  });

  it('fails with CHANNEL_CLOSED on a closed channel or a product closed there', async () => {
    const closed = await hub.gql(PLACE, {
      input: input([{ productCode: 'TEA', quantity: 1, unitPrice: '1.00' }], 'closed-shop'),
    });
    expect(errorCodes(closed)).toEqual(['CHANNEL_CLOSED']);
    await sql(`update product set closed_on_channels = '{shop}' where product_code = 'TEA'`);
    const productClosed = await hub.gql(PLACE, {
      input: input([{ productCode: 'TEA', quantity: 1, unitPrice: '1.00' }]),
    });
    expect(errorCodes(productClosed)).toEqual(['CHANNEL_CLOSED']);
    expect(await sql('select count(*)::int as n from "order"')).toEqual([{ n: 0 }]);
  });

  it('answers the same order when it is placed twice, holding once', async () => {
    const order = input([{ productCode: 'TEA', quantity: 2, unitPrice: '1.00' }]);
    const first = await hub.gql<{ placeOrder: { id: string } }>(PLACE, { input: order });
    const again = await hub.gql<{ placeOrder: { id: string } }>(PLACE, { input: order });
    expect(again.data!.placeOrder.id).toBe(first.data!.placeOrder.id);
    expect(await sql(`select reserved from inventory_item where product_code = 'TEA'`)).toEqual([
      { reserved: 2 },
    ]);
  });

  it('never oversells the last units when many storefronts race for them', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 20 }, () =>
        hub.gql(PLACE, { input: input([{ productCode: 'TEA', quantity: 1, unitPrice: '1.00' }]) }),
      ),
    );
    const placed = attempts.filter((a) => !a.errors);
    expect(placed).toHaveLength(5);
    expect(attempts.filter((a) => errorCodes(a)[0] === 'INSUFFICIENT_STOCK')).toHaveLength(15);
    expect(await sql(`select on_hand, reserved from inventory_item where product_code = 'TEA'`)).toEqual([
      { on_hand: 5, reserved: 5 },
    ]);
  });

  it('rejects bad input with BAD_USER_INPUT and unknown products with NOT_FOUND', async () => {
    const bad = [
      input([{ productCode: 'TEA', quantity: 0, unitPrice: '1.00' }]),
      input([{ productCode: 'TEA', quantity: 1, unitPrice: '-1.00' }]),
      input([{ productCode: 'TEA', quantity: 1, unitPrice: '1.001' }]),
      input([]),
      { ...input([{ productCode: 'TEA', quantity: 1, unitPrice: '1.00' }]), customerName: '  ' },
    ];
    for (const order of bad)
      expect(errorCodes(await hub.gql(PLACE, { input: order }))).toEqual(['BAD_USER_INPUT']);
    const unknown = await hub.gql(PLACE, {
      input: input([{ productCode: 'NOPE', quantity: 1, unitPrice: '1.00' }]),
    });
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });
});
