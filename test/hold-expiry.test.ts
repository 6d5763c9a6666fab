import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { RequestContext } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { deliver, sample } from './support/webhooks.js';

const SECRET = 'tb-webhook-secret-0123456789abcdef0';

describe('holds that run out of time', () => {
  let hub: TestHub;
  let base: string;
  const sql = (q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute(q, p);
  const sweep = () =>
    expireHolds(RequestContext.system(hub.orm.em.fork(), hub.hub.app.log as never, hub.hub.services));

  beforeAll(async () => {
    hub = await startTestHub('hold-expiry');
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: SECRET });
    await seedProduct(hub.orm, 'MILK-1L', 3);
  });

  afterAll(() => hub.close());

  it('returns a storefront order’s units to the pool and cancels it for payment timeout', async () => {
    const placed = await hub.gql<{ placeOrder: { id: string } }>(
      `mutation { placeOrder(input: {channelCode: "shop", externalId: "W1", customerName: "A",
        shippingAddress: {line1: "x"}, lines: [{productCode: "MILK-1L", quantity: 2, unitPrice: "1.00"}]}) { id } }`,
    );
    const id = placed.data!.placeOrder.id;
    expect(await sql(`select reserved from inventory_item`)).toEqual([{ reserved: 2 }]);
    await sql(`update reservation set expires_at = now() - interval '1 second' where order_id = ?`, [id]);
    expect(await sweep()).toBe(1);
    expect(await sql(`select reserved from inventory_item`)).toEqual([{ reserved: 0 }]);
    expect(await sql(`select status from "order" where id = ?`, [id])).toEqual([{ status: 'CANCELLED' }]);
    const timeline = await sql(
      `select type, to_status, source from order_event where order_id = ? order by id`,
      [id],
    );
    expect(timeline).toEqual([
      { type: 'CREATED', to_status: 'PENDING_PAYMENT', source: 'api' },
      { type: 'HOLD_EXPIRED', to_status: 'PENDING_PAYMENT', source: 'system' },
      { type: 'STATUS_CHANGED', to_status: 'CANCELLED', source: 'system' },
    ]);
    expect(await sql(`select status from reservation where order_id = ?`, [id])).toEqual([
      { status: 'EXPIRED' },
    ]);
  });

  it('leaves a marketplace order open, and a later payment takes the units again or raises OUT_OF_STOCK', async () => {
    const payload = sample('taobao');
    payload.status = 'WAIT_BUYER_PAY';
    const first = await deliver(base, 'taobao-main', payload, { secret: SECRET });
    const id = first.body.orderId;
    await sql(`update reservation set expires_at = now() - interval '1 second' where order_id = ?`, [id]);
    expect(await sweep()).toBe(1);
    expect(await sql(`select status from "order" where id = ?`, [id])).toEqual([
      { status: 'PENDING_PAYMENT' },
    ]);
    expect(await sql(`select reserved from inventory_item`)).toEqual([{ reserved: 0 }]);

    // Someone else buys the stock meanwhile; then the platform reports the payment.
    await sql(`update inventory_item set on_hand = 1`);
    await deliver(base, 'taobao-main', { ...payload, status: 'WAIT_SELLER_SEND_GOODS' }, { secret: SECRET });
    expect(await sql(`select status from "order" where id = ?`, [id])).toEqual([{ status: 'PAID' }]);
    const [alert] = await sql(`select kind, order_id from stock_alert where order_id = ?`, [id]);
    expect(alert).toEqual({ kind: 'OUT_OF_STOCK', order_id: id });
  });

  it('cancels by how the order entered: placed through the API yes, a platform payload sent to the API no', async () => {
    await sql(`update inventory_item set on_hand = 10, reserved = 0`);
    const placed = await hub.gql<{ placeOrder: { id: string } }>(
      `mutation { placeOrder(input: {channelCode: "taobao-main", externalId: "API-1", customerName: "A",
        shippingAddress: {line1: "x"}, lines: [{productCode: "MILK-1L", quantity: 1, unitPrice: "1.00"}]}) { id } }`,
    );
    const payload = { ...sample('taobao'), status: 'WAIT_BUYER_PAY', tid_str: 'PAYLOAD-1', tid: 1 };
    const sent = await hub.gql<{ ingestChannelOrder: { id: string } }>(
      `mutation($payload: JSON!) { ingestChannelOrder(channelCode: "taobao-main", payload: $payload) { id } }`,
      { payload },
    );
    const ids = [placed.data!.placeOrder.id, sent.data!.ingestChannelOrder.id];
    expect(await sql(`select origin from "order" where id in (?, ?) order by origin`, ids)).toEqual([
      { origin: 'API' },
      { origin: 'PLACED' },
    ]);
    await sql(`update reservation set expires_at = now() - interval '1 second' where status = 'HELD'`);
    expect(await sweep()).toBe(2);
    expect(await sql(`select status from "order" where id = ?`, [ids[0]])).toEqual([{ status: 'CANCELLED' }]);
    expect(await sql(`select status from "order" where id = ?`, [ids[1]])).toEqual([
      { status: 'PENDING_PAYMENT' },
    ]);
  });

  it('is safe with several sweepers at once: each hold expires exactly once', async () => {
    await sql(`update inventory_item set on_hand = 100, reserved = 0`);
    for (let i = 0; i < 30; i++) {
      await hub.gql(
        `mutation { placeOrder(input: {channelCode: "shop", externalId: "R${i}", customerName: "A",
          shippingAddress: {line1: "x"}, lines: [{productCode: "MILK-1L", quantity: 1, unitPrice: "1.00"}]}) { id } }`,
      );
    }
    expect(await sql(`select reserved from inventory_item`)).toEqual([{ reserved: 30 }]);
    await sql(`update reservation set expires_at = now() - interval '1 second' where status = 'HELD'`);
    const counts = await Promise.all([sweep(), sweep(), sweep()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(await sql(`select reserved from inventory_item`)).toEqual([{ reserved: 0 }]);
  });
});
