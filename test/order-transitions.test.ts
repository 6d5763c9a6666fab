import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderEventType, OrderStatus, Platform } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { lockOrders, recordOrderEvents, transitionOrders } from '../services/order-transitions.js';
import type { OrderEventMessage } from '../subscriptions/order-events.js';
import { seedChannel, seedOrder } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { waitFor } from './support/wait.js';

/**
 * The order lifecycle's one table of moves, walked pair by pair through the one function
 * that moves orders: forward only (platforms may skip steps), CANCELLED only before
 * shipping, REFUNDED only after payment, nothing out of CANCELLED or REFUNDED.
 */
const S = OrderStatus;
const ALLOWED: Record<OrderStatus, OrderStatus[]> = {
  [S.PENDING_PAYMENT]: [S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED, S.CANCELLED],
  [S.PAID]: [S.PACKED, S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REFUNDED],
  [S.PACKED]: [S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REFUNDED],
  [S.SHIPPED]: [S.DELIVERED, S.REFUNDED],
  [S.DELIVERED]: [S.REFUNDED],
  [S.CANCELLED]: [],
  [S.REFUNDED]: [],
};
const STATUSES = Object.values(OrderStatus);
const PAIRS = STATUSES.flatMap((from) => STATUSES.map((to) => ({ from, to })));

interface Row {
  status: OrderStatus;
  paid_at: Date | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
}

describe('the order lifecycle table, every (from, to) pair', () => {
  let hub: TestHub;
  let channel: Channel;
  const published: OrderEventMessage[] = [];
  const sql = <T>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);
  const timeline = (id: string) =>
    sql<{ type: string; from_status: string | null; to_status: string | null; source: string }>(
      `select type, from_status, to_status, source from order_event where order_id = ? order by id`,
      [id],
    );
  const move = (id: string, to: OrderStatus) =>
    hub.orm.em.fork().transactional(async (tx) => {
      const orders = await lockOrders(tx, [id]);
      await transitionOrders(tx, orders, to, { source: 'test', detail: { reason: 'table walk' } });
    });
  const orders = new Map<string, string>();
  const key = (from: OrderStatus, to: OrderStatus) => `${from}>${to}`;

  beforeAll(async () => {
    hub = await startTestHub('order-transitions', { env: { PUBSUB: 'memory' } });
    channel = await seedChannel(hub.orm, 'tb', Platform.TAOBAO);
    for (const { from, to } of PAIRS) {
      const order = await seedOrder(hub.orm, { channel, externalId: key(from, to), status: from });
      orders.set(key(from, to), order.id);
    }
    void (async () => {
      for await (const event of hub.hub.events.subscribe('orderEvent', () => true, 100_000)) {
        if (!(event instanceof Error)) published.push(event);
      }
    })();
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the test listener');
  });

  afterAll(() => hub.close());

  it.each(PAIRS)('$from -> $to', async ({ from, to }) => {
    const id = orders.get(key(from, to))!;
    const before = await timeline(id);
    const [was] = await sql<Row>(
      `select status, paid_at, shipped_at, delivered_at from "order" where id = ?`,
      [id],
    );
    if (ALLOWED[from].includes(to)) {
      await move(id, to);
      expect(await timeline(id)).toEqual([
        ...before,
        { type: OrderEventType.STATUS_CHANGED, from_status: from, to_status: to, source: 'test' },
      ]);
      const [now] = await sql<Row>(
        `select status, paid_at, shipped_at, delivered_at from "order" where id = ?`,
        [id],
      );
      expect(now.status).toBe(to);
      // A sold order has a payment time; a parcel that left has a shipping time.
      if ([S.PAID, S.PACKED, S.SHIPPED, S.DELIVERED].includes(to)) expect(now.paid_at).not.toBeNull();
      if ([S.SHIPPED, S.DELIVERED].includes(to)) expect(now.shipped_at).not.toBeNull();
      if (to === S.DELIVERED) expect(now.delivered_at).not.toBeNull();
      if (to === S.CANCELLED) expect(now).toEqual({ ...was, status: S.CANCELLED });
    } else {
      await expect(move(id, to)).rejects.toMatchObject({
        extensions: { code: 'INVALID_TRANSITION', orderId: id, from, to },
      });
      expect(await timeline(id)).toEqual(before);
      expect(
        await sql<Row>(`select status, paid_at, shipped_at, delivered_at from "order" where id = ?`, [id]),
      ).toEqual([was]);
    }
  });

  it('published one event for each allowed move and none for a refused one', async () => {
    // A last entry, committed after every move: once it is published, so is everything before it.
    const marker = orders.get(key(S.CANCELLED, S.CANCELLED))!;
    await hub.orm.em.fork().transactional((tx) =>
      recordOrderEvents(tx, OrderEventType.HELD_BY_PLATFORM, [
        {
          orderId: marker,
          channelCode: 'tb',
          status: S.CANCELLED,
          source: 'test',
          detail: { platformStatus: 'X' },
        },
      ]),
    );
    await waitFor(
      () => published.some((e) => e.orderId === marker && e.type === 'HELD_BY_PLATFORM'),
      'the marker',
    );
    const moves = published
      .filter((e) => e.type === OrderEventType.STATUS_CHANGED && e.source === 'test')
      .map((e) => ({ orderId: e.orderId, from: e.fromStatus, to: e.toStatus }));
    const expected = PAIRS.filter(({ from, to }) => ALLOWED[from].includes(to)).map(({ from, to }) => ({
      orderId: orders.get(key(from, to))!,
      from,
      to,
    }));
    const byOrder = (a: { orderId: string }, b: { orderId: string }) => (a.orderId < b.orderId ? -1 : 1);
    expect(moves.sort(byOrder)).toEqual(expected.sort(byOrder));
  });
});
