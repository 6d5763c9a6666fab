import { createHmac, randomUUID } from 'node:crypto';
import iconv from 'iconv-lite';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../../common/enums.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import type { OrderEventMessage } from '../../subscriptions/order-events.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { refundFixture } from '../support/refunds.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { deliver, sample } from '../support/webhooks.js';

const TAOBAO_SECRET = 'taobao-secret-for-replays-0123456789';
const SHOPIFY_SECRET = 'shopify-secret-for-replays-012345678';
const SF_SECRET = 'sf-carrier-secret-for-replays-01234567';

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const MARK_PAID = `mutation($id: ID!) { markPaid(orderId: $id) { id } }`;
const SHIP = `mutation($id: ID!, $tracking: String!) {
  shipOrder(orderId: $id, carrier: "sf", trackingNumber: $tracking) { id }
}`;

let seq = 0;
/** A Taobao order with a fresh tid. */
function taobaoOrder(status = 'WAIT_SELLER_SEND_GOODS') {
  const payload = sample('taobao');
  const tid = `35872166551904${String(++seq).padStart(5, '0')}`;
  payload.tid_str = tid;
  payload.tid = Number(tid);
  payload.status = status;
  return payload;
}

/** A Taobao refund record with a fresh refund_id, for an order the hub has not seen. */
function taobaoRefund() {
  const record = refundFixture('channels/refunds/taobao.json');
  record.refund_get_response.refund.refund_id = `15876543210${String(++seq).padStart(7, '0')}`;
  return record;
}

function shopifyOrder() {
  const payload = sample('shopify');
  payload.id = 820982911946100000 + ++seq;
  payload.name = `#R${seq}`;
  return payload;
}

describe('deliveries cannot be replayed into damage', () => {
  let hub: TestHub;
  let base: string;
  const sql = <T = any>(query: string, params: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(query, params);
  const logRows = async (channelCode: string) =>
    (
      await sql<{ n: number }>('select count(*)::int as n from ingest_log where channel_code = ?', [
        channelCode,
      ])
    )[0].n;

  beforeAll(async () => {
    hub = await startTestHub('security-deliveries', {
      env: { CARRIER_WEBHOOK_SECRETS: `sf=${SF_SECRET}` },
    });
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: TAOBAO_SECRET });
    await seedChannel(hub.orm, 'shopify-eu', Platform.SHOPIFY, { webhookSecret: SHOPIFY_SECRET });
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'MILK-1L', 1000);
  });
  afterAll(() => hub?.close());

  describe('channel webhooks', () => {
    it('answers a Shopify delivery id seen before with its first order, and does no work for it', async () => {
      const payload = shopifyOrder();
      const webhookId = randomUUID();
      const headers = { 'x-shopify-webhook-id': webhookId };
      const first = await deliver(base, 'shopify-eu', payload, {
        secret: SHOPIFY_SECRET,
        shopify: true,
        headers,
      });
      expect(first.status).toBe(200);
      const logged = await logRows('shopify-eu');

      // The same delivery again, even with other bytes (the platform's retry of that delivery): nothing is done.
      const again = { ...payload, financial_status: 'refunded' };
      const replay = await deliver(base, 'shopify-eu', again, {
        secret: SHOPIFY_SECRET,
        shopify: true,
        headers,
      });
      expect(replay).toMatchObject({ status: 200, body: { orderId: first.body.orderId } });
      expect(await logRows('shopify-eu')).toBe(logged);
      const [order] = await sql('select status from "order" where id = ?', [first.body.orderId]);
      expect(order.status).toBe('PAID');
    });

    it('stores identical bytes once in the ingest log and answers them with the same order', async () => {
      const payload = taobaoOrder();
      const first = await deliver(base, 'taobao-main', payload, { secret: TAOBAO_SECRET });
      expect(first.status).toBe(200);
      const logged = await logRows('taobao-main');
      const replays = await Promise.all(
        Array.from({ length: 20 }, () => deliver(base, 'taobao-main', payload, { secret: TAOBAO_SECRET })),
      );
      expect(replays.map((r) => [r.status, r.body.orderId])).toEqual(
        Array(20).fill([200, first.body.orderId]),
      );
      expect(await logRows('taobao-main')).toBe(logged);
      const [row] = await sql('select outcome, order_id from ingest_log where external_id = ?', [
        payload.tid_str,
      ]);
      expect(row).toEqual({ outcome: 'CREATED', order_id: first.body.orderId });
    });
  });

  describe('carrier events', () => {
    let tracking = 0;
    async function shippedOrder() {
      const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
        input: {
          channelCode: 'web',
          externalId: `CARRIER-${++tracking}`,
          customerName: 'Ada',
          shippingAddress: { line1: '1 Road' },
          lines: [{ productCode: 'MILK-1L', quantity: 1, unitPrice: '2.50' }],
        },
      });
      const id = placed.data!.placeOrder.id;
      await hub.gql(MARK_PAID, { id });
      const number = `SFR${String(tracking).padStart(6, '0')}`;
      const shipped = await hub.gql(SHIP, { id, tracking: number });
      expect(shipped.errors).toBeUndefined();
      return { id, number };
    }
    const post = (event: Record<string, unknown>) =>
      fetch(`${base}/webhooks/carriers/sf`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmacHex(SF_SECRET, JSON.stringify(event))}`,
        },
        body: JSON.stringify(event),
      }).then((r) => r.status);
    const shipment = async (number: string) =>
      (
        await sql<{ status: string; events: number }>(
          `select s.status, (select count(*)::int from shipment_event e where e.shipment_id = s.id) as events
           from shipment s where tracking_number = ?`,
          [number],
        )
      )[0];

    it('never moves a shipment back from a later stage: DELIVERED stays DELIVERED', async () => {
      const { id, number } = await shippedOrder();
      const delivered = { trackingNumber: number, status: 'DELIVERED', occurredAt: '2026-11-12T10:00:00Z' };
      expect(await post(delivered)).toBe(200);
      for (const [status, occurredAt] of [
        ['IN_TRANSIT', '2026-11-12T11:00:00Z'],
        ['OUT_FOR_DELIVERY', '2026-11-12T12:00:00Z'],
        ['EXCEPTION', '2026-11-12T13:00:00Z'],
        ['PICKED_UP', undefined],
      ])
        expect(await post({ trackingNumber: number, status, occurredAt })).toBe(200);
      expect((await shipment(number)).status).toBe('DELIVERED');
      const [order] = await sql('select status from "order" where id = ?', [id]);
      expect(order.status).toBe('DELIVERED');
      // The subscription's view of the shipment says the same.
      const shipmentView = await hub.gql<{ order: { shipments: { status: string }[] } }>(
        `query($id: ID!) { order(id: $id) { shipments { status } } }`,
        { id },
      );
      expect(shipmentView.data!.order.shipments).toEqual([{ status: 'DELIVERED' }]);
    });

    it('stores an event without occurredAt once, by its content, however often it is delivered', async () => {
      const { id, number } = await shippedOrder();
      const event = { trackingNumber: number, status: 'IN_TRANSIT', description: 'Left the Hangzhou hub' };
      for (let i = 0; i < 3; i++) expect(await post(event)).toBe(200);
      expect(await shipment(number)).toEqual({ status: 'IN_TRANSIT', events: 1 });
      const [updates] = await sql<{ n: number }>(
        `select count(*)::int as n from order_event where order_id = ? and type = 'SHIPMENT_UPDATED'`,
        [id],
      );
      expect(updates.n).toBe(2); // the scan-out and this one event
      // Other content is another event.
      expect(await post({ ...event, description: 'Arrived at the Shanghai hub' })).toBe(200);
      expect((await shipment(number)).events).toBe(2);
    });
  });

  describe('signatures and secrets', () => {
    it('accepts a correctly signed GBK body, checked over its bytes, and stores the names as sent', async () => {
      const payload = taobaoOrder();
      payload.buyer_nick = '张三丰';
      payload.receiver_name = '李小龙';
      const bytes = iconv.encode(JSON.stringify(payload), 'gbk');
      expect(bytes.equals(Buffer.from(JSON.stringify(payload)))).toBe(false);
      const reply = await deliver(base, 'taobao-main', bytes, {
        secret: TAOBAO_SECRET,
        headers: { 'content-type': 'application/json; charset=GBK' },
      });
      expect(reply.status).toBe(200);
      const [order] = await sql('select customer_name, ship_name from "order" where id = ?', [
        reply.body.orderId,
      ]);
      expect(order).toEqual({ customer_name: '张三丰', ship_name: '李小龙' });
    });

    it('refuses a channel webhook secret shorter than 32 characters, naming the field', async () => {
      const set = (secret: string) =>
        hub.gql(
          `mutation($secret: String) { upsertChannel(input: {code: "jd-short", platform: JD, name: "JD", webhookSecret: $secret}) { code } }`,
          { secret },
        );
      const refused = await set('x'.repeat(31));
      expect(refused.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'webhookSecret',
      });
      expect((await set('x'.repeat(32))).errors).toBeUndefined();
    });

    it('refuses a carrier webhook secret shorter than 32 characters', () => {
      expect(() => loadConfig({ CARRIER_WEBHOOK_SECRETS: 'sf=sf-secret' })).toThrow(ConfigError);
      expect(() => loadConfig({ CARRIER_WEBHOOK_SECRETS: 'sf=sf-secret' })).toThrow(
        /carrier "sf" has a secret shorter than 32 characters/,
      );
    });
  });
});

describe('the webhook door holds a bounded number of payloads and bytes', () => {
  let hub: TestHub;
  let base: string;
  let locker: pg.Client | null = null;
  const logged = async () =>
    (await hub.orm.em.getConnection().execute('select count(*)::int as n from ingest_log'))[0].n as number;

  /** Stock writes wait behind this lock, so deliveries stay held by the door until it is let go. */
  async function holdStock() {
    locker = new pg.Client({ connectionString: hub.database.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query(`select 1 from inventory_item where product_code = 'MILK-1L' for update`);
    return locker;
  }

  /** The answer to a delivery made while the door is full: it must come without waiting for the lock. */
  async function answerWhileHeld(payload: unknown) {
    let answer: Awaited<ReturnType<typeof deliver>> | null = null;
    void deliver(base, 'taobao-main', payload, { secret: TAOBAO_SECRET }).then((r) => (answer = r));
    await waitFor(() => answer !== null, 'an answer while the door is full');
    return answer!;
  }

  beforeAll(async () => {
    hub = await startTestHub('security-deliveries-bound', {
      env: { WEBHOOK_MAX_PENDING: '3', WEBHOOK_MAX_PENDING_BYTES: String(1024 * 1024) },
    });
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: TAOBAO_SECRET });
    await seedProduct(hub.orm, 'MILK-1L', 1000);
  });
  afterEach(async () => {
    await locker?.end();
    locker = null;
  });
  afterAll(() => hub?.close());

  it('answers 503 with Retry-After over WEBHOOK_MAX_PENDING payloads, and takes the delivery when it comes again', async () => {
    const lock = await holdStock();
    const before = await logged();
    const held = [taobaoOrder(), taobaoOrder(), taobaoOrder()].map((p) =>
      deliver(base, 'taobao-main', p, { secret: TAOBAO_SECRET }),
    );
    await waitFor(async () => (await logged()) === before + 3, 'the three deliveries logged and waiting');
    const extra = taobaoOrder();
    const refused = await answerWhileHeld(extra);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    await lock.query('commit');
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await deliver(base, 'taobao-main', extra, { secret: TAOBAO_SECRET })).status).toBe(200);
  });

  it('counts refund deliveries against the same limit: a flood of refunds is answered as a flood of orders', async () => {
    // Cases wait behind this lock (the bodies are logged first), so the refunds stay held by the door.
    locker = new pg.Client({ connectionString: hub.database.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table order_return in share mode');
    const before = await logged();
    const held = [taobaoRefund(), taobaoRefund(), taobaoRefund()].map((p) =>
      deliver(base, 'taobao-main', p, { secret: TAOBAO_SECRET }),
    );
    await waitFor(async () => (await logged()) === before + 3, 'the three refunds logged and waiting');
    const extraRefund = taobaoRefund();
    const refused = await answerWhileHeld(extraRefund);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // Orders and refunds share the door's room.
    expect((await answerWhileHeld(taobaoOrder())).status).toBe(503);

    await locker.query('commit');
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await deliver(base, 'taobao-main', extraRefund, { secret: TAOBAO_SECRET })).status).toBe(200);
  });

  it('answers 503 over WEBHOOK_MAX_PENDING_BYTES', async () => {
    const big = () => ({ ...taobaoOrder(), memo: 'x'.repeat(600_000) });
    const lock = await holdStock();
    const before = await logged();
    const held = deliver(base, 'taobao-main', big(), { secret: TAOBAO_SECRET });
    await waitFor(async () => (await logged()) === before + 1, 'the first large delivery logged and waiting');
    const extra = big();
    expect((await answerWhileHeld(extra)).status).toBe(503);

    await lock.query('commit');
    expect((await held).status).toBe(200);
    expect((await deliver(base, 'taobao-main', extra, { secret: TAOBAO_SECRET })).status).toBe(200);
  });
});

describe.skipIf(!process.env.REDIS_URL)('PUBSUB=redis messages (REDIS_URL set)', () => {
  let hub: TestHub;
  const publisher = createClient({ url: process.env.REDIS_URL });

  beforeAll(async () => {
    hub = await startTestHub('security-deliveries-redis', {
      env: { PUBSUB: 'redis', REDIS_URL: process.env.REDIS_URL! },
    });
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100);
    await publisher.connect();
  });
  afterAll(async () => {
    if (publisher.isOpen) await publisher.close();
    await hub?.close();
  });

  it('drops a foreign publisher’s events, even one with seq 9e15, and still delivers the real ones', async () => {
    const heard: OrderEventMessage[] = [];
    const subscription = hub.hub.events.subscribe('orderEvent');
    void (async () => {
      for await (const event of subscription) if (!(event instanceof Error)) heard.push(event);
    })();
    const channel = `order-hub:${new URL(hub.database.url).pathname.slice(1)}:order-events`;
    const next = hub.hub.orderFeed.lastSeq + 1n;
    const forged = (seqValue: string) => ({
      seq: seqValue,
      orderId: randomUUID(),
      channelCode: 'web',
      type: 'STATUS_CHANGED',
      fromStatus: 'PAID',
      toStatus: 'CANCELLED',
      at: new Date().toISOString(),
      source: 'forged',
      detail: null,
    });
    const events = JSON.stringify([forged(String(next)), forged('9000000000000000')]);
    await publisher.publish(channel, events);
    await publisher.publish(channel, `${'0'.repeat(64)}.${events}`);
    await publisher.publish(channel, 'not even JSON');

    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode: 'web',
        externalId: 'REAL-1',
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
      },
    });
    const orderId = placed.data!.placeOrder.id;
    await waitFor(() => heard.some((e) => e.orderId === orderId), 'the real event');
    expect(heard.map((e) => e.source)).not.toContain('forged');
    expect(hub.hub.orderFeed.lastSeq).toBeLessThan(1_000_000n);
    await subscription.return?.();
  });
});

function createHmacHex(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
