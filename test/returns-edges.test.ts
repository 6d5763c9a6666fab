import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import {
  refundSampleText,
  RETURN_FIELDS,
  sqlOf,
  storefrontOrder,
  storefrontRefund,
  webhookDoor,
} from './support/after-sale.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

const SECRET = 'returns-edges-secret-0123456789abcd';
const SHOPIFY_SECRET = 'returns-edges-shopify-0123456789abcd';

describe('returns: edge cases', () => {
  let hub: TestHub;
  let sql: ReturnType<typeof sqlOf>;
  let send: ReturnType<typeof webhookDoor>;
  let seq = 0;
  const next = (prefix: string) => `${prefix}-${++seq}`;

  const stockOf = async (code: string) =>
    (
      await sql<{ on_hand: number; reserved: number }>(
        'select on_hand, reserved from inventory_item where product_code = ?',
        [code],
      )
    )[0];
  const caseOf = async (refundId: string) =>
    (await sql(`select id, order_id, status from order_return where refund_id = ?`, [refundId]))[0] ?? null;
  const logOf = async (body: string) =>
    (await sql(`select outcome, error, return_id from ingest_log where raw_body = ?`, [body]))[0];
  const orderOf = async (id: string) =>
    (
      await hub.gql<{ order: any }>(
        `query($id: ID!) { order(id: $id) { status refundedAmount { amount currencyCode } returns { refundId } } }`,
        { id },
      )
    ).data!.order;

  /** A storefront refund record in `currencyCode`. */
  function refundIn(
    currencyCode: string,
    refundId: string,
    externalId: string,
    status = 'REFUNDED',
    minute = 0,
  ) {
    return {
      ...storefrontRefund(refundId, externalId, {
        kind: 'REFUND_ONLY',
        status,
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        amount: '50.00',
        minute,
      }),
      currencyCode,
    };
  }

  beforeAll(async () => {
    hub = await startTestHub('returns-edges');
    sql = sqlOf(hub);
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT, { webhookSecret: SECRET });
    send = webhookDoor(hub, 'shop', SECRET);
    await seedChannel(hub.orm, 'shopify-shop', Platform.SHOPIFY, { webhookSecret: SHOPIFY_SECRET });
  });
  afterAll(() => hub?.close());

  beforeEach(async () => {
    await sql('delete from stock_alert');
    await sql('delete from product');
    await seedProduct(hub.orm, 'MILK-1L', 10);
    await seedProduct(hub.orm, 'TEA-250G', 10);
  });

  describe('a refund in another currency than its order’s', () => {
    it('is refused at the API door with REFUND_CURRENCY_MISMATCH, storing no case and keeping the body as FAILED', async () => {
      const externalId = next('SF');
      const order = await send(
        storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
      );
      const refundId = next('R');
      const payload = refundIn('USD', refundId, externalId);
      const answer = await hub.gql(
        `mutation($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id } }`,
        { p: payload },
      );
      expect(errorCodes(answer)).toEqual(['REFUND_CURRENCY_MISMATCH']);
      expect(answer.errors![0].extensions).toMatchObject({ refundCurrency: 'USD', orderCurrency: 'CNY' });
      expect(await caseOf(refundId)).toBeNull();
      expect(await logOf(JSON.stringify(payload))).toMatchObject({
        outcome: 'FAILED',
        error: expect.stringContaining('is in USD but its order is in CNY'),
      });
      expect(await orderOf(order.body.orderId)).toMatchObject({
        status: 'PAID',
        refundedAmount: { amount: '0.00' },
        returns: [],
      });
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 8 });
    });

    it('is answered 400 at the webhook door like a record the mapper refuses, and kept in the ingest log as FAILED', async () => {
      const externalId = next('SF');
      const order = await send(
        storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
      );
      const refundId = next('R');
      const body = JSON.stringify(refundIn('EUR', refundId, externalId));
      const answer = await send(body);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toContain('is in EUR but its order is in CNY');
      expect(await caseOf(refundId)).toBeNull();
      expect(await logOf(body)).toMatchObject({ outcome: 'FAILED', return_id: null });
      expect(await orderOf(order.body.orderId)).toMatchObject({ refundedAmount: { amount: '0.00' } });

      // The same refund in the order's currency is taken.
      expect((await send(refundIn('CNY', refundId, externalId))).status).toBe(200);
      expect(await orderOf(order.body.orderId)).toMatchObject({
        refundedAmount: { amount: '50.00', currencyCode: 'CNY' },
      });
    });

    it('waits unapplied when its order arrives later, says why, and its later records are refused', async () => {
      const externalId = next('SF');
      const refundId = next('R');
      const waiting = await send(refundIn('USD', refundId, externalId, 'REQUESTED'));
      expect(waiting.status).toBe(200);

      const order = await send(
        storefrontOrder(externalId, [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' }]),
      );
      expect(order.status).toBe(200);
      expect(await caseOf(refundId)).toMatchObject({ order_id: null, status: 'REQUESTED' });
      const [why] = await sql(
        `select source, detail from order_return_event where return_id = ? order by id desc limit 1`,
        [waiting.body.returnId],
      );
      expect(why).toEqual({
        source: 'system',
        detail: {
          notAttachedTo: order.body.orderId,
          code: 'REFUND_CURRENCY_MISMATCH',
          reason: expect.stringContaining('is in USD but its order is in CNY'),
        },
      });

      const refunded = await send(refundIn('USD', refundId, externalId, 'REFUNDED', 5));
      expect(refunded.status).toBe(400);
      expect(await caseOf(refundId)).toMatchObject({ order_id: null, status: 'REQUESTED' });
      expect(await orderOf(order.body.orderId)).toMatchObject({
        status: 'PAID',
        refundedAmount: { amount: '0.00' },
        returns: [],
      });
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 8 });
    });
  });

  describe('a refund without goods on a split order with one parcel shipped', () => {
    it('gives back only the units of the parcel still on the shelf; the shipped ones come back only on a return', async () => {
      await sql(`update product set cold_chain = true where product_code = 'MILK-1L'`);
      const externalId = next('SF');
      const placed = await send({
        ...storefrontOrder(externalId, [
          { productCode: 'MILK-1L', quantity: 2, unitPrice: '50.00' },
          { productCode: 'TEA-250G', quantity: 1, unitPrice: '30.00' },
        ]),
        shippingAddress: {
          name: 'Ada',
          line1: '1 Road',
          city: 'Urumqi',
          province: 'Xinjiang',
          country: 'CN',
        },
      });
      const [chilled, ambient] = await sql<{ id: string; external_id: string }>(
        `select id, external_id from "order" where parent_id = ? order by external_id desc`,
        [placed.body.orderId],
      );
      expect([chilled.external_id, ambient.external_id]).toEqual([
        `${externalId}#chilled`,
        `${externalId}#ambient`,
      ]);
      const shipped = await hub.gql(
        `mutation($id: ID!) { shipOrder(orderId: $id, carrier: "SF", trackingNumber: "${next('T')}") { status } }`,
        { id: chilled.id },
      );
      expect(shipped.errors).toBeUndefined();

      // One milk (shipped in the chilled parcel) and the tea (still on the shelf) refunded without goods.
      const refund = await send({
        ...storefrontRefund(next('R'), externalId, {
          kind: 'REFUND_ONLY',
          status: 'REFUNDED',
          lines: [
            { productCode: 'MILK-1L', quantity: 1 },
            { productCode: 'TEA-250G', quantity: 1 },
          ],
          amount: '80.00',
        }),
      });
      expect(refund.status).toBe(200);
      expect(await stockOf('MILK-1L')).toEqual({ on_hand: 8, reserved: 0 });
      expect(await stockOf('TEA-250G')).toEqual({ on_hand: 10, reserved: 0 });
      expect(
        await sql(
          `select product_code, restocked from order_return_line where return_id = ? order by line_no`,
          [refund.body.returnId],
        ),
      ).toEqual([
        { product_code: 'MILK-1L', restocked: 0 },
        { product_code: 'TEA-250G', restocked: 1 },
      ]);

      // The shipped milk comes back as a return, received.
      const back = await send(
        storefrontRefund(next('R'), externalId, {
          status: 'RETURN_RECEIVED',
          lines: [{ productCode: 'MILK-1L', quantity: 1 }],
          amount: '50.00',
        }),
      );
      expect(back.status).toBe(200);
      expect(await stockOf('MILK-1L')).toEqual({ on_hand: 9, reserved: 0 });
    });
  });
  describe('a Shopify return through the returns/* webhooks', () => {
    const shopify = (topic: string, body: string) =>
      webhookDoor(
        hub,
        'shopify-shop',
        SHOPIFY_SECRET,
      )(body, {
        shopify: true,
        headers: { 'x-shopify-topic': topic },
      });
    const returnRecord = refundSampleText('shopify-return');
    /** The sample return at another status, as a later topic sends it (bytes kept: the order id is above 2^53). */
    const at = (status: string, day: number) =>
      returnRecord
        .replace('"status": "requested"', `"status": "${status}"`)
        .replace(/"updated_at": "[^"]+"/, `"updated_at": "2026-11-${day}T10:00:00+08:00"`);
    // The refund sample was processed on 2026-11-16 at 12:36 (+08:00): the return was closed that morning.
    const caseOf = async (id: string) =>
      (await hub.gql<{ return: any }>(`query($id: ID!) { return(id: $id) { ${RETURN_FIELDS} } }`, { id }))
        .data!.return;

    it('moves one case from requested through open and closed to the refund that names it, receiving the goods once', async () => {
      const order = await shopify(
        'orders/create',
        readFileSync(new URL('./fixtures/channels/shopify.json', import.meta.url), 'utf8'),
      );
      expect(order.status).toBe(200);
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9 });

      const requested = await shopify('returns/request', returnRecord);
      expect(requested.status).toBe(200);
      const returnId = requested.body.returnId as string;
      expect(await caseOf(returnId)).toMatchObject({
        refundId: 'gid://shopify/Return/6701112345',
        kind: 'RETURN_AND_REFUND',
        status: 'REQUESTED',
        reasonClass: 'BUYER_REMORSE',
        refundAmount: { amount: '0.00', currencyCode: 'USD' },
        order: { id: order.body.orderId },
        lines: [{ quantity: 1, restocked: 0, orderLine: { productCode: 'MILK-1L' } }],
      });

      expect((await shopify('returns/approve', at('open', 15))).body.returnId).toBe(returnId);
      expect((await caseOf(returnId)).status).toBe('APPROVED');
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 9 });

      expect((await shopify('returns/close', at('closed', 16))).body.returnId).toBe(returnId);
      expect(await caseOf(returnId)).toMatchObject({ status: 'RETURN_RECEIVED', lines: [{ restocked: 1 }] });
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10 });

      // Shopify's refund for the return (restock_type return) ends the same case: the goods are not received twice.
      const refunded = await shopify('refunds/create', refundSampleText('shopify'));
      expect(refunded.body.returnId).toBe(returnId);
      expect(await caseOf(returnId)).toMatchObject({
        status: 'REFUNDED',
        refundAmount: { amount: '199.00', currencyCode: 'USD' },
        order: { status: 'REFUNDED', refundedAmount: { amount: '199.00' } },
        lines: [{ restocked: 1 }],
        timeline: [
          { fromStatus: null, toStatus: 'REQUESTED', platformStatus: 'requested', source: 'shopify-shop' },
          { fromStatus: 'REQUESTED', toStatus: 'APPROVED', platformStatus: 'open', source: 'shopify-shop' },
          {
            fromStatus: 'APPROVED',
            toStatus: 'RETURN_RECEIVED',
            platformStatus: 'closed',
            source: 'shopify-shop',
          },
          {
            fromStatus: 'RETURN_RECEIVED',
            toStatus: 'REFUNDED',
            platformStatus: 'success',
            source: 'shopify-shop',
          },
        ],
      });
      expect(await stockOf('MILK-1L')).toMatchObject({ on_hand: 10 });

      // Reopened after the refund: a final case does not move back.
      expect((await shopify('returns/reopen', at('open', 19))).status).toBe(200);
      expect((await caseOf(returnId)).status).toBe('REFUNDED');
    });

    it('takes a declined or cancelled return to REJECTED or CANCELLED', async () => {
      const other = (id: string, status: string, day: number) => at(status, day).replaceAll('6701112345', id);
      const declined = await shopify('returns/request', other('6701119001', 'requested', 15));
      expect((await shopify('returns/decline', other('6701119001', 'declined', 16))).status).toBe(200);
      expect((await caseOf(declined.body.returnId)).status).toBe('REJECTED');
      const cancelled = await shopify('returns/request', other('6701119002', 'requested', 15));
      expect((await shopify('returns/cancel', other('6701119002', 'canceled', 16))).status).toBe(200);
      expect((await caseOf(cancelled.body.returnId)).status).toBe('CANCELLED');
    });
  });
});
