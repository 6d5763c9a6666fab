import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { startHubWebhooks } from '../server/outbound.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { secretBoxFor } from '../server/secret-key.js';
import { storefrontOrder, storefrontRefund } from './support/after-sale.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { TEST_SECRET_KEY } from './support/hub-process.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { waitFor } from './support/wait.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from './support/webhook-receiver.js';

// The merchant's systems hear of orders and stock by signed webhooks (Standard Webhooks): after commit, at
// least once, each order's events in their order, retried on a schedule, given up at its end, and never sent
// to the hub's own network unless allowed.

const CREATE = `mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url events channelCodes enabled } }
}`;
const DELIVERIES = `query($id: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $id, status: $status, first: 100) {
    edges { node { id webhookId eventType orderId eventSeq status attemptCount nextAttemptAt deliveredAt
                   attempts { statusCode response error durationMs nextAttemptAt } } }
  }
}`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const MARK_PAID = `mutation($id: ID!) { markPaid(orderId: $id) { id status } }`;

interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  orderId: string | null;
  eventSeq: string | null;
  status: string;
  attemptCount: number;
  attempts: { statusCode: number | null; response: string | null; error: string | null }[];
}

describe('outbound webhooks', () => {
  let hub: TestHub;
  let externalId = 0;
  const receivers: WebhookReceiver[] = [];

  const endpoint = async (
    events: string[],
    options: { channelCodes?: string[]; answer?: Parameters<WebhookReceiver['answer']>[0] } = {},
  ) => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    if (options.answer !== undefined) receiver.answer(options.answer);
    const response = await hub.gql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      CREATE,
      {
        input: { url: receiver.url, events, channelCodes: options.channelCodes },
      },
    );
    expect(response.errors).toBeUndefined();
    const { secret, endpoint } = response.data!.createWebhookEndpoint;
    receiver.secrets.push(secret);
    return { id: endpoint.id, secret, receiver };
  };
  const placeOrder = async (channelCode = 'shop') => {
    const response = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode,
        externalId: `WEB-${++externalId}`,
        customerName: 'Grace Hopper',
        shippingAddress: { line1: '1 Navy Way', city: 'Arlington', country: 'US' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '12.50' }],
      },
    });
    expect(response.errors).toBeUndefined();
    return response.data!.placeOrder.id;
  };
  const markPaid = async (id: string) => {
    const response = await hub.gql(MARK_PAID, { id });
    expect(response.errors).toBeUndefined();
  };
  const deliveries = async (id: string, status?: string) => {
    const response = await hub.gql<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(DELIVERIES, {
      id,
      status,
    });
    expect(response.errors).toBeUndefined();
    return response.data!.webhookDeliveries.edges.map((e) => e.node);
  };
  const ofOrder = (list: ReceivedWebhook[], orderId: string) =>
    list.filter((r) => r.payload.data.order?.id === orderId);

  beforeAll(async () => {
    hub = await startTestHub('outbound-webhooks', {
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: '20ms,40ms,60ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
      webhooks: { pollIntervalMs: 50, sweepIntervalMs: 1000 },
    });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    await seedProduct(hub.orm, 'TEA', 100_000);
  });

  afterAll(async () => {
    await hub?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("sends an order's events signed, in order, with the order as the API shows it and the event's seq", async () => {
    const { receiver } = await endpoint(['ORDER_CREATED', 'ORDER_STATUS_CHANGED']);
    const orderId = await placeOrder();
    await markPaid(orderId);
    await waitFor(() => ofOrder(receiver.accepted(), orderId).length === 2, 'both events');

    const [created, paid] = ofOrder(receiver.received, orderId);
    expect([created.type, paid.type]).toEqual(['order.created', 'order.status_changed']);
    for (const message of [created, paid]) {
      expect(message.verifiedBy).toEqual([0]);
      expect(message.id).toBe(`msg_order_${message.payload.data.seq}`);
      expect(Math.abs(Number(message.timestamp) - Date.now() / 1000)).toBeLessThan(300);
    }
    expect(Number(paid.payload.data.seq)).toBeGreaterThan(Number(created.payload.data.seq));
    expect(paid.payload.data.event).toMatchObject({ type: 'STATUS_CHANGED', toStatus: 'PAID' });
    expect(created.payload.data.order).toMatchObject({
      id: orderId,
      channel: { code: 'shop' },
      total: { amount: '12.50', currencyCode: expect.any(String) },
      lines: [{ productCode: 'TEA', quantity: 1, unitPrice: { amount: '12.50' } }],
    });
    expect(created.payload.data.order.raw).toBeUndefined();
  });

  it('limits an endpoint to its channels and events', async () => {
    const tmallOnly = await endpoint(['ORDER_CREATED'], { channelCodes: ['tmall'] });
    const everything = await endpoint(['ORDER_CREATED']);
    const orderId = await placeOrder('shop');
    await waitFor(() => ofOrder(everything.receiver.accepted(), orderId).length === 1, 'the event');
    // Both endpoints' deliveries are made in one statement, when the event is numbered.
    expect(await deliveries(tmallOnly.id)).toEqual([]);
    await markPaid(orderId);
    const paidOrder = await placeOrder('shop');
    await waitFor(() => ofOrder(everything.receiver.accepted(), paidOrder).length === 1, 'the next order');
    expect(ofOrder(everything.receiver.received, orderId).map((r) => r.type)).toEqual(['order.created']);
  });

  it('retries a failing endpoint until every event is in, each order in turn, repeating only a webhook-id', async () => {
    const tries = new Map<string, number>();
    const { id, receiver } = await endpoint(['ORDER_CREATED', 'ORDER_STATUS_CHANGED'], {
      // Every message fails twice, then gets through on the schedule's second retry.
      answer: (request) => {
        tries.set(request.id, (tries.get(request.id) ?? 0) + 1);
        return tries.get(request.id)! <= 2 ? 500 : 200;
      },
    });
    const orders: string[] = [];
    for (let i = 0; i < 8; i++) orders.push(await placeOrder());
    for (const orderId of orders) await markPaid(orderId);
    await waitFor(() => receiver.accepted().length === 16, 'all 16 events accepted');

    const accepted = receiver.accepted();
    expect(new Set(accepted.map((r) => r.id)).size).toBe(16);
    // Everything sent was one of those messages, the same id and body each time it was tried.
    for (const request of receiver.received) {
      expect(accepted.find((r) => r.id === request.id)?.body).toBe(request.body);
    }
    for (const orderId of orders) {
      const tries = ofOrder(receiver.received, orderId);
      const createdAccepted = tries.findIndex((r) => r.type === 'order.created' && r.answered === 200);
      const firstPaid = tries.findIndex((r) => r.type === 'order.status_changed');
      // The later event of an order is not tried before the earlier one got through.
      expect(firstPaid).toBeGreaterThan(createdAccepted);
    }
    // The receiver has them before the hub records its answers.
    let list: Delivery[] = [];
    await waitFor(async () => {
      list = await deliveries(id);
      return list.length === 16 && list.every((d) => d.status === 'DELIVERED');
    }, 'every delivery recorded as delivered');
    for (const delivery of list) {
      expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
      expect(delivery.attempts[0]).toMatchObject({
        response: 'failing with 500',
        error: expect.stringContaining('500'),
      });
      expect(delivery.attempts[2]).toMatchObject({ response: 'ok', error: null });
    }
    expect(receiver.received).toHaveLength(48);
  });

  it('gives a delivery up after the last retry; redeliverWebhook sends it again with the same id', async () => {
    const { id, receiver } = await endpoint(['ORDER_CREATED'], { answer: 503 });
    const orderId = await placeOrder();
    await waitFor(async () => (await deliveries(id, 'FAILED')).length === 1, 'the delivery given up');
    const [failed] = await deliveries(id);
    // The first attempt and the schedule's three retries.
    expect(failed.attemptCount).toBe(4);
    expect(failed.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503, 503]);
    expect(ofOrder(receiver.received, orderId)).toHaveLength(4);

    receiver.answer(200);
    const redelivered = await hub.gql<{ redeliverWebhook: { status: string } }>(
      `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }`,
      { id: failed.id },
    );
    expect(redelivered.data?.redeliverWebhook.status).toBe('PENDING');
    await waitFor(() => receiver.accepted().length === 1, 'the redelivery');
    expect(receiver.accepted()[0].id).toBe(failed.webhookId);
    await waitFor(async () => (await deliveries(id))[0].status === 'DELIVERED', 'the redelivery recorded');
    expect((await deliveries(id))[0].attemptCount).toBe(5);
  });

  it('signs with the old and the new secret during a rotation', async () => {
    const { id, receiver } = await endpoint(['ORDER_CREATED']);
    const rotated = await hub.gql<{
      rotateWebhookSecret: { secret: string; endpoint: { previousSecretUntil: string } };
    }>(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretUntil } } }`, {
      id,
    });
    expect(rotated.errors).toBeUndefined();
    const { secret, endpoint: after } = rotated.data!.rotateWebhookSecret;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(receiver.secrets[0]);
    const overlapHours = (new Date(after.previousSecretUntil).getTime() - Date.now()) / 3_600_000;
    expect(overlapHours).toBeGreaterThan(23.9);
    receiver.secrets.push(secret);
    const orderId = await placeOrder();
    await waitFor(() => ofOrder(receiver.accepted(), orderId).length === 1, 'the event');
    const [message] = ofOrder(receiver.received, orderId);
    expect(message.verifiedBy).toEqual([0, 1]);
    expect(message.signature.split(' ')).toHaveLength(2);
  });

  it('holds what is pending while an endpoint is off, sends it when it is on again, and queues nothing new meanwhile', async () => {
    const { id, receiver } = await endpoint(['ORDER_CREATED'], { answer: 'hang' });
    const setEnabled = async (enabled: boolean) => {
      const response = await hub.gql(
        `mutation($id: ID!, $enabled: Boolean!) { updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { enabled } }`,
        { id, enabled },
      );
      expect(response.errors).toBeUndefined();
    };
    const before = await placeOrder();
    await waitFor(() => receiver.received.length === 1, 'the first attempt under way');
    await setEnabled(false);
    // The attempt times out and is recorded; its retry waits for the endpoint, with no job to send it.
    await waitFor(async () => (await deliveries(id))[0]?.attemptCount === 1, 'the attempt recorded');
    const [pending] = await deliveries(id);
    expect(pending.status).toBe('PENDING');
    const jobs = await hub.orm.em
      .getConnection()
      .execute(`select 1 from graphile_worker._private_jobs where key = ?`, [
        `webhook-delivery:${pending.id}`,
      ]);
    expect(jobs).toHaveLength(0);
    const during = await placeOrder();
    receiver.answer(200);
    await setEnabled(true);
    await waitFor(
      () => ofOrder(receiver.accepted(), before).length === 1,
      'the pending delivery, once on again',
    );
    const after = await placeOrder();
    await waitFor(() => ofOrder(receiver.accepted(), after).length === 1, 'the next order');
    expect(ofOrder(receiver.received, during)).toEqual([]);
    expect(await deliveries(id)).toHaveLength(2);
  });

  it('tells of a shipment with the shipment itself beside the order', async () => {
    const { receiver } = await endpoint(['SHIPMENT_UPDATED']);
    const orderId = await placeOrder();
    await markPaid(orderId);
    const shipped = await hub.gql(
      `mutation($id: ID!) { shipOrder(orderId: $id, carrier: "SF", trackingNumber: "SF-WH-1") { status } }`,
      { id: orderId },
    );
    expect(shipped.errors).toBeUndefined();
    await waitFor(() => ofOrder(receiver.accepted(), orderId).length >= 1, 'the shipment event');
    const [message] = ofOrder(receiver.accepted(), orderId);
    expect(message.type).toBe('shipment.updated');
    expect(message.payload.data.shipment).toMatchObject({ carrier: 'SF', trackingNumber: 'SF-WH-1' });
    expect(message.payload.data.order.status).toBe('SHIPPED');
  });

  it('tells of stock alerts', async () => {
    const { receiver } = await endpoint(['STOCK_ALERT']);
    await seedProduct(hub.orm, 'CUP', 10, 5);
    const adjusted = await hub.gql(
      `mutation { adjustStock(productCode: "CUP", delta: -8, reason: "breakage") { available } }`,
    );
    expect(adjusted.errors).toBeUndefined();
    const lowStock = () => receiver.accepted().find((r) => r.payload.data.alert?.kind === 'LOW_STOCK');
    await waitFor(() => lowStock() !== undefined, 'the low-stock alert');
    const message = lowStock()!;
    expect(message.type).toBe('stock.alert');
    expect(message.id).toMatch(/^msg_alert_\d+$/);
    expect(message.payload.data.alert).toMatchObject({ productCode: 'CUP', kind: 'LOW_STOCK', available: 2 });
  });

  it('tells of a risk flag: its RISK alert reaches a subscribed endpoint, signed, naming the order', async () => {
    const { receiver } = await endpoint(['STOCK_ALERT']);
    // One buyer, four orders, two sent back: at the second refund the serial-returner rule flags each of the
    // buyer's last four orders, one RISK alert each.
    const buyer = 'Risk Webhook Buyer';
    const orderIds: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const payload = storefrontOrder(`RISK-WH-${i}`, [
        { productCode: 'TEA', quantity: 1, unitPrice: '12.50' },
      ]);
      const stored = await hub.gql<{ ingestChannelOrder: { id: string } }>(
        `mutation($p: JSON!) { ingestChannelOrder(channelCode: "shop", payload: $p) { id } }`,
        {
          p: {
            ...payload,
            customerName: buyer,
            shippingAddress: { ...payload.shippingAddress, name: buyer, line1: `${buyer} House` },
          },
        },
      );
      expect(stored.errors).toBeUndefined();
      orderIds.push(stored.data!.ingestChannelOrder.id);
    }
    for (const i of [1, 2]) {
      const refunded = await hub.gql(
        `mutation($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id } }`,
        {
          p: storefrontRefund(`RISK-WH-R-${i}`, `RISK-WH-${i}`, {
            kind: 'REFUND_ONLY',
            status: 'REQUESTED',
            lines: [{ productCode: 'TEA', quantity: 1 }],
            amount: '12.50',
          }),
        },
      );
      expect(refunded.errors).toBeUndefined();
    }
    const risks = () => receiver.accepted().filter((r) => r.payload.data.alert?.kind === 'RISK');
    await waitFor(() => risks().length >= 4, 'the four RISK alerts');
    // accepted(): the receiver verified the Standard Webhooks signature with the endpoint's secret.
    for (const message of risks()) {
      expect(message.type).toBe('stock.alert');
      expect(message.id).toMatch(/^msg_alert_\d+$/);
      expect(message.signature).toMatch(/^v1,/);
      expect(message.payload.data.alert).toMatchObject({
        kind: 'RISK',
        channelCode: 'shop',
        message: expect.stringContaining('flagged SERIAL_RETURNER'),
      });
    }
    expect(
      risks()
        .map((r) => r.payload.data.alert.orderId)
        .sort(),
    ).toEqual([...orderIds].sort());
  });

  it('sends each delivery once with two hub processes sending', async () => {
    const config = loadConfig({
      DATABASE_URL: hub.database.url,
      HUB_SECRET_KEY: TEST_SECRET_KEY,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'silent',
    });
    const logger = createLogger('silent');
    const second = await startHubWebhooks({
      config,
      databaseUrl: hub.database.url,
      orm: hub.orm,
      hub: hub.hub.services,
      logger,
      sealer: (await secretBoxFor(config, logger))!,
      settings: { pollIntervalMs: 50 },
    });
    try {
      const { id, receiver } = await endpoint(['ORDER_CREATED', 'ORDER_STATUS_CHANGED']);
      const orders: string[] = [];
      for (let i = 0; i < 20; i++) orders.push(await placeOrder());
      for (const orderId of orders) await markPaid(orderId);
      await waitFor(() => receiver.accepted().length === 40, 'all 40 events');
      // Every delivery recorded, so no attempt of either process is still to come.
      await waitFor(
        async () => (await deliveries(id, 'DELIVERED')).length === 40,
        'all 40 recorded as delivered',
      );
      expect(receiver.received).toHaveLength(40);
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(40);
    } finally {
      await second.stop();
    }
  });
});

describe('webhook URLs on the hub’s own network', () => {
  let hub: TestHub;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    hub = await startTestHub('outbound-webhooks-ssrf', { webhooks: { pollIntervalMs: 50 } });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100);
    receiver = await startWebhookReceiver();
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  it.each([
    'http://127.0.0.1:8080/hooks',
    'http://10.1.2.3/hooks',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://localhost:9000/hooks',
  ])('refuses %s when the endpoint is made', async (url) => {
    const response = await hub.gql(CREATE, { input: { url, events: ['ORDER_CREATED'] } });
    expect(errorCodes(response)).toEqual(['URL_NOT_ALLOWED']);
  });

  it('refuses to send to one at delivery, when the stored URL points there', async () => {
    // Made to a public address, then pointed at the hub's network behind the API's back (as DNS could).
    const made = await hub.gql<{ createWebhookEndpoint: { endpoint: { id: string } } }>(CREATE, {
      input: { url: 'http://93.184.215.14/hooks', events: ['ORDER_CREATED'] },
    });
    expect(made.errors).toBeUndefined();
    const id = made.data!.createWebhookEndpoint.endpoint.id;
    await hub.orm.em
      .getConnection()
      .execute(`update webhook_endpoint set url = ? where id = ?`, [receiver.url, id]);
    const placed = await hub.gql(PLACE, {
      input: {
        channelCode: 'shop',
        externalId: 'SSRF-1',
        customerName: 'Mallory',
        shippingAddress: { line1: '1 Any Way', city: 'Anywhere', country: 'US' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '1.00' }],
      },
    });
    expect(placed.errors).toBeUndefined();
    let attempts: { error: string | null }[] = [];
    await waitFor(async () => {
      const response = await hub.gql<{
        webhookDeliveries: { edges: { node: { attempts: { error: string | null }[] } }[] };
      }>(DELIVERIES, { id });
      attempts = response.data?.webhookDeliveries.edges[0]?.node.attempts ?? [];
      return attempts.length > 0;
    }, 'the first attempt');
    expect(attempts[0].error).toMatch(/private, loopback or link-local/);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('an endpoint that keeps failing', () => {
  let hub: TestHub;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    hub = await startTestHub('outbound-webhooks-failing', {
      // Off after failing for a millisecond: the second failure in a row turns it off.
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: '10ms,10ms,10ms,10ms',
        WEBHOOK_DISABLE_AFTER: '1ms',
      },
      webhooks: { pollIntervalMs: 50 },
    });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100);
    receiver = await startWebhookReceiver();
    receiver.answer(500);
  });

  afterAll(async () => {
    await hub?.close();
    await receiver?.close();
  });

  it('is turned off, with the reason, and its delivery waits', async () => {
    const made = await hub.gql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      CREATE,
      {
        input: { url: receiver.url, events: ['ORDER_CREATED'] },
      },
    );
    expect(made.errors).toBeUndefined();
    receiver.secrets.push(made.data!.createWebhookEndpoint.secret);
    const placed = await hub.gql(PLACE, {
      input: {
        channelCode: 'shop',
        externalId: 'FAIL-1',
        customerName: 'Ada',
        shippingAddress: { line1: '1 Main St', city: 'Anywhere', country: 'US' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '3.00' }],
      },
    });
    expect(placed.errors).toBeUndefined();
    type Listed = { enabled: boolean; disabledReason: string | null; failingSince: string | null };
    let listed: Listed | undefined;
    await waitFor(async () => {
      const response = await hub.gql<{ webhookEndpoints: Listed[] }>(
        `{ webhookEndpoints { enabled disabledReason failingSince } }`,
      );
      listed = response.data?.webhookEndpoints[0];
      return listed?.enabled === false;
    }, 'the endpoint turned off');
    expect(listed!.disabledReason).toMatch(/^Turned off: every attempt failed since /);
    expect(listed!.failingSince).not.toBeNull();
    expect(receiver.received).toHaveLength(2);
    const [row] = await hub.orm.em
      .getConnection()
      .execute<{ status: string }[]>(`select status from outbound_delivery`);
    expect(row.status).toBe('PENDING');
  });
});

describe('webhook configuration', () => {
  it('reads the schedule and the limits, with the documented defaults', () => {
    expect(loadConfig({}).outboundWebhooks).toEqual({
      concurrency: 200,
      perEndpoint: 32,
      timeoutMs: 15_000,
      retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      disableAfterMs: 3 * 86_400_000,
      allowPrivate: false,
      pollIntervalMs: 500,
    });
    expect(
      loadConfig({ WEBHOOK_RETRY_SCHEDULE: '250ms, 1.5s,2m', WEBHOOK_DISABLE_AFTER: '12h' }).outboundWebhooks,
    ).toMatchObject({ retryScheduleMs: [250, 1500, 120_000], disableAfterMs: 43_200_000 });
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE.*"soon"/);
    expect(() => loadConfig({ WEBHOOK_DISABLE_AFTER: '1d,2d' })).toThrow(/WEBHOOK_DISABLE_AFTER/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });
});
