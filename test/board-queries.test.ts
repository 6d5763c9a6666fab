import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatus, Platform } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { seedChannel } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { insertSale } from './support/sales.js';

/** What the operations board reads beside the reports: the order flow, the stuck orders, when a status began. */

const FLOW = `query ($from: DateTime!, $to: DateTime!, $channel: String, $minutes: Int) {
  orderFlow(from: $from, to: $to, channelCode: $channel, bucketMinutes: $minutes) { bucketStart channelCode orders }
}`;
const STUCK = `query ($channel: String, $statuses: [OrderStatus!], $first: Int) {
  stuckOrders(channelCode: $channel, statuses: $statuses, first: $first) { externalId status statusSince }
}`;

describe('the operations board queries', () => {
  let hub: TestHub;
  let ops: string;
  let tmall: Channel;
  let jd: Channel;

  beforeAll(async () => {
    hub = await startTestHub('board_queries');
    ops = await hub.apiKey('OPS');
    tmall = await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    jd = await seedChannel(hub.orm, 'jd', Platform.JD);
  });

  afterAll(() => hub.close());

  const query = async <T>(text: string, variables: Record<string, unknown>, key = ops) => {
    const res = await hub.gql<T>(text, variables, key);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };

  describe('orderFlow', () => {
    beforeAll(async () => {
      const sale = (channel: Channel, externalId: string, placedAt: string) =>
        insertSale(hub.orm, {
          channel,
          externalId,
          status: OrderStatus.PAID,
          placedAt,
          lines: [['A', 1, '10.00']],
        });
      await sale(tmall, 'F1', '2026-05-01T10:00:00Z');
      await sale(tmall, 'F2', '2026-05-01T10:00:59.999Z');
      await sale(tmall, 'F3', '2026-05-01T10:01:00Z');
      await sale(jd, 'F4', '2026-05-01T10:00:30Z');
      await sale(jd, 'F5', '2026-05-01T10:04:59Z');
      // A split sale counts once: its parcels are not sales.
      const split = await sale(jd, 'F6', '2026-05-01T10:02:00Z');
      for (const label of ['a', 'b']) {
        await insertSale(hub.orm, {
          channel: jd,
          externalId: `F6#${label}`,
          status: OrderStatus.PAID,
          placedAt: '2026-05-01T10:02:00Z',
          lines: [['A', 1, '5.00']],
          parentId: split,
        });
      }
      // Outside [10:00, 10:05) by a millisecond on each side.
      await sale(tmall, 'F-before', '2026-05-01T09:59:59.999Z');
      await sale(tmall, 'F-after', '2026-05-01T10:05:00Z');
    });

    const range = { from: '2026-05-01T10:00:00Z', to: '2026-05-01T10:05:00Z' };

    it('counts sales per channel and minute, oldest first, leaving out empty minutes', async () => {
      const data = await query<{ orderFlow: unknown[] }>(FLOW, range);
      expect(data.orderFlow).toEqual([
        { bucketStart: '2026-05-01T10:00:00.000Z', channelCode: 'jd', orders: 1 },
        { bucketStart: '2026-05-01T10:00:00.000Z', channelCode: 'tmall', orders: 2 },
        { bucketStart: '2026-05-01T10:01:00.000Z', channelCode: 'tmall', orders: 1 },
        { bucketStart: '2026-05-01T10:02:00.000Z', channelCode: 'jd', orders: 1 },
        { bucketStart: '2026-05-01T10:04:00.000Z', channelCode: 'jd', orders: 1 },
      ]);
    });

    it('buckets by whole multiples of bucketMinutes since the epoch, for one channel if asked', async () => {
      const wide = await query<{ orderFlow: unknown[] }>(FLOW, {
        from: '2026-05-01T09:58:00Z',
        to: '2026-05-01T10:05:00Z',
        minutes: 5,
      });
      expect(wide.orderFlow).toEqual([
        { bucketStart: '2026-05-01T09:55:00.000Z', channelCode: 'tmall', orders: 1 },
        { bucketStart: '2026-05-01T10:00:00.000Z', channelCode: 'jd', orders: 3 },
        { bucketStart: '2026-05-01T10:00:00.000Z', channelCode: 'tmall', orders: 3 },
      ]);
      const jdOnly = await query<{ orderFlow: unknown[] }>(FLOW, { ...range, minutes: 5, channel: 'jd' });
      expect(jdOnly.orderFlow).toEqual([
        { bucketStart: '2026-05-01T10:00:00.000Z', channelCode: 'jd', orders: 3 },
      ]);
    });

    it('refuses a bucket size, a range or a caller it cannot serve', async () => {
      expect(errorCodes(await hub.gql(FLOW, { ...range, minutes: 0 }, ops))).toEqual(['BAD_USER_INPUT']);
      const day = { from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:01Z' };
      expect(errorCodes(await hub.gql(FLOW, day, ops))).toEqual(['BAD_USER_INPUT']);
      expect(await query(FLOW, { ...day, minutes: 2 })).toMatchObject({ orderFlow: expect.any(Array) });
      expect(errorCodes(await hub.gql(FLOW, { ...range, channel: 'nowhere' }, ops))).toEqual(['NOT_FOUND']);
      const storefront = await hub.apiKey('STOREFRONT', 'tmall');
      expect(errorCodes(await hub.gql(FLOW, range, storefront))).toEqual(['FORBIDDEN']);
    });
  });

  describe('stuckOrders', () => {
    let hubStuck: TestHub;

    // A database of its own: the stuck list reads every unfinished order there is.
    beforeAll(async () => {
      hubStuck = await startTestHub('board_stuck');
      const shop = await seedChannel(hubStuck.orm, 'tmall', Platform.TAOBAO);
      const other = await seedChannel(hubStuck.orm, 'jd', Platform.JD);
      const put = (
        externalId: string,
        status: OrderStatus,
        times: { paid?: string; packed?: string; shipped?: string; delivered?: string } = {},
        channel = shop,
        parentId?: string,
      ) =>
        insertSale(hubStuck.orm, {
          channel,
          externalId,
          status,
          placedAt: '2026-05-01T08:00:00Z',
          lines: [['A', 1, '10.00']],
          times,
          parentId,
        });
      await put('S-pending', OrderStatus.PENDING_PAYMENT);
      await put('S-paid', OrderStatus.PAID, { paid: '2026-05-01T09:30:00Z' });
      await put('S-packed', OrderStatus.PACKED, {
        paid: '2026-05-01T08:10:00Z',
        packed: '2026-05-01T09:00:00Z',
      });
      await put('S-shipped', OrderStatus.SHIPPED, {
        paid: '2026-05-01T08:05:00Z',
        packed: '2026-05-01T08:20:00Z',
        shipped: '2026-05-01T08:30:00Z',
      });
      await put('S-done', OrderStatus.DELIVERED, {
        paid: '2026-05-01T08:01:00Z',
        shipped: '2026-05-01T08:02:00Z',
        delivered: '2026-05-01T08:03:00Z',
      });
      await put('S-cancelled', OrderStatus.CANCELLED);
      await put('J-paid', OrderStatus.PAID, { paid: '2026-05-01T09:10:00Z' }, other);
      // A split sale stays PAID while its parcels move: the parcels are what is stuck.
      const split = await put('J-split', OrderStatus.PAID, { paid: '2026-05-01T08:15:00Z' }, other);
      await put(
        'J-split#a',
        OrderStatus.PACKED,
        { paid: '2026-05-01T08:15:00Z', packed: '2026-05-01T08:40:00Z' },
        other,
        split,
      );
    });

    afterAll(() => hubStuck?.close());

    it('lists unfinished orders by how long they have been in their status, longest first', async () => {
      const key = await hubStuck.apiKey('ANALYST');
      const res = await hubStuck.gql<{ stuckOrders: unknown[] }>(STUCK, {}, key);
      expect(res.errors).toBeUndefined();
      expect(res.data!.stuckOrders).toEqual([
        { externalId: 'S-pending', status: 'PENDING_PAYMENT', statusSince: '2026-05-01T08:00:00.000Z' },
        { externalId: 'S-shipped', status: 'SHIPPED', statusSince: '2026-05-01T08:30:00.000Z' },
        { externalId: 'J-split#a', status: 'PACKED', statusSince: '2026-05-01T08:40:00.000Z' },
        { externalId: 'S-packed', status: 'PACKED', statusSince: '2026-05-01T09:00:00.000Z' },
        { externalId: 'J-paid', status: 'PAID', statusSince: '2026-05-01T09:10:00.000Z' },
        { externalId: 'S-paid', status: 'PAID', statusSince: '2026-05-01T09:30:00.000Z' },
      ]);
    });

    it('narrows by status, channel and count', async () => {
      const key = await hubStuck.apiKey('OPS');
      const ask = async (variables: Record<string, unknown>) => {
        const res = await hubStuck.gql<{ stuckOrders: { externalId: string }[] }>(STUCK, variables, key);
        expect(res.errors).toBeUndefined();
        return res.data!.stuckOrders.map((o) => o.externalId);
      };
      expect(await ask({ statuses: ['PAID', 'PACKED'] })).toEqual([
        'J-split#a',
        'S-packed',
        'J-paid',
        'S-paid',
      ]);
      expect(await ask({ channel: 'jd' })).toEqual(['J-split#a', 'J-paid']);
      expect(await ask({ first: 2 })).toEqual(['S-pending', 'S-shipped']);
    });

    it('refuses finished statuses and callers outside operations', async () => {
      const key = await hubStuck.apiKey('OPS');
      expect(errorCodes(await hubStuck.gql(STUCK, { statuses: ['DELIVERED'] }, key))).toEqual([
        'BAD_USER_INPUT',
      ]);
      expect(errorCodes(await hubStuck.gql(STUCK, { channel: 'nowhere' }, key))).toEqual(['NOT_FOUND']);
      const storefront = await hubStuck.apiKey('STOREFRONT', 'tmall');
      expect(errorCodes(await hubStuck.gql(STUCK, {}, storefront))).toEqual(['FORBIDDEN']);
    });
  });

  it("a cancelled order's status began when the timeline moved it there; each event names its channel", async () => {
    const id = await insertSale(hub.orm, {
      channel: tmall,
      externalId: 'C1',
      status: OrderStatus.PAID,
      placedAt: '2026-05-02T08:00:00Z',
      lines: [['A', 1, '10.00']],
      times: { paid: '2026-05-02T08:01:00Z' },
    });
    const cancelled = await hub.gql<{ cancelOrder: { status: string } }>(
      `mutation ($id: ID!) { cancelOrder(orderId: $id, reason: "customer asked") { status } }`,
      { id },
      ops,
    );
    expect(cancelled.errors).toBeUndefined();
    const data = await query<{
      order: {
        status: string;
        statusSince: string;
        timeline: { type: string; toStatus: string; at: string; channelCode: string }[];
      };
    }>(
      `query ($id: ID!) { order(id: $id) { status statusSince timeline { type toStatus at channelCode } } }`,
      { id },
    );
    const move = data.order.timeline.find((e) => e.toStatus === 'CANCELLED');
    expect(data.order.status).toBe('CANCELLED');
    expect(move?.channelCode).toBe('tmall');
    expect(data.order.statusSince).toBe(move?.at);
  });
});
