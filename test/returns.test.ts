import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform, SalesGroupBy } from '../common/enums.js';
import { readSalesReport } from '../services/reports.js';
import {
  refundSampleText,
  RETURN_FIELDS,
  sqlOf,
  storefrontOrder,
  storefrontRefund,
  webhookDoor,
} from './support/after-sale.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { sample } from './support/webhooks.js';

const SECRET = 'returns-webhook-secret-0123456789ab';

describe('returns: each platform’s refund sample after its order sample', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('returns-samples');
    for (const code of ['MILK-1L', 'TEA-250G', 'SNACK-MIX', 'ICECREAM-BOX'])
      await seedProduct(hub.orm, code, 10);
  });
  afterAll(() => hub?.close());

  // What each sample says, in the hub's terms (docs/after-sale.md): money in yuan (Douyin's fen divided), the
  // line found by the platform's line id, SKU id or code.
  const cases = [
    {
      platform: 'taobao',
      kind: 'RETURN_AND_REFUND',
      status: 'RETURN_IN_TRANSIT',
      amount: '129.90',
      currency: 'CNY',
      reason: 'BUYER_REMORSE',
      line: 'MILK-1L',
      quantity: 1,
    },
    {
      platform: 'jd',
      kind: 'RETURN_AND_REFUND',
      status: 'APPROVED',
      amount: '99.00',
      currency: 'CNY',
      reason: 'DAMAGED_IN_TRANSIT',
      line: 'TEA-250G',
      quantity: 1,
    },
    {
      platform: 'pinduoduo',
      kind: 'RETURN_AND_REFUND',
      status: 'RETURN_IN_TRANSIT',
      amount: '15.30',
      currency: 'CNY',
      reason: 'WRONG_OR_MISSING',
      line: 'SNACK-MIX',
      quantity: 1,
    },
    {
      platform: 'douyin',
      kind: 'RETURN_AND_REFUND',
      status: 'RETURN_IN_TRANSIT',
      amount: '64.95',
      currency: 'CNY',
      reason: 'QUALITY',
      line: '1739000000001',
      quantity: 1,
    },
    {
      platform: 'kuaishou',
      kind: 'REFUND_ONLY',
      status: 'REQUESTED',
      amount: '129.00',
      currency: 'CNY',
      reason: 'QUALITY',
      line: 'TEA-250G',
      quantity: null,
    },
    {
      platform: 'youzan',
      kind: 'REFUND_ONLY',
      status: 'REFUNDED',
      amount: '88.00',
      currency: 'CNY',
      reason: 'WRONG_OR_MISSING',
      line: 'ICECREAM-BOX',
      quantity: 1,
    },
    {
      platform: 'shopify',
      kind: 'RETURN_AND_REFUND',
      status: 'REFUNDED',
      amount: '199.00',
      currency: 'USD',
      reason: 'BUYER_REMORSE',
      line: 'MILK-1L',
      quantity: 1,
    },
  ] as const;

  for (const c of cases) {
    it(`${c.platform}: the case's kind, status, money, reason class and matched line`, async () => {
      const channel = `${c.platform}-returns`;
      await seedChannel(hub.orm, channel, c.platform.toUpperCase() as Platform, { webhookSecret: SECRET });
      const send = webhookDoor(hub, channel, SECRET);
      const shopify = c.platform === 'shopify';
      const order = await send(sample(c.platform), {
        shopify,
        headers: shopify ? { 'x-shopify-topic': 'orders/create' } : {},
      });
      expect(order.status).toBe(200);
      const reply = await send(refundSampleText(c.platform), {
        shopify,
        headers: shopify ? { 'x-shopify-topic': 'refunds/create' } : {},
      });
      expect(reply.status).toBe(200);
      expect(reply.body.orderId).toBeUndefined();
      const { data } = await hub.gql<{ return: any }>(
        `query($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`,
        {
          id: reply.body.returnId,
        },
      );
      expect(data!.return).toMatchObject({
        kind: c.kind,
        status: c.status,
        refundAmount: { amount: c.amount, currencyCode: c.currency },
        reasonClass: c.reason,
        order: { id: order.body.orderId },
        lines: [{ quantity: c.quantity, orderLine: { productCode: c.line } }],
        timeline: [{ fromStatus: null, toStatus: c.status, source: channel }],
      });
    });
  }

  it('keeps the status of a case for a platform step outside the common set, and records the step', async () => {
    await seedChannel(hub.orm, 'kuaishou-exchange', Platform.KUAISHOU, { webhookSecret: SECRET });
    const send = webhookDoor(hub, 'kuaishou-exchange', SECRET);
    await send(sample('kuaishou'));
    const requested = JSON.parse(refundSampleText('kuaishou'));
    const first = await send(requested);
    // 45: an exchange under way (docs/after-sale.md), an hour later.
    await send({ ...requested, status: 45, updateTime: requested.updateTime + 3_600_000 });
    const { data } = await hub.gql<{ return: any }>(
      `query($id: ID!) { return(id: $id) { status platformStatus timeline { fromStatus toStatus platformStatus } } }`,
      { id: first.body.returnId },
    );
    expect(data!.return).toEqual({
      status: 'REQUESTED',
      platformStatus: '45',
      timeline: [
        { fromStatus: null, toStatus: 'REQUESTED', platformStatus: '10' },
        { fromStatus: 'REQUESTED', toStatus: 'REQUESTED', platformStatus: '45' },
      ],
    });
  });
});

describe('returns: effects on stock and orders', () => {
  let hub: TestHub;
  let sql: ReturnType<typeof sqlOf>;
  let send: ReturnType<typeof webhookDoor>;
  let seq = 0;
  const next = (prefix: string) => `${prefix}-${++seq}`;

  async function stockOf(code: string) {
    const [row] = await sql<{ on_hand: number; reserved: number; quarantined: number }>(
      'select on_hand, reserved, quarantined from inventory_item where product_code = ?',
      [code],
    );
    return row;
  }

  async function returnOf(id: string) {
    const { data, errors } = await hub.gql<{ return: any }>(
      `query($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`,
      { id },
    );
    expect(errors).toBeUndefined();
    return data!.return;
  }

  async function orderOf(id: string) {
    const { data } = await hub.gql<{ order: any }>(
      `query($id: ID!) { order(id: $id) { status refundedAmount { amount currencyCode }
         lines { productCode quantity refundedQuantity } timeline { type fromStatus toStatus source }
         returns { refundId status } } }`,
      { id },
    );
    return data!.order;
  }

  const returnMovements = (orderId: string) =>
    sql<{ delta: number; reason: string }>(
      `select delta, reason from stock_movement where order_id = ? and reason <> 'sale' order by id`,
      [orderId],
    );

  beforeAll(async () => {
    hub = await startTestHub('returns-effects');
    sql = sqlOf(hub);
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT, { webhookSecret: SECRET });
    await seedChannel(hub.orm, 'other-shop', Platform.STOREFRONT, { webhookSecret: SECRET });
    send = webhookDoor(hub, 'shop', SECRET);
  });
  afterAll(() => hub?.close());

  beforeEach(async () => {
    await sql('delete from stock_alert');
    await sql('delete from product');
    await seedProduct(hub.orm, 'MILK-1L', 10);
    await seedProduct(hub.orm, 'TEA-250G', 10);
  });

  it('puts a received return back on hand once, however often it is received, re-delivered or refunded after', async () => {
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
    );
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 8 });
    const refundId = next('R');
    const received = storefrontRefund(refundId, externalId, {
      status: 'RETURN_RECEIVED',
      lines: [{ productCode: 'MILK-1L', quantity: 1 }],
      amount: '50.00',
      minute: 1,
    });
    const first = await send(received);
    expect(first.status).toBe(200);
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9, quarantined: 0 });

    // The same record again, and again with other bytes (a platform's retry need not be byte for byte).
    expect((await send(received)).body.returnId).toBe(first.body.returnId);
    expect((await send(JSON.stringify(received, null, 2))).body.returnId).toBe(first.body.returnId);
    // Refunded after: the goods were already back.
    await send({ ...received, status: 'REFUNDED', updatedAt: '2026-11-21T10:02:00+08:00' });

    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9 });
    expect(await returnMovements(order.body.orderId)).toEqual([{ delta: 1, reason: 'returned by customer' }]);
    // The unit is no longer the order's: cancelling the order later would put back only the other one.
    expect(
      await sql(`select status, quantity from reservation where order_id = ?`, [order.body.orderId]),
    ).toEqual([{ status: 'COMMITTED', quantity: 1 }]);
    const found = await returnOf(first.body.returnId);
    expect(found).toMatchObject({
      status: 'REFUNDED',
      lines: [{ quantity: 1, restocked: 1, quarantined: 0 }],
      timeline: [
        { fromStatus: null, toStatus: 'RETURN_RECEIVED' },
        { fromStatus: 'RETURN_RECEIVED', toStatus: 'REFUNDED' },
      ],
    });
    // A partial refund: the order keeps its status, with the money and the unit refunded.
    expect(await orderOf(order.body.orderId)).toMatchObject({
      status: 'PAID',
      refundedAmount: { amount: '50.00', currencyCode: 'CNY' },
      lines: [{ productCode: 'MILK-1L', quantity: 2, refundedQuantity: 1 }],
      returns: [{ refundId, status: 'REFUNDED' }],
    });
    // Cancelled after all, the order puts back the unit it still holds, not the returned one a second time.
    const cancelled = await hub.gql(
      `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "buyer gone") { status } }`,
      {
        id: order.body.orderId,
      },
    );
    expect(cancelled.errors).toBeUndefined();
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10, reserved: 0 });
  });

  it('holds the returns of an inspected product in quarantine until accepted, and refuses to accept more', async () => {
    const set = await hub.gql<{ setInspectReturns: any }>(
      `mutation { setInspectReturns(productCode: "TEA-250G", inspect: true) { productCode inspectReturns quarantined } }`,
    );
    expect(set.data!.setInspectReturns).toEqual({
      productCode: 'TEA-250G',
      inspectReturns: true,
      quarantined: 0,
    });
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'TEA-250G', quantity: 3, unitPrice: '20.00' }]),
    );
    const reply = await send(
      storefrontRefund(next('R'), externalId, {
        status: 'RETURN_RECEIVED',
        lines: [{ productCode: 'TEA-250G', quantity: 2 }],
        amount: '40.00',
      }),
    );
    expect(await stockOf('TEA-250G')).toEqual({ on_hand: 7, reserved: 0, quarantined: 2 });
    expect(await returnMovements(order.body.orderId)).toEqual([]);

    const accept = (quantity: number) =>
      hub.gql<{ acceptReturnedStock: any }>(
        `mutation($id: ID!, $q: Int!) { acceptReturnedStock(returnId: $id, quantity: $q) {
           lines { restocked quarantined } } }`,
        { id: reply.body.returnId, q: quantity },
      );
    const tooMany = await accept(3);
    expect(tooMany.errors![0].extensions!.code).toBe('NOT_ENOUGH_QUARANTINED');
    expect(await stockOf('TEA-250G')).toMatchObject({ on_hand: 7, quarantined: 2 });

    expect((await accept(2)).data!.acceptReturnedStock.lines).toEqual([{ restocked: 2, quarantined: 0 }]);
    expect(await stockOf('TEA-250G')).toMatchObject({ on_hand: 9, quarantined: 0 });
    expect(await returnMovements(order.body.orderId)).toEqual([
      { delta: 2, reason: 'returned stock accepted after inspection' },
    ]);
    expect((await accept(1)).errors![0].extensions!.code).toBe('NOT_ENOUGH_QUARANTINED');
  });

  it('gives back the units of a refund without goods before shipment, as a cancellation does, and refunds the order in full', async () => {
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
    );
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 8 });
    await send(
      storefrontRefund(next('R'), externalId, {
        kind: 'REFUND_ONLY',
        status: 'REFUNDED',
        lines: [{ productCode: 'MILK-1L', quantity: 2 }],
        amount: '100.00',
      }),
    );
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10, reserved: 0 });
    expect(await returnMovements(order.body.orderId)).toEqual([
      { delta: 2, reason: 'refunded before shipping' },
    ]);
    const [reservation] = await sql(`select status from reservation where order_id = ?`, [
      order.body.orderId,
    ]);
    expect(reservation.status).toBe('RELEASED');
    const found = await orderOf(order.body.orderId);
    expect(found).toMatchObject({ status: 'REFUNDED', refundedAmount: { amount: '100.00' } });
    expect(found.timeline.slice(-2)).toEqual([
      { type: 'RETURN_UPDATED', fromStatus: null, toStatus: null, source: 'shop' },
      { type: 'STATUS_CHANGED', fromStatus: 'PAID', toStatus: 'REFUNDED', source: 'shop' },
    ]);
  });

  it('gives back only the refunded units of a partial refund before shipment', async () => {
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 3, unitPrice: '50.00' }]),
    );
    await send(
      storefrontRefund(next('R'), externalId, {
        kind: 'REFUND_ONLY',
        status: 'REFUNDED',
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        amount: '50.00',
      }),
    );
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 8 });
    const reservations = await sql(`select status, quantity from reservation where order_id = ?`, [
      order.body.orderId,
    ]);
    expect(reservations).toEqual([{ status: 'COMMITTED', quantity: 2 }]);
    expect(await orderOf(order.body.orderId)).toMatchObject({
      status: 'PAID',
      refundedAmount: { amount: '50.00' },
      lines: [{ refundedQuantity: 1 }],
    });
  });

  it('moves no stock for a refund without goods after shipment', async () => {
    const externalId = next('SF');
    const lines = [{ productCode: 'MILK-1L', quantity: 1, unitPrice: '50.00' }];
    const order = await send(storefrontOrder(externalId, lines));
    await send(storefrontOrder(externalId, lines, 'SHIPPED'));
    await send(
      storefrontRefund(next('R'), externalId, {
        kind: 'REFUND_ONLY',
        status: 'REFUNDED',
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        amount: '50.00',
      }),
    );
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9 });
    expect(await returnMovements(order.body.orderId)).toEqual([]);
    expect((await orderOf(order.body.orderId)).status).toBe('REFUNDED');
  });

  it('never moves a case backward, nor for an older record', async () => {
    const externalId = next('SF');
    await send(storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 1, unitPrice: '50.00' }]));
    const refundId = next('R');
    const at = (status: string, minute: number) =>
      storefrontRefund(refundId, externalId, {
        status,
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        amount: '50.00',
        minute,
      });
    const first = await send(at('RETURN_IN_TRANSIT', 5));
    await send(at('REQUESTED', 6)); // newer, but backward
    await send(at('RETURN_RECEIVED', 4)); // forward, but older than what is stored
    const found = await returnOf(first.body.returnId);
    expect(found.status).toBe('RETURN_IN_TRANSIT');
    expect(found.timeline).toHaveLength(1);
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9 });
  });

  it('keeps a refund for an order not yet seen, and applies it when the order comes', async () => {
    const externalId = next('SF');
    const refund = await send(
      storefrontRefund(next('R'), externalId, {
        kind: 'REFUND_ONLY',
        status: 'REFUNDED',
        lines: [{ productCode: 'MILK-1L', quantity: 2 }],
        amount: '100.00',
      }),
    );
    expect(refund.status).toBe(200);
    expect(await returnOf(refund.body.returnId)).toMatchObject({ order: null, lines: [{ orderLine: null }] });

    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
    );
    const found = await returnOf(refund.body.returnId);
    expect(found).toMatchObject({
      order: { id: order.body.orderId, status: 'REFUNDED', refundedAmount: { amount: '100.00' } },
      lines: [{ restocked: 2, orderLine: { productCode: 'MILK-1L', refundedQuantity: 2 } }],
    });
    expect(found.timeline.at(-1)).toMatchObject({
      fromStatus: 'REFUNDED',
      toStatus: 'REFUNDED',
      source: 'system',
    });
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10, reserved: 0 });
    const timeline = (await orderOf(order.body.orderId)).timeline.map((e: any) => e.type);
    expect(timeline).toEqual(['CREATED', 'RETURN_UPDATED', 'STATUS_CHANGED']);
  });

  it('gives one case and one set of movements for ten deliveries of one record at once', async () => {
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
    );
    const record = storefrontRefund(next('R'), externalId, {
      status: 'RETURN_RECEIVED',
      lines: [{ productCode: 'MILK-1L', quantity: 2 }],
      amount: '100.00',
    });
    // Half the same bytes, half each with bytes of its own: both the ingest log and the case must hold.
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        send(i % 2 ? JSON.stringify(record) : JSON.stringify(record, null, i)),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(replies.map((r) => r.body.returnId)).size).toBe(1);
    expect(
      await sql(`select count(*)::int as n from order_return where external_id = ?`, [externalId]),
    ).toEqual([{ n: 1 }]);
    expect(await returnMovements(order.body.orderId)).toEqual([{ delta: 2, reason: 'returned by customer' }]);
    expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10 });
    const events = await sql(
      `select count(*)::int as n from order_event where order_id = ? and type = 'RETURN_UPDATED'`,
      [order.body.orderId],
    );
    expect(events).toEqual([{ n: 1 }]);
  });

  it('finishes on replay a refund body the hub logged but never stored (a crash), with its effects', async () => {
    const externalId = next('SF');
    const order = await send(
      storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 1, unitPrice: '50.00' }]),
    );
    const body = JSON.stringify(
      storefrontRefund(next('R'), externalId, {
        status: 'RETURN_RECEIVED',
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        amount: '50.00',
      }),
    );
    // What a hub killed between logging the body and storing its case leaves behind.
    await sql(`insert into ingest_log (channel_code, source, raw_body) values ('shop', 'WEBHOOK', ?)`, [
      body,
    ]);
    const replay = await hub.gql<{ replayIngestLog: any }>(
      `mutation { replayIngestLog(failedOnly: false, channelCode: "shop") { replayed succeeded failed } }`,
    );
    expect(replay.data!.replayIngestLog).toEqual({ replayed: 1, succeeded: 1, failed: 0 });
    const [logged] = await sql(`select outcome, return_id from ingest_log where raw_body = ?`, [body]);
    expect(logged.outcome).toBe('CREATED');
    expect(await returnOf(logged.return_id)).toMatchObject({
      status: 'RETURN_RECEIVED',
      order: { id: order.body.orderId },
      lines: [{ restocked: 1 }],
    });
    expect(await returnMovements(order.body.orderId)).toEqual([{ delta: 1, reason: 'returned by customer' }]);
    // The platform's retry of that body is now answered with the case, and moves nothing.
    expect((await send(body)).body.returnId).toBe(logged.return_id);
    expect(await returnMovements(order.body.orderId)).toHaveLength(1);
  });

  it('stores a refund sent through ingestChannelRefund, pages returns, and keeps a channel key to its channel', async () => {
    const externalId = next('SF');
    await send(storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 1, unitPrice: '50.00' }]));
    const payload = storefrontRefund(next('R'), externalId, {
      status: 'REQUESTED',
      lines: [{ productCode: 'MILK-1L', quantity: 1 }],
      amount: '50.00',
    });
    const ingest = await hub.gql<{ ingestChannelRefund: any }>(
      `mutation($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id status channel { code } } }`,
      { p: payload },
    );
    expect(ingest.data!.ingestChannelRefund).toMatchObject({
      status: 'REQUESTED',
      channel: { code: 'shop' },
    });

    const page = (first: number, after: string | null, key?: string) =>
      hub.gql<{ returns: any }>(
        `query($first: Int, $after: String) { returns(channelCode: "shop", first: $first, after: $after) {
           edges { node { id refundId } } pageInfo { hasNextPage endCursor } } }`,
        { first, after },
        key,
      );
    const all = (await page(100, null)).data!.returns.edges.map((e: any) => e.node.id);
    const firstPage = (await page(2, null)).data!.returns;
    const secondPage = (await page(100, firstPage.pageInfo.endCursor)).data!.returns;
    expect(firstPage.pageInfo.hasNextPage).toBe(true);
    expect([...firstPage.edges, ...secondPage.edges].map((e: any) => e.node.id)).toEqual(all);

    const otherKey = await hub.apiKey('STOREFRONT', 'other-shop');
    expect((await page(10, null, otherKey)).errors![0].extensions!.code).toBe('FORBIDDEN');
    const one = await hub.gql(
      `query($id: ID!) { return(id: $id) { id } }`,
      { id: ingest.data!.ingestChannelRefund.id },
      otherKey,
    );
    expect(one.errors![0].extensions!.code).toBe('FORBIDDEN');
    const ownKey = await hub.apiKey('STOREFRONT', 'shop');
    expect((await page(100, null, ownKey)).data!.returns.edges).toHaveLength(all.length);
    const analyst = await hub.apiKey('ANALYST');
    const act = await hub.gql(
      `mutation($id: ID!) { acceptReturnedStock(returnId: $id, quantity: 1) { id } }`,
      { id: ingest.data!.ingestChannelRefund.id },
      analyst,
    );
    expect(act.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
  it("keeps salesReport's refund sums equal to the cases through every flow of this file, and an amount corrected", async () => {
    const externalId = next('SF');
    await send(storefrontOrder(externalId, [{ productCode: 'TEA-250G', quantity: 2, unitPrice: '30.00' }]));
    const refundId = next('R');
    const refund = (amount: string, minute: number) =>
      storefrontRefund(refundId, externalId, {
        kind: 'REFUND_ONLY',
        status: 'REFUNDED',
        lines: [{ productCode: 'TEA-250G', quantity: 1 }],
        amount,
        minute,
      });
    const first = await send(refund('30.00', 5));
    await send(refund('25.00', 6));
    const [counted] = await sql<{ amount: string }>(
      'select sum(amount)::text as amount from refund_share where return_id = ?',
      [first.body.returnId],
    );
    expect(counted.amount).toBe('25.00');

    const run = <T extends object>(text: string, params: unknown[]) =>
      hub.orm.em.fork().execute<T[]>(text, params);
    let refunded = 0;
    for (const [from, to] of [
      ['2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'],
      ['2026-11-21T02:03:00Z', '2026-11-21T02:59:30Z'],
    ]) {
      for (const groupBy of Object.values(SalesGroupBy)) {
        for (const timeZone of ['Asia/Shanghai', 'UTC']) {
          const input = { from: new Date(from), to: new Date(to), groupBy, timeZone };
          const exact = await readSalesReport(run, input, { exact: true });
          expect(await readSalesReport(run, input), `${groupBy} ${timeZone} ${from}`).toEqual(exact);
          refunded += exact.filter((r) => r.refunds.amount !== '0.00').length;
        }
      }
    }
    expect(refunded).toBeGreaterThan(10);
  });
});
