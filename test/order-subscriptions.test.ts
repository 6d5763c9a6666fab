import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Platform } from '../common/enums.js';
import { loadConfig } from '../server/config.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { WebSocket } from 'ws';
import { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from '../subscriptions/fanout.js';
import { ADMIN_KEY, errorCodes, startTestHub, wsExecute, type TestHub } from './support/hub.js';
import { graphql, startHubProcess } from './support/hub-process.js';
import { feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

const ORDER_EVENTS = `subscription ($orderId: ID, $channelCode: String, $after: ID) {
  orderStatusChanged(orderId: $orderId, channelCode: $channelCode, after: $after) {
    seq orderId type fromStatus toStatus source at
  }
}`;
const SHIPMENTS = `subscription ($orderId: ID, $trackingNumber: String) {
  shipmentUpdated(orderId: $orderId, trackingNumber: $trackingNumber) {
    id carrier trackingNumber status events { status description occurredAt } updatedAt
  }
}`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const PAID = `mutation ($id: ID!) { markPaid(orderId: $id) { id } }`;
const PACKED = `mutation ($id: ID!) { markPacked(orderId: $id) { id } }`;
const SHIP = `mutation ($id: ID!, $t: String!) { shipOrder(orderId: $id, carrier: "SF", trackingNumber: $t) { id } }`;
const TRACK = `mutation ($t: String!, $s: ShipmentStatus!, $d: String) {
  recordShipmentEvent(trackingNumber: $t, status: $s, description: $d) { id }
}`;

interface Event {
  seq: string;
  orderId: string;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  source: string;
}

describe('orderStatusChanged and shipmentUpdated: after commit, filtered, replayable', () => {
  let hub: TestHub;
  let n = 0;
  const keys: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const orderInput = (channelCode: string) => ({
    input: {
      channelCode,
      externalId: `OS-${++n}`,
      customerName: 'Ada',
      shippingAddress: { line1: '1 Road' },
      lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
    },
  });
  const place = async (channelCode = 'web') => {
    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, orderInput(channelCode));
    expect(placed.errors).toBeUndefined();
    return placed.data!.placeOrder.id;
  };
  const move = async (query: string, variables: Record<string, unknown>) => {
    const result = await hub.gql(query, variables);
    expect(result.errors).toBeUndefined();
  };
  /** The committed, numbered events of these orders, in seq order, as subscribers must see them. */
  const committed = async (orderIds: string[]) => {
    await sql('select 1 from hub_number_order_events()');
    return sql<Event>(
      `select seq::text as seq, order_id as "orderId", type, from_status as "fromStatus", to_status as "toStatus", source
       from order_event e where order_id = any(string_to_array(?, ',')::uuid[]) order by e.seq`,
      [orderIds.join(',')],
    );
  };
  /** Watches one order from now on: `after` its last committed event, so nothing earlier leaks in. */
  const watch = async (client: ReturnType<TestHub['wsClient']>, orderId: string) => {
    const history = await committed([orderId]);
    const after = history.length ? history[history.length - 1].seq : '0';
    return feed<Event>(client, ORDER_EVENTS, 'orderStatusChanged', { orderId, after });
  };
  const strip = (events: (Event & { at?: string })[]) => events.map(({ at: _at, ...rest }) => rest);

  beforeAll(async () => {
    hub = await startTestHub('order-subscriptions');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100_000);
    keys.OPS = await hub.apiKey('OPS');
    keys.WEB = await hub.apiKey('STOREFRONT', 'web');
    keys.SHOP = await hub.apiKey('STOREFRONT', 'shop');
  });
  afterAll(() => hub.close());

  it('pushes every committed status change of the watched orders in seq order, nothing else', async () => {
    const client = hub.wsClient(keys.OPS);
    const id = await place();
    const watched = await watch(client, id);
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
    await place(); // another order: filtered out on the server
    await move(PAID, { id });
    expect(errorCodes(await hub.gql(PAID, { id }))).toEqual(['INVALID_TRANSITION']); // changes nothing
    await move(PACKED, { id });
    await move(SHIP, { id, t: `SF-${n}` });
    const got = await watched.take(4);
    expect(got.map((e) => [e.type, e.fromStatus, e.toStatus, e.source])).toEqual([
      ['STATUS_CHANGED', 'PENDING_PAYMENT', 'PAID', 'api'],
      ['STATUS_CHANGED', 'PAID', 'PACKED', 'api'],
      ['STATUS_CHANGED', 'PACKED', 'SHIPPED', 'logistics'],
      ['SHIPMENT_UPDATED', null, null, 'logistics'],
    ]);
    expect(strip(got)).toEqual((await committed([id])).slice(1));
    watched.stop();
    await client.dispose();
  });

  it('keeps a STOREFRONT key to its own channel: others are filtered out, asking for them is FORBIDDEN', async () => {
    const client = hub.wsClient(keys.WEB);
    const mine = feed<Event>(client, ORDER_EVENTS, 'orderStatusChanged', {});
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
    const theirs = await place('shop');
    await move(PAID, { id: theirs });
    const own = await place('web');
    await move(PAID, { id: own });
    await waitFor(() => mine.events.some((e) => e.orderId === own && e.toStatus === 'PAID'), 'own event');
    expect(mine.events.every((e) => e.orderId !== theirs)).toBe(true);

    expect(errorCodes(await wsExecute(client, ORDER_EVENTS, { orderId: theirs }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await wsExecute(client, ORDER_EVENTS, { channelCode: 'shop' }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await wsExecute(client, SHIPMENTS, { orderId: theirs }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await wsExecute(client, ORDER_EVENTS, { after: 'x' }))).toEqual(['BAD_USER_INPUT']);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect(errorCodes(await wsExecute(client, ORDER_EVENTS, { orderId: missing }))).toEqual(['NOT_FOUND']);
    mine.stop();
    await client.dispose();
  });

  it('resumes with `after` from the last seq seen: received equals committed, no gap, no duplicate', async () => {
    const shopEvents = async () =>
      committed(
        (
          await sql<{ id: string }>(
            `select o.id from "order" o join channel c on c.id = o.channel_id where c.code = 'shop'`,
          )
        ).map((o) => o.id),
      );
    const orders = await Promise.all([1, 2, 3].map(() => place('shop')));
    const first = hub.wsClient(keys.SHOP);
    const before = feed<Event>(first, ORDER_EVENTS, 'orderStatusChanged', { after: '0' });
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');

    // Changes keep being committed while the client drops and comes back.
    const steps = orders.flatMap((id, i) => [
      [PAID, { id }],
      [PACKED, { id }],
      [SHIP, { id, t: `RS-${n}-${i}` }],
    ]) as [string, Record<string, unknown>][];
    const writer = (async () => {
      for (const [query, variables] of steps) await move(query, variables);
    })();
    await before.take(2);
    before.stop();
    await first.dispose();
    const lastSeen = before.events[before.events.length - 1].seq;

    await writer;
    const expected = await shopEvents();
    const second = hub.wsClient(keys.SHOP);
    const after = feed<Event>(second, ORDER_EVENTS, 'orderStatusChanged', {
      channelCode: 'shop',
      after: lastSeen,
    });
    const rest = expected.filter((e) => BigInt(e.seq) > BigInt(lastSeen));
    await after.take(rest.length);
    // Changes after the replay arrive live, exactly once.
    await move(`mutation ($id: ID!) { cancelOrder(orderId: $id, reason: "late") { id } }`, {
      id: await place('shop'),
    });
    await after.take(rest.length + 2);
    expect(strip([...before.events, ...after.events])).toEqual(await shopEvents());
    after.stop();
    await second.dispose();
  });

  it('numbers events in commit order: a transaction that started first but commits last comes after', async () => {
    const id = await place();
    const client = hub.wsClient(keys.OPS);
    const live = await watch(client, id);
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
    const early = new pg.Client({ connectionString: hub.database.url });
    await early.connect();
    try {
      const insert = `insert into order_event (order_id, channel_code, type, source) values ($1, 'web', $2, 'system')`;
      await early.query('begin');
      await early.query(insert, [id, 'EARLY']); // takes the lower internal id
      await sql(
        `insert into order_event (order_id, channel_code, type, source) values (?, 'web', 'LATE', 'system')`,
        [id],
      );
      const [late] = await live.take(1);
      expect(late.type).toBe('LATE');
      await early.query('commit');
      const [, earlyEvent] = await live.take(2);
      expect(earlyEvent.type).toBe('EARLY');
      expect(BigInt(earlyEvent.seq)).toBe(BigInt(late.seq) + 1n);
    } finally {
      await early.end();
      live.stop();
      await client.dispose();
    }
  });

  it('never sends an event whose change rolled back', async () => {
    const id = await place();
    const client = hub.wsClient(keys.OPS);
    const live = await watch(client, id);
    await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
    await hub.orm.em
      .fork()
      .transactional(async (tx) => {
        await tx.execute(
          `insert into order_event (order_id, channel_code, type, source) values (?, 'web', 'GHOST', 'api')`,
          [id],
        );
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await move(PAID, { id });
    const [only] = await live.take(1);
    expect(only.toStatus).toBe('PAID');
    expect(await sql(`select count(*)::int as n from order_event where type = 'GHOST'`)).toEqual([{ n: 0 }]);
    live.stop();
    await client.dispose();
  });

  it('pushes shipment updates to the watchers of that parcel, with its tracking history', async () => {
    const id = await place();
    await move(PAID, { id });
    const client = hub.wsClient(keys.WEB);
    const parcel = `SU-${n}`;
    const updates = feed<Record<string, any>>(client, SHIPMENTS, 'shipmentUpdated', {
      trackingNumber: parcel,
    });
    await waitFor(() => hub.hub.events.listenerCount('shipmentUpdated') > 0, 'the subscription');
    await move(SHIP, { id, t: parcel });
    await move(TRACK, { t: parcel, s: 'PICKED_UP', d: 'Shenzhen hub' });
    await move(TRACK, { t: parcel, s: 'DELIVERED', d: null });
    const got = await updates.take(3);
    expect(got.map((s) => s.status)).toEqual(['LABEL_CREATED', 'PICKED_UP', 'DELIVERED']);
    expect(got[2].events.map((e: { status: string }) => e.status)).toEqual(['PICKED_UP', 'DELIVERED']);
    expect(got[2]).toMatchObject({ carrier: 'SF', trackingNumber: parcel });
    updates.stop();
    await client.dispose();
  });

  it('sends each shipment update as the parcel stood then, even when several are published together', async () => {
    const id = await place();
    await move(PAID, { id });
    const parcel = `SU-BATCH-${n}`;
    const client = hub.wsClient(keys.WEB);
    const updates = feed<Record<string, any>>(client, SHIPMENTS, 'shipmentUpdated', {
      trackingNumber: parcel,
    });
    await waitFor(() => hub.hub.events.listenerCount('shipmentUpdated') > 0, 'the subscription');
    await move(SHIP, { id, t: parcel });
    expect((await updates.take(1)).map((s) => s.status)).toEqual(['LABEL_CREATED']);
    // Numbering waits while another session holds its lock, so both updates are published in one batch.
    const holder = new pg.Client({ connectionString: hub.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtext('order-hub:order_event.seq'))`);
      await move(TRACK, { t: parcel, s: 'PICKED_UP', d: 'Shenzhen hub' });
      await move(TRACK, { t: parcel, s: 'DELIVERED', d: null });
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    const got = (await updates.take(3)).slice(1);
    expect(got.map((s) => [s.status, s.events.map((e: { status: string }) => e.status)])).toEqual([
      ['PICKED_UP', ['PICKED_UP']],
      ['DELIVERED', ['PICKED_UP', 'DELIVERED']],
    ]);
    updates.stop();
    await client.dispose();
  });

  it('delivers what another hub process commits, to subscribers of this one', async () => {
    const other = await startHubProcess(hub.database.url, { HOST: '127.0.0.1', SWEEP_INTERVAL_SECONDS: '0' });
    const client = hub.wsClient(keys.OPS);
    try {
      const placed = (await graphql(other.base, other.adminKey, PLACE, orderInput('web'))) as {
        placeOrder: { id: string };
      };
      const id = placed.placeOrder.id;
      const live = await watch(client, id);
      await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
      await graphql(other.base, other.adminKey, PAID, { id });
      expect((await live.take(1))[0]).toMatchObject({ orderId: id, toStatus: 'PAID' });
      live.stop();
    } finally {
      await client.dispose();
      await other.stop();
    }
  }, 180_000);
});

describe.skipIf(!process.env.REDIS_URL)('PUBSUB=redis (REDIS_URL set)', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('order-subscriptions-redis', {
      env: { PUBSUB: 'redis', REDIS_URL: process.env.REDIS_URL! },
    });
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100);
  });
  afterAll(() => hub?.close());

  it('fans out through Redis: a change on another process reaches this one, in order, once', async () => {
    const other = await startHubProcess(hub.database.url, {
      HOST: '127.0.0.1',
      SWEEP_INTERVAL_SECONDS: '0',
      PUBSUB: 'redis',
      REDIS_URL: process.env.REDIS_URL!,
    });
    const client = hub.wsClient();
    const heard: string[] = [];
    const listener = createClient({ url: process.env.REDIS_URL });
    await listener.connect();
    await listener.subscribe(`order-hub:${new URL(hub.database.url).pathname.slice(1)}:order-events`, (m) =>
      heard.push(m),
    );
    try {
      const remote = (q: string, v: Record<string, unknown>) => graphql(other.base, other.adminKey, q, v);
      const live = feed<Event>(client, ORDER_EVENTS, 'orderStatusChanged', { channelCode: 'web' });
      await waitFor(() => hub.hub.events.listenerCount('orderEvent') > 0, 'the subscription');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const placed = await remote(PLACE, {
          input: {
            channelCode: 'web',
            externalId: `RD-${i}`,
            customerName: 'Ada',
            shippingAddress: { line1: '1 Road' },
            lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
          },
        });
        const id = (placed as { placeOrder: { id: string } }).placeOrder.id;
        ids.push(id);
        await remote(PAID, { id });
      }
      const got = await live.take(10);
      const seqs = got.map((e) => BigInt(e.seq));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
      expect(new Set(seqs).size).toBe(10);
      expect(got.filter((e) => e.toStatus === 'PAID').map((e) => e.orderId)).toEqual(ids);
      await waitFor(() => heard.length > 0, 'a message on the Redis channel');
      // Each message is `<HMAC>.<JSON>`: the events after the signature.
      const events = heard.flatMap((m) => JSON.parse(m.slice(m.indexOf('.') + 1)) as Event[]);
      expect(events.every((e) => typeof e.seq === 'string')).toBe(true);
      live.stop();
    } finally {
      await client.dispose();
      await other.stop();
      await listener.close();
    }
  }, 180_000);
});

describe('fan-out (on PUBSUB=memory): identical subscriptions share one execution, a slow reader is cut off alone', () => {
  let hub: TestHub;
  /** What the hub logs at error level or above. */
  const errorLines: string[] = [];
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  beforeAll(async () => {
    hub = await startTestHub('order-fanout', {
      env: { SUBSCRIBER_MAX_QUEUE: '50', PUBSUB: 'memory', LOG_LEVEL: 'error' },
      logLines: errorLines,
    });
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100);
  });
  afterAll(() => hub.close());

  const place = async (externalId: string) => {
    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode: 'web',
        externalId,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
      },
    });
    return placed.data!.placeOrder.id;
  };

  it('runs one source stream per distinct selection and scope, and one per replaying subscriber', async () => {
    const ops = await hub.apiKey('OPS');
    const web = await hub.apiKey('STOREFRONT', 'web');
    const clients = Array.from({ length: 20 }, () => hub.wsClient(ops));
    const feeds = clients.map((c) =>
      feed<Event>(c, ORDER_EVENTS, 'orderStatusChanged', { channelCode: 'web' }),
    );
    const storefront = hub.wsClient(web);
    const scoped = feed<Event>(storefront, ORDER_EVENTS, 'orderStatusChanged', { channelCode: 'web' });
    const replaying = feed<Event>(storefront, ORDER_EVENTS, 'orderStatusChanged', { after: '0' });
    await waitFor(() => hub.hub.fanout.stats().subscribers === 22, 'every subscriber');
    expect(hub.hub.fanout.stats()).toEqual({ groups: 3, subscribers: 22 });

    const id = await place('FO-1');
    await hub.gql(PAID, { id });
    for (const f of [...feeds, scoped]) {
      const got = await f.take(2);
      expect(got.map((e) => e.toStatus)).toEqual(['PENDING_PAYMENT', 'PAID']);
    }
    await replaying.take(2);
    expect(feeds.every((f) => f.events.length === 2)).toBe(true);
    await Promise.all([...clients, storefront].map((c) => c.dispose()));
    await waitFor(() => hub.hub.fanout.stats().groups === 0, 'the groups to close');
  });

  it('disconnects a subscriber that stops reading with a clear close reason; the others get everything', async () => {
    const id = await place('FO-SLOW');
    const healthy = hub.wsClient();
    const fast = feed<Event>(healthy, ORDER_EVENTS, 'orderStatusChanged', { orderId: id });

    // A raw graphql-ws client that stops reading its socket after the first message.
    const slow = new WebSocket(hub.wsUrl, 'graphql-transport-ws');
    // Closed whatever happens, so a failure here leaves no subscriber behind for the next test.
    onTestFinished(async () => {
      slow.terminate();
      await healthy.dispose();
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      slow.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    let firstMessage: () => void;
    let paused = false;
    const gotFirst = new Promise<void>((resolve) => (firstMessage = resolve));
    slow.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === 'connection_ack') {
        // Many aliases make each message big, so the socket's buffers fill within the burst.
        const fields = Array.from({ length: 29 }, (_, i) => `a${i}: source`).join(' ');
        slow.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: `subscription { orderStatusChanged(orderId: "${id}") { seq ${fields} } }` },
          }),
        );
      } else if (message.type === 'next' && !paused) {
        paused = true;
        slow.pause();
        firstMessage();
      }
    });
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${ADMIN_KEY}` } }));
    await waitFor(() => hub.hub.fanout.stats().subscribers === 2, 'both subscribers');

    await sql(
      `insert into order_event (order_id, channel_code, type, source) values (?, 'web', 'PING', 'system')`,
      [id],
    );
    await gotFirst;
    const burst = 20_000;
    await sql(
      `insert into order_event (order_id, channel_code, type, source)
       select ?, 'web', 'NOTE', 'system' from generate_series(1, ${burst})`,
      [id],
    );
    await fast.take(burst + 1);
    await waitFor(() => hub.hub.fanout.stats().subscribers === 1, 'the slow subscriber to be cut off');
    slow.resume();
    const { code, reason } = await closed;
    expect(code).toBe(SLOW_CONSUMER_CLOSE_CODE);
    expect(reason).toBe(SLOW_CONSUMER_REASON);
    // The client's doing, not the hub's: no error is logged.
    expect(errorLines).toEqual([]);
    fast.stop();
  }, 180_000);

  it('sends each member of a group a text frame carrying its own subscription id', async () => {
    const id = await place('FO-FRAMES');
    const query = `subscription { orderStatusChanged(orderId: "${id}") { orderId type source } }`;
    const raw = (subscriptionId: string) => {
      const socket = new WebSocket(hub.wsUrl, 'graphql-transport-ws');
      const frame = new Promise<{ isBinary: boolean; message: unknown }>((resolve) =>
        socket.on('message', (data, isBinary) => {
          const message = JSON.parse(data.toString()) as {
            type: string;
            payload?: { data?: { orderStatusChanged?: { type: string } } };
          };
          if (message.type === 'connection_ack')
            socket.send(JSON.stringify({ id: subscriptionId, type: 'subscribe', payload: { query } }));
          // The order's CREATED event may still be on its way when the subscription starts.
          if (message.payload?.data?.orderStatusChanged?.type === 'NOTE') resolve({ isBinary, message });
        }),
      );
      socket.once('open', () =>
        socket.send(
          JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${ADMIN_KEY}` } }),
        ),
      );
      return { socket, frame };
    };
    const one = raw('first-subscription');
    const two = raw('second-subscription');
    await waitFor(() => hub.hub.fanout.stats().subscribers === 2, 'both subscribers');
    expect(hub.hub.fanout.stats().groups).toBe(1);

    await sql(
      `insert into order_event (order_id, channel_code, type, source) values (?, 'web', 'NOTE', 'system')`,
      [id],
    );
    for (const [client, subscriptionId] of [
      [one, 'first-subscription'],
      [two, 'second-subscription'],
    ] as const) {
      expect(await client.frame).toEqual({
        isBinary: false,
        message: {
          id: subscriptionId,
          type: 'next',
          payload: { data: { orderStatusChanged: { orderId: id, type: 'NOTE', source: 'system' } } },
        },
      });
      client.socket.close();
    }
  });
});

describe('the PUBSUB setting', () => {
  it('defaults to postgres, needs REDIS_URL for redis, and names a bad value', () => {
    expect(loadConfig({}).pubsub).toBe('postgres');
    expect(loadConfig({ PUBSUB: 'memory' }).pubsub).toBe('memory');
    expect(() => loadConfig({ PUBSUB: 'redis' })).toThrow(/REDIS_URL: required when PUBSUB=redis/);
    expect(() => loadConfig({ PUBSUB: 'kafka' })).toThrow(/PUBSUB must be postgres, redis or memory/);
    expect(() => loadConfig({ PUBSUB: 'redis', REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must start/);
    expect(loadConfig({ PUBSUB: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe(
      'redis://127.0.0.1:6379',
    );
  });
});
