import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { deliver, sample } from './support/webhooks.js';

const SECRET = 'taobao-webhook-secret-0123456789ab';
const SHOPIFY_SECRET = 'shopify-secret-0123456789abcdef012';

describe('webhook ingestion', () => {
  let hub: TestHub;
  let base: string;
  let seq = 0;

  /** A Taobao order with a fresh tid, one line of `qty` MILK-1L. */
  function taobaoOrder(status: string, qty = 2, code = 'MILK-1L') {
    const payload = sample('taobao');
    const tid = `34872166551904${String(++seq).padStart(5, '0')}`;
    payload.tid_str = tid;
    payload.tid = Number(tid);
    payload.status = status;
    payload.orders.order[0].num = qty;
    payload.orders.order[0].outer_sku_id = code;
    payload.orders.order[0].payment = (129.9 * qty).toFixed(2);
    payload.payment = (129.9 * qty).toFixed(2);
    return payload;
  }

  const sql = <T = any>(query: string, params: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(query, params);

  async function stockOf(code: string) {
    const [row] = await sql<{ on_hand: number; reserved: number }>(
      'select on_hand, reserved from inventory_item where product_code = ?',
      [code],
    );
    return row;
  }

  beforeAll(async () => {
    hub = await startTestHub('webhooks');
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: SECRET });
    await seedChannel(hub.orm, 'shopify-eu', Platform.SHOPIFY, { webhookSecret: SHOPIFY_SECRET });
    await seedChannel(hub.orm, 'jd-nosecret', Platform.JD);
  });

  beforeEach(async () => {
    await sql('delete from stock_alert');
    await sql('delete from product');
    await seedProduct(hub.orm, 'MILK-1L', 10);
  });

  afterAll(() => hub.close());

  it('stores a signed order and answers with its global id only once it is committed', async () => {
    const payload = sample('taobao');
    const reply = await deliver(base, 'taobao-main', payload, { secret: SECRET });
    expect(reply.status).toBe(200);
    const orderId = reply.body.orderId as string;
    const response = await hub.gql<{ order: any }>(
      `query($id: ID!) { order(id: $id) { externalId status customerName placedAt paidAt total { amount currencyCode }
        shippingAddress { name province city district line1 postalCode country }
        lines { productCode quantity unitPrice { amount } lineTotal { amount } product { productCode } }
        timeline { type toStatus source } raw } }`,
      { id: orderId },
    );
    expect(response.data!.order).toMatchObject({
      externalId: '3487216655190412345',
      status: 'PAID',
      customerName: 't**小王',
      placedAt: '2026-11-11T12:15:32.000Z',
      paidAt: '2026-11-11T12:16:01.000Z',
      total: { amount: '259.80', currencyCode: 'CNY' },
      shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区', country: 'CN' },
      lines: [
        {
          productCode: 'MILK-1L',
          quantity: 2,
          unitPrice: { amount: '129.90' },
          lineTotal: { amount: '259.80' },
          product: { productCode: 'MILK-1L' },
        },
      ],
      timeline: [{ type: 'CREATED', toStatus: 'PAID', source: 'taobao-main' }],
    });
    expect(response.data!.order.raw.tid_str).toBe('3487216655190412345');
    // A paid order takes its units from the pool, with a movement that says why.
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 8, reserved: 0 });
    const moves = await sql('select delta, reason, order_id from stock_movement where order_id = ?', [
      orderId,
    ]);
    expect(moves).toEqual([{ delta: -2, reason: 'sale', order_id: orderId }]);
  });

  it('makes exactly one order, one timeline entry and one stock effect from 50 concurrent deliveries', async () => {
    const payload = taobaoOrder('WAIT_SELLER_SEND_GOODS', 3);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => deliver(base, 'taobao-main', payload, { secret: SECRET })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(replies.map((r) => r.body.orderId)).size).toBe(1);
    const orderId = replies[0].body.orderId;
    expect(
      await sql('select count(*)::int as n from "order" where external_id = ?', [payload.tid_str]),
    ).toEqual([{ n: 1 }]);
    expect(await sql('select count(*)::int as n from order_event where order_id = ?', [orderId])).toEqual([
      { n: 1 },
    ]);
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 7, reserved: 0 });
    // The same bytes are logged once (test/security/deliveries.test.ts).
    expect(await sql('select count(*)::int as n from ingest_log where order_id = ?', [orderId])).toEqual([
      { n: 1 },
    ]);
  });

  it('holds stock for an unpaid order, commits it on payment, and never moves back', async () => {
    const pending = taobaoOrder('WAIT_BUYER_PAY', 2);
    const first = await deliver(base, 'taobao-main', pending, { secret: SECRET });
    expect(first.status).toBe(200);
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 10, reserved: 2 });
    const [hold] = await sql('select status, quantity from reservation where order_id = ?', [
      first.body.orderId,
    ]);
    expect(hold).toEqual({ status: 'HELD', quantity: 2 });

    const paid = { ...pending, status: 'WAIT_SELLER_SEND_GOODS' };
    expect((await deliver(base, 'taobao-main', paid, { secret: SECRET })).status).toBe(200);
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 8, reserved: 0 });

    // A late copy of the older payload changes nothing.
    expect((await deliver(base, 'taobao-main', pending, { secret: SECRET })).status).toBe(200);
    const timeline = await sql<{ type: string; from_status: string | null; to_status: string }>(
      'select type, from_status, to_status from order_event where order_id = ? order by id',
      [first.body.orderId],
    );
    expect(timeline).toEqual([
      { type: 'CREATED', from_status: null, to_status: 'PENDING_PAYMENT' },
      { type: 'STATUS_CHANGED', from_status: 'PENDING_PAYMENT', to_status: 'PAID' },
    ]);
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 8, reserved: 0 });
  });

  it('releases the hold when the platform cancels an unpaid order', async () => {
    const pending = taobaoOrder('WAIT_BUYER_PAY', 4);
    const reply = await deliver(base, 'taobao-main', pending, { secret: SECRET });
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 10, reserved: 4 });
    await deliver(base, 'taobao-main', { ...pending, status: 'TRADE_CLOSED_BY_TAOBAO' }, { secret: SECRET });
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 10, reserved: 0 });
    const [order] = await sql('select status from "order" where id = ?', [reply.body.orderId]);
    expect(order.status).toBe('CANCELLED');
  });

  it('keeps a marketplace sale that outruns the stock, and raises OUT_OF_STOCK naming the order', async () => {
    const big = taobaoOrder('WAIT_SELLER_SEND_GOODS', 12);
    const reply = await deliver(base, 'taobao-main', big, { secret: SECRET });
    expect(reply.status).toBe(200);
    const alerts = await sql('select kind, product_code, order_id, message from stock_alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'OUT_OF_STOCK',
      product_code: 'MILK-1L',
      order_id: reply.body.orderId,
    });
    expect(alerts[0].message).toContain(big.tid_str);
    expect(await stockOf('MILK-1L')).toEqual({ on_hand: 10, reserved: 0 });
  });

  it('stores a line whose code nobody knows with no product, and raises an alert', async () => {
    const reply = await deliver(base, 'taobao-main', taobaoOrder('WAIT_SELLER_SEND_GOODS', 1, 'NEVER-SEEN'), {
      secret: SECRET,
    });
    expect(reply.status).toBe(200);
    const [line] = await sql('select product_code, product_id from order_line where order_id = ?', [
      reply.body.orderId,
    ]);
    expect(line).toEqual({ product_code: 'NEVER-SEEN', product_id: null });
    const [alert] = await sql('select kind, product_code from stock_alert where order_id = ?', [
      reply.body.orderId,
    ]);
    expect(alert).toEqual({ kind: 'UNKNOWN_PRODUCT', product_code: 'NEVER-SEEN' });
  });

  it('checks Shopify signatures in Shopify’s own header', async () => {
    const payload = sample('shopify');
    expect((await deliver(base, 'shopify-eu', payload, { secret: SHOPIFY_SECRET })).status).toBe(401);
    const ok = await deliver(base, 'shopify-eu', payload, { secret: SHOPIFY_SECRET, shopify: true });
    expect(ok.status).toBe(200);
  });

  it('refuses unsigned, wrongly signed and unknown-channel deliveries, storing nothing', async () => {
    const [{ n: before }] = await sql<{ n: number }>('select count(*)::int as n from ingest_log');
    const payload = taobaoOrder('WAIT_SELLER_SEND_GOODS');
    expect((await deliver(base, 'taobao-main', payload)).status).toBe(401);
    expect((await deliver(base, 'taobao-main', payload, { secret: 'wrong' })).status).toBe(401);
    expect((await deliver(base, 'jd-nosecret', sample('jd'), { secret: 'anything' })).status).toBe(401);
    expect((await deliver(base, 'no-such-channel', payload, { secret: SECRET })).status).toBe(404);
    const [{ n: after }] = await sql<{ n: number }>('select count(*)::int as n from ingest_log');
    expect(after).toBe(before);
  });

  it('answers malformed and unmappable bodies with 400 and the reason, keeping the body for replay', async () => {
    const broken = '{"tid_str": "1", "receiver_name": 张三 }';
    const bad = await deliver(base, 'taobao-main', broken, { secret: SECRET });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not valid JSON/);
    // The parser's own message quotes the body around the mistake: a customer's name, here.
    expect(bad.body.error).not.toContain('张三');
    const payload = taobaoOrder('WAIT_SELLER_SEND_GOODS');
    delete payload.tid_str;
    const unmappable = await deliver(base, 'taobao-main', payload, { secret: SECRET });
    expect(unmappable.status).toBe(400);
    expect(unmappable.body.error).toMatch(/tid/);
    const failed = await sql(
      'select raw_body, outcome, error from ingest_log where outcome = ? order by id',
      ['FAILED'],
    );
    expect(failed.map((f) => f.raw_body)).toContain(broken);
    expect(failed.every((f) => f.error)).toBe(true);
  });

  it('answers hostile input with a clear 4xx and stays healthy', async () => {
    const huge = JSON.stringify({ padding: 'x'.repeat(10 * 1024 * 1024) });
    expect((await deliver(base, 'taobao-main', huge, { secret: SECRET })).status).toBe(413);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect((await deliver(base, 'taobao-main', deep, { secret: SECRET })).status).toBe(400);
    const wrongTypes = {
      tid_str: 5,
      status: [],
      buyer_nick: {},
      created: true,
      orders: 'none',
      payment: null,
    };
    expect((await deliver(base, 'taobao-main', wrongTypes, { secret: SECRET })).status).toBe(400);
    const sneaky = taobaoOrder('WAIT_SELLER_SEND_GOODS', 1);
    sneaky.buyer_nick = `Robert'); drop table "order"; --<script>alert(1)</script>`;
    const stored = await deliver(base, 'taobao-main', sneaky, { secret: SECRET });
    expect(stored.status).toBe(200);
    const [row] = await sql('select customer_name from "order" where id = ?', [stored.body.orderId]);
    expect(row.customer_name).toBe(sneaky.buyer_nick);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('replays stored payloads that were never finished', async () => {
    const payload = taobaoOrder('WAIT_SELLER_SEND_GOODS', 1);
    await sql(
      `insert into ingest_log (channel_code, source, raw_body) values ('taobao-main', 'WEBHOOK', ?)`,
      [JSON.stringify(payload)],
    );
    const response = await hub.gql<{ replayIngestLog: any }>(
      `mutation { replayIngestLog(failedOnly: false, channelCode: "taobao-main") { replayed succeeded failed } }`,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.replayIngestLog.succeeded).toBeGreaterThanOrEqual(1);
    expect(
      await sql('select count(*)::int as n from "order" where external_id = ?', [payload.tid_str]),
    ).toEqual([{ n: 1 }]);
  });
});
