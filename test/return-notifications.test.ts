import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatus, Platform, RefundStatus } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, wsExecute, type TestHub } from './support/hub.js';
import { RETURN_FIELDS, storefrontOrder, storefrontRefund } from './support/after-sale.js';
import { changeCase, openCase } from './support/return-events.js';
import { feed, type Feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

// The world hears of after-sale cases through the orders' RETURN_UPDATED timeline entries: subscribers of
// returnUpdated get the case after each change, on any hub process; merchants' endpoints subscribed to
// return.updated get one signed delivery per change.

const RETURN_UPDATED = `subscription ($orderId: ID, $channelCode: String, $after: ID) {
  returnUpdated(orderId: $orderId, channelCode: $channelCode, after: $after) {
    id refundId externalId kind status platformStatus reasonClass requestedAt
  }
}`;
const ORDER_EVENTS = `subscription ($orderId: ID, $after: ID) {
  orderStatusChanged(orderId: $orderId, after: $after) { seq type fromStatus toStatus }
}`;
const PACKED = `mutation ($id: ID!) { markPacked(orderId: $id) { id } }`;
const SHIP = `mutation ($id: ID!, $t: String!) { shipOrder(orderId: $id, carrier: "SF", trackingNumber: $t) { id } }`;
const CREATE_ENDPOINT = `mutation ($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id events } }
}`;

interface Case {
  id: string;
  refundId: string;
  externalId: string;
  kind: string;
  status: string;
  platformStatus: string;
  reasonClass: string;
  requestedAt: string;
}

describe('returnUpdated and the return.updated webhook', () => {
  let hub: TestHub;
  let tmall: Channel;
  let shop: Channel;
  let n = 0;
  const keys: Record<string, string> = {};
  const receivers: WebhookReceiver[] = [];
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const order = async (channel: Channel) =>
    (await seedOrder(hub.orm, { channel, externalId: `RN-${++n}` })).id;
  const refundId = () => `RF-${++n}`;
  /** Subscribes on `on` and waits until that hub's bus has the new subscriber. */
  const subscribe = async (
    on: TestHub,
    key: string,
    variables: Record<string, unknown>,
  ): Promise<Feed<Case>> => {
    const before = on.hub.events.listenerCount('orderEvent');
    const f = feed<Case>(on.wsClient(key), RETURN_UPDATED, 'returnUpdated', variables);
    await waitFor(
      () => on.hub.events.listenerCount('orderEvent') > before || f.errors.length > 0,
      'the subscriber',
    );
    expect(f.errors).toEqual([]);
    return f;
  };
  const lastSeq = async () => {
    await sql('select 1 from hub_number_order_events()');
    const [row] = await sql<{ seq: string | null }>('select max(seq)::text as seq from order_event');
    return row.seq ?? '0';
  };

  beforeAll(async () => {
    hub = await startTestHub('return-notifications', {
      env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '20ms,40ms,60ms' },
      webhooks: { pollIntervalMs: 50, sweepIntervalMs: 1000 },
    });
    tmall = await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    shop = await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    keys.OPS = await hub.apiKey('OPS');
    keys.SHOP = await hub.apiKey('STOREFRONT', 'shop');
    await seedProduct(hub.orm, 'RN-MUG', 10);
  });
  afterAll(async () => {
    await hub?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("pushes each change of the watched orders' cases in order, the case as it stands, nothing else", async () => {
    const [a, b, c] = [await order(tmall), await order(tmall), await order(shop)];
    const ofA = await subscribe(hub, keys.OPS, { orderId: a });
    const ofTmall = await subscribe(hub, keys.OPS, { channelCode: 'tmall' });

    const caseOfA = await openCase(hub.orm, {
      orderId: a,
      refundId: 'RF-A',
      platformStatus: 'WAIT_SELLER_AGREE',
    });
    expect(await ofA.take(1)).toEqual([
      {
        id: caseOfA,
        refundId: 'RF-A',
        externalId: expect.stringMatching(/^RN-/),
        kind: 'RETURN_AND_REFUND',
        status: 'REQUESTED',
        platformStatus: 'WAIT_SELLER_AGREE',
        reasonClass: 'QUALITY',
        requestedAt: expect.any(String),
      },
    ]);
    const caseOfB = await openCase(hub.orm, { orderId: b, refundId: refundId() });
    await openCase(hub.orm, { orderId: c, refundId: refundId() }); // another channel's
    expect((await hub.gql(PACKED, { id: a })).errors).toBeUndefined(); // an order event, not a case's
    await changeCase(hub.orm, caseOfA, {
      status: RefundStatus.APPROVED,
      platformStatus: 'WAIT_BUYER_RETURN_GOODS',
    });
    await ofA.take(2);
    await changeCase(hub.orm, caseOfA, { status: RefundStatus.REFUNDED, platformStatus: 'SUCCESS' });

    // Delivered in seq order: once the last change is in, anything else that passed a filter would be too.
    const got = await ofA.take(3);
    expect(got.map((e) => [e.id, e.status, e.platformStatus])).toEqual([
      [caseOfA, 'REQUESTED', 'WAIT_SELLER_AGREE'],
      [caseOfA, 'APPROVED', 'WAIT_BUYER_RETURN_GOODS'],
      [caseOfA, 'REFUNDED', 'SUCCESS'],
    ]);
    expect(ofA.events).toHaveLength(3);
    await ofTmall.take(4);
    expect(ofTmall.events.map((e) => [e.id, e.status])).toEqual([
      [caseOfA, 'REQUESTED'],
      [caseOfB, 'REQUESTED'],
      [caseOfA, 'APPROVED'],
      [caseOfA, 'REFUNDED'],
    ]);
  });

  it('replays from `after`, then goes on live, each change once', async () => {
    const id = await order(tmall);
    const before = await lastSeq();
    const caseId = await openCase(hub.orm, { orderId: id, refundId: refundId() });
    await changeCase(hub.orm, caseId, { status: RefundStatus.APPROVED });
    const replayed = feed<Case>(hub.wsClient(keys.OPS), RETURN_UPDATED, 'returnUpdated', {
      orderId: id,
      after: before,
    });
    // Replayed entries show the case as it stands now: both changes are in the past.
    expect((await replayed.take(2)).map((e) => e.status)).toEqual(['APPROVED', 'APPROVED']);
    await changeCase(hub.orm, caseId, { status: RefundStatus.REJECTED });
    expect((await replayed.take(3)).map((e) => e.status)).toEqual(['APPROVED', 'APPROVED', 'REJECTED']);
    expect(replayed.events).toHaveLength(3);
  });

  it("resumes from a message's updateSeq: the changes after it, each once; a read of the case gives the same seq", async () => {
    const id = await order(tmall);
    const caseId = await openCase(hub.orm, { orderId: id, refundId: refundId() });
    const withSeq = RETURN_UPDATED.replace('requestedAt', 'requestedAt updateSeq');
    const first = feed<Case & { updateSeq: string }>(hub.wsClient(keys.OPS), withSeq, 'returnUpdated', {
      orderId: id,
      after: '0',
    });
    const [opened] = await first.take(1);
    await changeCase(hub.orm, caseId, { status: RefundStatus.APPROVED });
    const [approved] = (await first.take(2)).slice(1);
    // Each message names the entry that sent it, even when replayed after later changes.
    expect(BigInt(approved.updateSeq)).toBeGreaterThan(BigInt(opened.updateSeq));

    await changeCase(hub.orm, caseId, { status: RefundStatus.REFUNDED, platformStatus: 'SUCCESS' });
    const resumed = feed<Case & { updateSeq: string }>(hub.wsClient(keys.OPS), withSeq, 'returnUpdated', {
      orderId: id,
      after: approved.updateSeq,
    });
    const [refunded] = await resumed.take(1);
    expect(refunded.status).toBe('REFUNDED');
    const read = await hub.gql<{ return: { updateSeq: string } }>(
      `query ($id: ID!) { return(id: $id) { updateSeq } }`,
      { id: caseId },
    );
    expect(read.data?.return.updateSeq).toBe(refunded.updateSeq);
    // Then live: the next change only, nothing from before the seq resumed from.
    await changeCase(hub.orm, caseId, { status: RefundStatus.REFUNDED, refundAmount: '10.00' });
    const [, corrected] = await resumed.take(2);
    expect(BigInt(corrected.updateSeq)).toBeGreaterThan(BigInt(refunded.updateSeq));
    expect(resumed.events).toHaveLength(2);
  });

  it("shows orderStatusChanged subscribers a case's change as an entry about no status, like a parcel's news", async () => {
    const id = await order(tmall);
    const events = feed<{ type: string; fromStatus: string | null; toStatus: string | null }>(
      hub.wsClient(keys.OPS),
      ORDER_EVENTS,
      'orderStatusChanged',
      { orderId: id, after: await lastSeq() },
    );
    await openCase(hub.orm, { orderId: id, refundId: refundId() });
    expect(await events.take(1)).toEqual([
      expect.objectContaining({ type: 'RETURN_UPDATED', fromStatus: null, toStatus: null }),
    ]);
  });

  it('carries a case stored by the gateway whole: its channel, order, lines, money and timeline', async () => {
    const externalId = `RN-GW-${++n}`;
    const ingested = await hub.gql<{ ingestChannelOrder: { id: string } }>(
      `mutation ($p: JSON!) { ingestChannelOrder(channelCode: "shop", payload: $p) { id } }`,
      { p: storefrontOrder(externalId, [{ productCode: 'RN-MUG', quantity: 2, unitPrice: '30.00' }]) },
    );
    expect(ingested.errors).toBeUndefined();
    const orderId = ingested.data!.ingestChannelOrder.id;
    const listening = hub.hub.events.listenerCount('orderEvent');
    const whole = feed<any>(
      hub.wsClient(keys.OPS),
      `subscription ($orderId: ID) { returnUpdated(orderId: $orderId) { ${RETURN_FIELDS} channel { code } } }`,
      'returnUpdated',
      { orderId },
    );
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > listening, 'the subscriber');
    const refund = (status: string, minute: number) =>
      hub.gql(`mutation ($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id } }`, {
        p: storefrontRefund(`RF-GW-${externalId}`, externalId, {
          kind: 'REFUND_ONLY',
          status,
          lines: [{ productCode: 'RN-MUG', quantity: 1 }],
          amount: '30.00',
          minute,
        }),
      });
    expect((await refund('REQUESTED', 1)).errors).toBeUndefined();
    expect((await refund('REFUNDED', 2)).errors).toBeUndefined();
    const [requested, refunded] = await whole.take(2);
    expect(requested).toMatchObject({
      channel: { code: 'shop' },
      refundId: `RF-GW-${externalId}`,
      order: { id: orderId, externalId },
      lines: [{ quantity: 1, orderLine: { productCode: 'RN-MUG' } }],
      refundAmount: { amount: '30.00', currencyCode: 'CNY' },
    });
    // The case as it stands when the message goes out: the second change may already show in the first.
    expect(['REQUESTED', 'REFUNDED']).toContain(requested.status);
    expect(refunded).toMatchObject({
      status: 'REFUNDED',
      order: { status: 'PAID', refundedAmount: { amount: '30.00' } },
      lines: [{ orderLine: { refundedQuantity: 1 } }],
      timeline: [
        { fromStatus: null, toStatus: 'REQUESTED' },
        { fromStatus: 'REQUESTED', toStatus: 'REFUNDED' },
      ],
    });
  });

  it("keeps a channel's key to its own channel: others' cases filtered out, asking for them FORBIDDEN", async () => {
    const theirs = await order(tmall);
    const own = await order(shop);
    const mine = await subscribe(hub, keys.SHOP, {});
    await openCase(hub.orm, { orderId: theirs, refundId: refundId() });
    const ownCase = await openCase(hub.orm, { orderId: own, refundId: refundId() });
    expect((await mine.take(1)).map((e) => e.id)).toEqual([ownCase]);
    expect(mine.events).toHaveLength(1);

    const client = hub.wsClient(keys.SHOP);
    expect(errorCodes(await wsExecute(client, RETURN_UPDATED, { channelCode: 'tmall' }))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await wsExecute(client, RETURN_UPDATED, { orderId: theirs }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await wsExecute(client, RETURN_UPDATED, { after: 'last' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    await client.dispose();
  });

  it('reaches a subscriber on another hub process than the one that committed the change', async () => {
    const other = await startTestHub('return-notifications-b', {
      database: { url: hub.database.url, drop: async () => {} },
    });
    try {
      const id = await order(tmall);
      const there = await subscribe(other, await other.apiKey('OPS'), { orderId: id });
      const caseId = await openCase(hub.orm, { orderId: id, refundId: refundId() });
      expect((await there.take(1)).map((e) => [e.id, e.status])).toEqual([[caseId, 'REQUESTED']]);
    } finally {
      await other.close();
    }
  });

  it('sends return.updated, signed, once per change, with the case and the order; not to other endpoints', async () => {
    const endpoint = async (events: string[]) => {
      const receiver = await startWebhookReceiver();
      receivers.push(receiver);
      const made = await hub.gql<{
        createWebhookEndpoint: { secret: string; endpoint: { events: string[] } };
      }>(CREATE_ENDPOINT, { input: { url: receiver.url, events } });
      expect(made.errors).toBeUndefined();
      expect(made.data!.createWebhookEndpoint.endpoint.events).toEqual(events);
      receiver.secrets.push(made.data!.createWebhookEndpoint.secret);
      return receiver;
    };
    const returns = await endpoint(['RETURN_UPDATED']);
    const statuses = await endpoint(['ORDER_STATUS_CHANGED']);
    const id = await order(tmall);
    const requestedAt = new Date('2026-12-01T08:30:00.000Z');
    const caseId = await openCase(hub.orm, {
      orderId: id,
      refundId: 'RF-HOOK',
      refundAmount: '99.90',
      platformStatus: 'WAIT_SELLER_AGREE',
      requestedAt,
    });
    await changeCase(hub.orm, caseId, {
      status: RefundStatus.RETURN_IN_TRANSIT,
      platformStatus: 'WAIT_SELLER_CONFIRM_GOODS',
      returnTrackingNumber: 'SF-BACK-1',
    });
    const refundedAt = new Date('2026-12-03T10:00:00.000Z');
    await changeCase(hub.orm, caseId, {
      status: RefundStatus.REFUNDED,
      platformStatus: 'SUCCESS',
      refundedAt,
    });
    const ofOrder = (r: WebhookReceiver) => r.accepted().filter((m) => m.payload.data.order?.id === id);
    await waitFor(() => ofOrder(returns).length >= 3, 'three return.updated deliveries');
    // Moved only now, so every case's delivery rendered the order as PAID. The status endpoint's line for this
    // order: its move arrives after any earlier delivery of that line.
    expect((await hub.gql(PACKED, { id })).errors).toBeUndefined();
    await waitFor(
      () => ofOrder(statuses).some((m) => m.payload.data.event.toStatus === 'PACKED'),
      'the move to PACKED',
    );
    // Its seeded move to PAID, then PACKED: the cases' changes in between were not its to hear.
    expect(ofOrder(statuses).map((m) => [m.type, m.payload.data.event.toStatus])).toEqual([
      ['order.status_changed', 'PAID'],
      ['order.status_changed', 'PACKED'],
    ]);

    const sent = ofOrder(returns);
    expect(sent).toHaveLength(3);
    const seqs = await sql<{ seq: string }>(
      `select seq::text as seq from order_event e where order_id = ? and type = 'RETURN_UPDATED' order by e.seq`,
      [id],
    );
    expect(sent.map((m) => [m.type, m.id, m.verifiedBy])).toEqual(
      seqs.map(({ seq }) => ['return.updated', `msg_order_${seq}`, [0]]),
    );
    const [first, inTransit, refunded] = sent.map((m) => m.payload.data);
    expect(first.event).toMatchObject({
      type: 'RETURN_UPDATED',
      fromStatus: null,
      toStatus: null,
      source: 'tmall',
    });
    expect(first.order).toMatchObject({ id, status: 'PAID', channel: { code: 'tmall' } });
    // Rendered at the first attempt: status and money as the change left them, the rest as the row stood then.
    expect(first.return).toEqual({
      id: caseId,
      refundId: 'RF-HOOK',
      kind: 'RETURN_AND_REFUND',
      status: 'REQUESTED',
      fromStatus: null,
      platformStatus: 'WAIT_SELLER_AGREE',
      refundAmount: { amount: '99.90', currencyCode: 'CNY' },
      reasonClass: 'QUALITY',
      responsible: 'MERCHANT',
      returnTrackingNumber: expect.toBeOneOf([null, 'SF-BACK-1']),
      requestedAt: requestedAt.toISOString(),
      refundedAt: expect.toBeOneOf([null, refundedAt.toISOString()]),
    });
    expect(inTransit.return).toMatchObject({
      status: 'RETURN_IN_TRANSIT',
      fromStatus: 'REQUESTED',
      platformStatus: 'WAIT_SELLER_CONFIRM_GOODS',
      returnTrackingNumber: 'SF-BACK-1',
    });
    expect(refunded.return).toMatchObject({
      status: 'REFUNDED',
      fromStatus: 'RETURN_IN_TRANSIT',
      platformStatus: 'SUCCESS',
      returnTrackingNumber: 'SF-BACK-1',
      refundedAt: refundedAt.toISOString(),
    });
    const [{ count }] = await sql<{ count: string }>(
      `select count(*)::text as count from outbound_delivery where order_id = ? and event_type = 'return.updated'`,
      [id],
    );
    expect(count).toBe('3');
  });

  it('tells the customer nothing: the entry of a case is no step of the order, whatever status it shows', async () => {
    // Seeded before the template exists, so its own history (a move to SHIPPED) tells no one.
    const returned = (
      await seedOrder(hub.orm, { channel: shop, externalId: `RN-${++n}`, status: OrderStatus.SHIPPED })
    ).id;
    await sql(
      `insert into notice_template (channel_id, step, provider, template_code, params)
       select id, 'SHIPPED', 'SMS', 'SMS_SHOP_SHIPPED', '{}' from channel where code = 'shop'`,
    );
    const notices = async (orderId: string) =>
      (await sql<{ step: string }>(`select step from notice where order_id = ?`, [orderId])).map(
        (r) => r.step,
      );
    const shipped = await order(shop);
    for (const move of [PACKED, SHIP])
      expect((await hub.gql(move, { id: shipped, t: `SF-${n}` })).errors).toBeUndefined();
    expect(await notices(shipped)).toEqual(['SHIPPED']); // the template is in place: a real step is told

    await openCase(hub.orm, { orderId: returned, refundId: refundId() }); // an entry showing SHIPPED to SHIPPED
    expect(await notices(returned)).toEqual([]);
  });
});
