import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, Role, StockAlertKind } from '../common/enums.js';
import { SubscriberFellBehindError } from '../common/errors.js';
import {
  DEFAULT_MAX_QUEUE,
  EventBus,
  type InventoryEvent,
  type StockAlertEvent,
} from '../subscriptions/bus.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { LISTENER_APPLICATION_NAME } from '../subscriptions/postgres-listener.js';
import { errorCodes, startTestHub, wsExecute, type TestHub } from './support/hub.js';
import { graphql, startHubProcess } from './support/hub-process.js';
import { feed, type Feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

const STOCK_ALERT = `subscription ($code: String) {
  stockAlert(productCode: $code) { id kind productCode available threshold message channelsClosed createdAt }
}`;
const INVENTORY_CHANGED = `subscription ($code: String) {
  inventoryChanged(productCode: $code) { productCode onHand reserved available safetyStock updatedAt }
}`;
const ADJUST = `mutation ($code: String!, $delta: Int!) {
  adjustStock(productCode: $code, delta: $delta, reason: "test") { productCode onHand }
}`;
const RESERVE = `mutation ($code: String!, $q: Int!) { reserveStock(productCode: $code, quantity: $q) { id } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;

describe('stockAlert and inventoryChanged over websockets, published after commit', () => {
  let hub: TestHub;
  const keys = {} as Record<Role, string>;
  let seq = 0;
  /** What the hub logs at error level or above. */
  const errorLines: string[] = [];

  /** Subscribes and waits until the hub has registered the subscriber, so no event can slip past. */
  async function subscribed<T>(
    key: string,
    query: string,
    field: 'stockAlert' | 'inventoryChanged',
    code: string | null,
  ): Promise<Feed<T>> {
    const before = hub.hub.events.listenerCount(field);
    const f = feed<T>(hub.wsClient(key), query, field, { code });
    await waitFor(
      () => hub.hub.events.listenerCount(field) > before || f.errors.length > 0,
      'the subscriber',
    );
    expect(f.errors).toEqual([]);
    return f;
  }

  async function adjust(code: string, delta: number) {
    const response = await hub.gql(ADJUST, { code, delta });
    expect(errorCodes(response)).toEqual([]);
  }

  beforeAll(async () => {
    hub = await startTestHub('subscriptions', { env: { LOG_LEVEL: 'error' }, logLines: errorLines });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    keys[Role.OPS] = await hub.apiKey(Role.OPS);
    keys[Role.ANALYST] = await hub.apiKey(Role.ANALYST);
    keys[Role.STOREFRONT] = await hub.apiKey(Role.STOREFRONT, 'shop');
    keys[Role.CONNECTOR] = await hub.apiKey(Role.CONNECTOR, 'shop');
  });

  afterAll(() => hub?.close());

  it('delivers LOW_STOCK to the product it filters on, and nothing for another product', async () => {
    await seedProduct(hub.orm, 'TEA', 8, 5);
    await seedProduct(hub.orm, 'CUP', 8, 5);
    const tea = await subscribed<Record<string, unknown>>(keys.ANALYST, STOCK_ALERT, 'stockAlert', 'TEA');
    const cup = await subscribed<Record<string, unknown>>(keys.OPS, STOCK_ALERT, 'stockAlert', 'CUP');

    await adjust('TEA', -3);
    const [alert] = await tea.take(1);
    expect(alert).toMatchObject({ kind: 'LOW_STOCK', productCode: 'TEA', available: 5, threshold: 5 });
    expect(typeof alert.createdAt).toBe('string');

    // A later, committed CUP alert arrives on its own: the TEA alert never reached the CUP filter.
    await adjust('CUP', -4);
    const [cupAlert] = await cup.take(1);
    expect(cupAlert).toMatchObject({ kind: 'LOW_STOCK', productCode: 'CUP', available: 4 });
    expect(cup.events).toHaveLength(1);
    expect(tea.events).toHaveLength(1);
    tea.stop();
    cup.stop();
  });

  it('delivers the new figures after adjustStock and reserveStock', async () => {
    await seedProduct(hub.orm, 'INV', 10);
    const inv = await subscribed<InventoryEvent>(
      keys.STOREFRONT,
      INVENTORY_CHANGED,
      'inventoryChanged',
      'INV',
    );

    await adjust('INV', 5);
    expect((await inv.take(1))[0]).toMatchObject({
      productCode: 'INV',
      onHand: 15,
      reserved: 0,
      available: 15,
    });
    expect(errorCodes(await hub.gql(RESERVE, { code: 'INV', q: 4 }))).toEqual([]);
    expect((await inv.take(2))[1]).toMatchObject({ onHand: 15, reserved: 4, available: 11, safetyStock: 0 });
    inv.stop();
  });

  it('publishes nothing for a change that rolls back', async () => {
    await seedProduct(hub.orm, 'RB', 2);
    await seedProduct(hub.orm, 'SHORT', 1);
    const rb = await subscribed<InventoryEvent>(keys.OPS, INVENTORY_CHANGED, 'inventoryChanged', 'RB');

    const failed = await hub.gql(PLACE, {
      input: {
        channelCode: 'shop',
        externalId: `RB-${++seq}`,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road', country: 'CN' },
        lines: [
          { productCode: 'RB', quantity: 1, unitPrice: '1.00' },
          { productCode: 'SHORT', quantity: 5, unitPrice: '1.00' },
        ],
      },
    });
    expect(errorCodes(failed)).toEqual(['INSUFFICIENT_STOCK']);
    await adjust('RB', 1);

    const [only] = await rb.take(1);
    expect(only).toMatchObject({ productCode: 'RB', onHand: 3, reserved: 0 });
    expect(rb.events).toHaveLength(1);
    rb.stop();
  });

  it('delivers what another hub process commits on the same database', async () => {
    await seedProduct(hub.orm, 'FAR', 8, 5);
    const alerts = await subscribed<Record<string, unknown>>(keys.ANALYST, STOCK_ALERT, 'stockAlert', 'FAR');
    const items = await subscribed<InventoryEvent>(
      keys.ANALYST,
      INVENTORY_CHANGED,
      'inventoryChanged',
      'FAR',
    );
    const other = await startHubProcess(hub.database.url, { HOST: '127.0.0.1', SWEEP_INTERVAL_SECONDS: '0' });
    try {
      await graphql(other.base, other.adminKey, ADJUST, { code: 'FAR', delta: -3 });
      expect((await alerts.take(1))[0]).toMatchObject({
        kind: 'LOW_STOCK',
        productCode: 'FAR',
        available: 5,
      });
      expect((await items.take(1))[0]).toMatchObject({ productCode: 'FAR', onHand: 5, available: 5 });
    } finally {
      await other.stop();
      alerts.stop();
      items.stop();
    }
  }, 180_000);

  it('loses no alert while its database connection is down: it reconnects and catches up', async () => {
    await seedProduct(hub.orm, 'LOST', 8, 5);
    const alerts = await subscribed<Record<string, unknown>>(keys.OPS, STOCK_ALERT, 'stockAlert', 'LOST');
    const sql = <T>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);
    const listeners = () =>
      sql<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where application_name = ? and datname = current_database()`,
        [LISTENER_APPLICATION_NAME],
      );
    expect(await listeners()).toEqual([{ n: 1 }]);
    await sql(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()`,
      [LISTENER_APPLICATION_NAME],
    );
    await adjust('LOST', -3); // committed while no one listens
    expect((await alerts.take(1))[0]).toMatchObject({ kind: 'LOW_STOCK', productCode: 'LOST' });
    expect(alerts.events).toHaveLength(1);
    alerts.stop();
  });

  it('ends a subscriber that fell behind with SUBSCRIBER_FELL_BEHIND and how to catch up, logging no error', async () => {
    // The earlier tests' subscribers leave first, so this one's arrival shows in the count.
    await waitFor(() => hub.hub.events.listenerCount('stockAlert') === 0, 'earlier subscribers to leave');
    const alerts = await subscribed<Record<string, unknown>>(keys.OPS, STOCK_ALERT, 'stockAlert', 'FLOOD');
    const logged = errorLines.length;
    const alert = (n: number): StockAlertEvent => ({
      id: String(n),
      kind: StockAlertKind.LOW_STOCK,
      productCode: 'FLOOD',
      available: n,
      threshold: 5,
      message: 'flood',
      channelsClosed: [],
      channelsReopened: [],
      channelCode: null,
      bucketStart: null,
      expectedOrders: null,
      actualOrders: null,
      orderId: null,
      createdAt: new Date(),
    });
    // Published in one go: the subscription's queue overflows before its reader takes the second.
    for (let n = 0; n < DEFAULT_MAX_QUEUE + 2; n++) hub.hub.events.publish('stockAlert', alert(n));
    await waitFor(() => alerts.errors.length > 0, 'the fell-behind error');
    expect(alerts.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining(
          "to catch up, read the missed alerts with the stockAlerts query (since: the last alert's createdAt), then subscribe again.",
        ),
        extensions: { code: 'SUBSCRIBER_FELL_BEHIND' },
      }),
    ]);
    // The client's doing, not the hub's: no error is logged.
    expect(errorLines.slice(logged)).toEqual([]);
    alerts.stop();
  });

  it('refuses a socket without a key (4401) and roles without the right', async () => {
    const code = await new Promise<number>((resolve) => {
      hub.wsClient(null, { onClose: (c) => resolve(c) });
    });
    expect(code).toBe(4401);

    const refused = async (key: string, query: string) =>
      errorCodes(await wsExecute(hub.wsClient(key), query, { code: 'TEA' }));
    expect(await refused(keys.STOREFRONT, STOCK_ALERT)).toEqual(['FORBIDDEN']);
    expect(await refused(keys.CONNECTOR, STOCK_ALERT)).toEqual(['FORBIDDEN']);
    expect(await refused(keys.CONNECTOR, INVENTORY_CHANGED)).toEqual(['FORBIDDEN']);
  });
});

describe('the in-process event bus', () => {
  const item = (onHand: number): InventoryEvent => ({
    productCode: 'X',
    onHand,
    reserved: 0,
    available: onHand,
    safetyStock: 0,
    updatedAt: new Date(),
  });

  it('ends a subscriber that falls too far behind with a clear error, without holding the others up', async () => {
    const bus = new EventBus();
    const slow = bus.subscribe('inventoryChanged', undefined, 2);
    const fast = bus.subscribe('inventoryChanged');
    for (const n of [1, 2, 3]) bus.publish('inventoryChanged', item(n));

    const first = await slow.next();
    expect(first.value).toBeInstanceOf(SubscriberFellBehindError);
    expect(first.value).toMatchObject({
      code: 'SUBSCRIBER_FELL_BEHIND',
      message:
        'This subscription fell more than 2 events behind and was ended; to catch up, ' +
        'query the current stock with inventory(productCode), then subscribe again.',
    });
    expect((await slow.next()).done).toBe(true);
    for (const n of [1, 2, 3]) expect((await fast.next()).value).toMatchObject({ onHand: n });
    expect(bus.listenerCount('inventoryChanged')).toBe(1);
    await fast.return!();
    expect(bus.listenerCount()).toBe(0);
  });

  it('filters on the server', async () => {
    const bus = new EventBus();
    const only = bus.subscribe('inventoryChanged', (e) => e.onHand > 1);
    for (const n of [1, 2]) bus.publish('inventoryChanged', item(n));
    expect((await only.next()).value).toMatchObject({ onHand: 2 });
    bus.close();
    expect((await only.next()).done).toBe(true);
  });
});
