import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatus, Role } from '../common/enums.js';
import type { Order } from '../entities/index.js';
import { PayloadMappingError } from '../common/errors.js';
import { companyCode, trackingReply } from '../connectors/kuaidi100.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { RequestContext } from '../services/context.js';
import { LiveTracking, liveTracking } from '../services/live-tracking.js';
import { shanghaiTime, startFakeCarrier, type FakeCarrier } from './support/fake-carrier.js';
import { seedChannel, seedOrder } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

const LIVE = `query($id: ID!) { order(id: $id) { status deliveredAt shipments { status
  liveTracking { stale fetchedAt events { status description occurredAt } } } } }`;
/** Three orders in one request: one batch of live tracking. */
const THREE = `query($a: ID!, $b: ID!, $c: ID!) {
  a: order(id: $a) { shipments { liveTracking { stale fetchedAt events { status } } } }
  b: order(id: $b) { shipments { liveTracking { stale fetchedAt events { status } } } }
  c: order(id: $c) { shipments { liveTracking { stale fetchedAt events { status } } } }
}`;
const TIMELINE = `subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId, after: "0") { type toStatus } }`;

interface Live {
  stale: boolean;
  fetchedAt: string | null;
  events: { status: string; description?: string | null; occurredAt?: string }[];
}
type Shipments = { shipments: { status?: string; liveTracking: Live }[] };

const HOUR = 3_600_000;
/** Whole seconds: Kuaidi100's times have no milliseconds. */
const ago = (ms: number) => new Date(Math.floor((Date.now() - ms) / 1000) * 1000);

describe('Shipment.liveTracking through the carrier tracking API', () => {
  let carrier: FakeCarrier;
  let hub: TestHub;
  let now = Date.now();
  const clock = { now: () => now };
  const orders: Order[] = [];
  const sql = <T = Record<string, unknown>>(q: string, p: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(q, p);
  const tracking = (order: Order) => `SF-live-${order.externalId}`;
  const counts = async () =>
    (
      await sql<{ tracking: number; timeline: number }>(
        `select (select count(*)::int from shipment_event) as tracking,
                (select count(*)::int from order_event) as timeline`,
      )
    )[0];
  const one = async (order: Order) => {
    const response = await hub.gql<{ order: Shipments & { status: string; deliveredAt: string | null } }>(
      LIVE,
      { id: order.id },
    );
    expect(response.errors).toBeUndefined();
    return response.data!.order;
  };
  const three = async () => {
    const response = await hub.gql<Record<'a' | 'b' | 'c', Shipments>>(THREE, {
      a: orders[1].id,
      b: orders[2].id,
      c: orders[3].id,
    });
    expect(response.errors).toBeUndefined();
    return (['a', 'b', 'c'] as const).map((k) => response.data![k].shipments[0].liveTracking);
  };

  beforeAll(async () => {
    carrier = await startFakeCarrier();
    hub = await startTestHub('live-tracking', {
      clock,
      env: {
        CARRIER_TRACKING_URL: carrier.url,
        CARRIER_TRACKING_CUSTOMER: carrier.customer,
        CARRIER_TRACKING_KEY: carrier.key,
        CARRIER_TRACKING_TIMEOUT_MS: '500',
        CARRIER_TRACKING_RESET_MS: '3000',
      },
    });
    const channel = await seedChannel(hub.orm, 'live');
    for (let i = 0; i < 4; i++)
      orders.push(await seedOrder(hub.orm, { channel, externalId: `${i}`, status: OrderStatus.SHIPPED }));
    for (const order of orders) {
      // The fixture's shipment is SF's; the hub asks Kuaidi100 for "shunfeng".
      carrier.setParcel('shunfeng', tracking(order), [
        { time: shanghaiTime(ago(5 * HOUR)), status: '揽收', context: '【杭州市】顺丰速运 已收取快件' },
        { time: shanghaiTime(ago(4 * HOUR)), status: '在途', context: '快件已发车' },
      ]);
    }
    await sql(`update shipment set tracking_number = 'SF-live-' || o.external_id from "order" o
      where o.id = shipment.order_id`);
  });

  afterAll(async () => {
    await hub?.close();
    await carrier?.close();
  });

  it('answers the carrier events, records the new ones, and the order and its subscribers catch up', async () => {
    const [order] = orders;
    const delivered = ago(HOUR);
    carrier.setParcel('shunfeng', tracking(order), [
      { time: shanghaiTime(ago(5 * HOUR)), status: '揽收', context: '【杭州市】顺丰速运 已收取快件' },
      { time: shanghaiTime(ago(3 * HOUR)), status: '派件', context: '快递员正在派件' },
      { time: shanghaiTime(delivered), status: '签收', context: '已签收，本人签收' },
      // Dated hours ahead (a carrier's clock gone wrong): left out, it would pin the shipment's status.
      { time: shanghaiTime(new Date(Date.now() + 3 * HOUR)), status: '疑难', context: '时钟错误' },
    ]);
    // SF Express answers only with the recipient's phone: the hub sends the order's.
    await sql('update "order" set ship_phone = ? where id = ?', ['13800138000', order.id]);
    const before = await counts();
    const read = await one(order);
    const live = read.shipments[0].liveTracking;
    expect(live.stale).toBe(false);
    expect(live.fetchedAt).toBe(new Date(now).toISOString());
    // The fixture's two events and the carrier's three, oldest first.
    expect(live.events.map((e) => e.status)).toEqual([
      'PICKED_UP',
      'OUT_FOR_DELIVERY',
      'DELIVERED',
      'PICKED_UP',
      'IN_TRANSIT',
    ]);
    expect(live.events).toContainEqual({
      status: 'DELIVERED',
      description: '已签收，本人签收',
      occurredAt: delivered.toISOString(),
    });
    expect(carrier.calls.at(-1)).toEqual({
      com: 'shunfeng',
      num: tracking(order),
      phone: '13800138000',
      answer: 'ok',
    });
    // Recorded through the carrier-event path: three events, three SHIPMENT_UPDATED entries and the move.
    expect(await counts()).toEqual({ tracking: before.tracking + 3, timeline: before.timeline + 4 });
    const [shipment] = await sql<{ status: string }>('select status from shipment where order_id = ?', [
      order.id,
    ]);
    expect(shipment.status).toBe('DELIVERED');
    const after = await one(order);
    expect(after.status).toBe('DELIVERED');
    expect(after.deliveredAt).toBe(delivered.toISOString());

    const client = hub.wsClient();
    const timeline = feed<{ type: string; toStatus: string | null }>(client, TIMELINE, 'orderStatusChanged', {
      orderId: order.id,
    });
    try {
      await waitFor(
        () => timeline.events.some((e) => e.type === 'STATUS_CHANGED' && e.toStatus === 'DELIVERED'),
        'the DELIVERED move on the order feed',
      );
      expect(timeline.errors).toEqual([]);
    } finally {
      timeline.stop();
    }
  });

  /** hub_live_tracking_lookups_total, by outcome, as this hub's registry holds it now. */
  const lookups = async (): Promise<Record<string, number>> => {
    const metric = hub.hub.services.metrics.registry.getSingleMetric('hub_live_tracking_lookups_total');
    const { values } = await metric!.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
  };
  const more = (after: Record<string, number>, before: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(after)
        .map(([outcome, n]) => [outcome, n - (before[outcome] ?? 0)])
        .filter(([, n]) => n !== 0),
    );

  it('asks for the shipments of one request together, once each, and reuses an answer for a minute', async () => {
    const calls = carrier.calls.length;
    const before = await counts();
    const looked = await lookups();
    // The fake answers none of the three until all three are in flight: sent one after another, they would time out.
    carrier.holdUntil(3);
    const first = await three();
    expect(carrier.calls.length).toBe(calls + 3);
    for (const live of first) {
      expect(live.stale).toBe(false);
      expect(live.events.map((e) => e.status)).toEqual([
        'PICKED_UP',
        'IN_TRANSIT',
        'PICKED_UP',
        'IN_TRANSIT',
      ]);
    }
    expect((await counts()).tracking).toBe(before.tracking + 6);

    // Within the minute: no call, the same answer.
    now += 59_000;
    const cached = await three();
    expect(carrier.calls.length).toBe(calls + 3);
    expect(cached.map((l) => l.fetchedAt)).toEqual(first.map((l) => l.fetchedAt));
    expect(more(await lookups(), looked)).toEqual({ fetched: 3, cached: 3 });

    // A minute on: asked again; the same events store nothing.
    now += 2_000;
    const counted = await counts();
    const again = await three();
    expect(carrier.calls.length).toBe(calls + 6);
    expect(again.every((l) => !l.stale && l.fetchedAt === new Date(now).toISOString())).toBe(true);
    expect(await counts()).toEqual(counted);

    // The same shipment twice in one request is asked once.
    now += 61_000;
    const twice = await hub.gql<Record<'a' | 'b' | 'c', Shipments>>(THREE, {
      a: orders[1].id,
      b: orders[1].id,
      c: orders[1].id,
    });
    expect(twice.errors).toBeUndefined();
    expect(carrier.calls.length).toBe(calls + 7);
  });

  it('answers the stored events, stale, when the carrier fails or hangs, and opens the breaker', async () => {
    const order = orders[1];
    const stored = (await one(order)).shipments[0].liveTracking.events;
    const counted = await counts();
    const looked = await lookups();

    now += 61_000;
    carrier.fail('error500');
    const calls = carrier.calls.length;
    const failed = (await one(order)).shipments[0].liveTracking;
    expect(failed).toEqual({ stale: true, fetchedAt: null, events: stored });
    expect(carrier.calls.length).toBe(calls + 1);

    carrier.fail('hang');
    const hung = (await one(order)).shipments[0].liveTracking;
    expect(hung).toEqual({ stale: true, fetchedAt: null, events: stored });
    expect(carrier.calls.at(-1)!.answer).toBe('hang');

    // The breaker opens once more than half the requests of its window failed (the successes above count too).
    carrier.fail('error500');
    const breaker = () => hub.hub.services.liveTracking.breakerState();
    for (let round = 0; round < 5 && breaker() !== 'OPEN'; round++)
      expect((await three()).every((l) => l.stale)).toBe(true);
    expect(breaker()).toBe('OPEN');
    const whileOpen = carrier.calls.length;
    expect((await three()).every((l) => l.stale && l.events.length === 4)).toBe(true);
    expect((await one(order)).shipments[0].liveTracking.stale).toBe(true);
    expect(carrier.calls.length).toBe(whileOpen);
    expect(await counts()).toEqual(counted);
    const failedLookups = more(await lookups(), looked);
    expect(failedLookups).toEqual({ failed: expect.any(Number), breaker_open: 4 });
    expect(failedLookups.failed).toBe(whileOpen - calls);

    // The carrier is back: after its reset time the breaker lets one request through, which closes it.
    carrier.fail(null);
    await waitFor(() => breaker() === 'HALF_OPEN', 'the breaker to let a trial through');
    const recovered = (await one(order)).shipments[0].liveTracking;
    expect(recovered).toMatchObject({ stale: false, fetchedAt: new Date(now).toISOString() });
    expect(carrier.calls.length).toBe(whileOpen + 1);
    expect(breaker()).toBe('CLOSED');
  });

  it('the same roles that read the shipment read its live tracking', async () => {
    const order = orders[2];
    await seedChannel(hub.orm, 'elsewhere');
    for (const key of [await hub.apiKey('STOREFRONT', 'live'), await hub.apiKey('ANALYST')]) {
      const response = await hub.gql<{ order: Shipments }>(LIVE, { id: order.id }, key);
      expect(response.errors).toBeUndefined();
      expect(response.data!.order.shipments[0].liveTracking.events.length).toBeGreaterThan(0);
    }
    const other = await hub.gql<{ order: Shipments | null }>(
      LIVE,
      { id: order.id },
      await hub.apiKey('STOREFRONT', 'elsewhere'),
    );
    expect(other.data?.order ?? null).toBeNull();
  });

  it('a shipmentUpdated subscriber may select liveTracking', async () => {
    const order = orders[2];
    const client = hub.wsClient();
    const updates = feed<{ status: string; liveTracking: Live }>(
      client,
      `subscription($t: String!) { shipmentUpdated(trackingNumber: $t) {
        status liveTracking { stale events { status description } } } }`,
      'shipmentUpdated',
      { t: tracking(order) },
    );
    try {
      await waitFor(() => hub.hub.events.listenerCount('shipmentUpdated') > 0, 'the subscription');
      const recorded = await hub.gql(
        `mutation($t: String!) { recordShipmentEvent(trackingNumber: $t, status: OUT_FOR_DELIVERY, description: "派送中") { id } }`,
        { t: tracking(order) },
      );
      expect(recorded.errors).toBeUndefined();
      const [update] = await updates.take(1);
      expect(update.status).toBe('OUT_FOR_DELIVERY');
      expect(update.liveTracking.stale).toBe(false);
      expect(update.liveTracking.events).toContainEqual({
        status: 'OUT_FOR_DELIVERY',
        description: '派送中',
      });
    } finally {
      updates.stop();
    }
  });

  it('the fake refuses a request with a wrong signature, as Kuaidi100 does', async () => {
    const param = JSON.stringify({ com: 'shunfeng', num: tracking(orders[0]) });
    const response = await fetch(carrier.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ customer: carrier.customer, sign: '0'.repeat(32), param }).toString(),
    });
    expect(await response.json()).toEqual({ result: false, returnCode: '503', message: '验证签名失败' });
  });

  /** Live tracking of the orders' shipments (orders[3]'s by default) in one context, through a LiveTracking of its own. */
  async function trackWith(tracker: LiveTracking, of: Order[] = [orders[3]]) {
    const shipments = await sql<{ id: string; order_id: string; carrier: string; tracking_number: string }>(
      `select id, order_id, carrier, tracking_number from shipment where order_id in (${of.map(() => '?').join(', ')})`,
      of.map((o) => o.id),
    );
    const ctx = new RequestContext({
      em: hub.orm.em.fork(),
      principal: { keyId: 'test', role: Role.OPS, channelCode: null, label: 'test' },
      requestId: 'own-tracker',
      logger: createLogger('silent'),
      hub: { ...hub.hub.services, liveTracking: tracker },
    });
    return Promise.all(
      shipments.map((s) =>
        liveTracking(ctx, {
          id: s.id,
          carrier: s.carrier,
          trackingNumber: s.tracking_number,
          orderId: s.order_id,
        }),
      ),
    );
  }
  /** The fake's API, as the hub's config gives it. */
  const settings = () => ({
    url: carrier.url,
    customer: carrier.customer,
    key: carrier.key,
    timeoutMs: 5000,
    breakerResetMs: 600_000,
    maxPerRequest: 50,
  });

  it('without a configured tracking API answers the stored events, stale, and asks nobody', async () => {
    const calls = carrier.calls.length;
    const [live] = await trackWith(new LiveTracking(null));
    expect(live.stale).toBe(true);
    expect(live.fetchedAt).toBeNull();
    expect(live.events.length).toBe(4);
    expect(carrier.calls.length).toBe(calls);
  });

  it('signed with the wrong key: refused, stale, and no sign of the carrier being down to the breaker', async () => {
    const tracker = new LiveTracking({ ...settings(), key: 'not-the-right-key' });
    try {
      const calls = carrier.calls.length;
      for (let i = 0; i < 6; i++) expect((await trackWith(tracker))[0].stale).toBe(true);
      expect(carrier.calls.slice(calls).map((c) => c.answer)).toEqual(Array(6).fill('503'));
      expect(tracker.breakerState()).toBe('CLOSED');
    } finally {
      tracker.close();
    }
  });

  it('asks the carrier for at most its share of shipments per request; the others are answered stale', async () => {
    const tracker = new LiveTracking({ ...settings(), maxPerRequest: 2 });
    try {
      const calls = carrier.calls.length;
      const views = await trackWith(tracker, orders.slice(1));
      expect(views.map((v) => v.stale).sort()).toEqual([false, false, true]);
      expect(carrier.calls.length).toBe(calls + 2);
    } finally {
      tracker.close();
    }
  });

  it('takes the tracking API settings all together or not at all', () => {
    expect(loadConfig({}).carrierTracking).toBeNull();
    expect(() => loadConfig({ CARRIER_TRACKING_URL: 'https://poll.kuaidi100.com/poll/query.do' })).toThrow(
      ConfigError,
    );
    expect(() =>
      loadConfig({
        CARRIER_TRACKING_URL: 'ftp://x',
        CARRIER_TRACKING_CUSTOMER: 'C',
        CARRIER_TRACKING_KEY: 'k'.repeat(8),
      }),
    ).toThrow(/CARRIER_TRACKING_URL/);
  });
});

describe('the Kuaidi100 query and reply', () => {
  it('maps each event state, leaves out unknown ones, and tells nothing found from a failure and a refusal', () => {
    expect(trackingReply({ result: false, returnCode: '500', message: '查询无结果' })).toEqual({
      kind: 'events',
      events: [],
      unmapped: [],
    });
    expect(trackingReply({ result: false, returnCode: '502', message: '服务器繁忙' }).kind).toBe(
      'unavailable',
    );
    expect(trackingReply({ result: false, returnCode: '601', message: 'key已过期' }).kind).toBe('refused');
    const reply = trackingReply({
      message: 'ok',
      state: '2',
      data: [
        { time: '2026-12-01 08:00:00', status: '揽收', context: '已揽收' },
        { time: '2026-12-01 09:00:00', status: '新状态', context: '?' },
        { time: '2026-12-01 10:00:00', status: '疑难', context: '地址不详' },
      ],
    });
    expect(reply).toEqual({
      kind: 'events',
      events: [
        { status: 'PICKED_UP', description: '已揽收', occurredAt: new Date('2026-12-01T00:00:00Z') },
        { status: 'EXCEPTION', description: '地址不详', occurredAt: new Date('2026-12-01T02:00:00Z') },
      ],
      unmapped: ['新状态'],
    });
    expect(() =>
      trackingReply({ message: 'ok', data: [{ time: 'yesterday', status: '在途', context: 'x' }] }),
    ).toThrow(PayloadMappingError);
  });

  it("sends Kuaidi100's company code: the hub's short names translated, any other lower-cased", () => {
    expect(['SF', 'jd', 'ZTO', 'youzhengguonei'].map(companyCode)).toEqual([
      'shunfeng',
      'jd',
      'zhongtong',
      'youzhengguonei',
    ]);
  });
});
