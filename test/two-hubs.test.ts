import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestionMode, Platform } from '../common/enums.js';
import type { InventoryEvent } from '../subscriptions/bus.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { feed, type Feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

/**
 * Two hubs in one process, each on its own database and with its own configuration: every
 * long-lived service (subscription streams and fan-out, stock-hold combiner, platform clients)
 * belongs to its hub, so neither serves, configures nor outlives the other.
 */

const INVENTORY_CHANGED = `subscription ($code: String) {
  inventoryChanged(productCode: $code) { productCode onHand reserved }
}`;
const ADJUST = `mutation ($code: String!, $delta: Int!) {
  adjustStock(productCode: $code, delta: $delta, reason: "test") { onHand }
}`;
const RESERVE = `mutation ($code: String!, $q: Int!) { reserveStock(productCode: $code, quantity: $q) { status quantity } }`;
const POLL = `mutation ($code: String!) { pollChannel(code: $code) { health error } }`;

/** A platform order API that always answers 503, counting the requests it gets. */
async function failingPlatform() {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('two hubs in one process', () => {
  let a: TestHub;
  let b: TestHub;
  let aClosed = false;
  const platforms: Awaited<ReturnType<typeof failingPlatform>>[] = [];

  /** Subscribes on `hub` and waits until that hub has registered the subscriber. */
  async function subscribed(hub: TestHub, code: string): Promise<Feed<InventoryEvent>> {
    const before = hub.hub.events.listenerCount('inventoryChanged');
    const f = feed<InventoryEvent>(hub.wsClient(), INVENTORY_CHANGED, 'inventoryChanged', { code });
    await waitFor(
      () => hub.hub.events.listenerCount('inventoryChanged') > before || f.errors.length > 0,
      'the subscriber',
    );
    expect(f.errors).toEqual([]);
    return f;
  }

  async function adjust(hub: TestHub, code: string, delta: number) {
    expect(errorCodes(await hub.gql(ADJUST, { code, delta }))).toEqual([]);
  }

  beforeAll(async () => {
    // Different retry counts, so each hub's polls show whose platform clients they went through.
    a = await startTestHub('two-hubs-a', { env: { POLL_RETRIES: '0' } });
    b = await startTestHub('two-hubs-b', { env: { POLL_RETRIES: '1' } });
    for (const hub of [a, b]) {
      await seedProduct(hub.orm, 'TWIN', 10);
      await seedProduct(hub.orm, 'HOLD', 10);
    }
  });

  afterAll(async () => {
    await Promise.all([aClosed ? undefined : a?.close(), b?.close(), ...platforms.map((p) => p.close())]);
  });

  it('serves a subscription from its own hub only: its streams, its fan-out', async () => {
    const onA = await subscribed(a, 'TWIN');
    expect(a.hub.fanout.stats()).toEqual({ groups: 1, subscribers: 1 });
    expect(b.hub.fanout.stats()).toEqual({ groups: 0, subscribers: 0 });
    expect(b.hub.events.listenerCount('inventoryChanged')).toBe(0);

    // B's change commits first; A's subscriber sees only A's.
    await adjust(b, 'TWIN', 5);
    await adjust(a, 'TWIN', 1);
    expect(await onA.take(1)).toEqual([{ productCode: 'TWIN', onHand: 11, reserved: 0 }]);
    expect(onA.events).toHaveLength(1);
    onA.stop();
    await waitFor(() => a.hub.fanout.stats().subscribers === 0, 'the subscriber to leave');
    expect(a.hub.services.streams).not.toBe(b.hub.services.streams);
  });

  it('holds stock through each hub’s own combiner', async () => {
    const [onA, onB] = await Promise.all([
      a.gql(RESERVE, { code: 'HOLD', q: 3 }),
      b.gql(RESERVE, { code: 'HOLD', q: 4 }),
    ]);
    expect(onA).toEqual({ data: { reserveStock: { status: 'HELD', quantity: 3 } } });
    expect(onB).toEqual({ data: { reserveStock: { status: 'HELD', quantity: 4 } } });
    const reserved = async (hub: TestHub) =>
      (
        await hub.orm.em
          .getConnection()
          .execute<{ reserved: number }[]>(`select reserved from inventory_item where product_code = 'HOLD'`)
      )[0].reserved;
    expect([await reserved(a), await reserved(b)]).toEqual([3, 4]);
    expect(a.hub.services.reserveCombiner).not.toBe(b.hub.services.reserveCombiner);
  });

  it('polls through each hub’s platform clients, made from that hub’s configuration', async () => {
    const platformA = await failingPlatform();
    const platformB = await failingPlatform();
    platforms.push(platformA, platformB);
    const pollable = { ingestionModes: [IngestionMode.POLL] };
    await seedChannel(a.orm, 'pull', Platform.TAOBAO, { ...pollable, apiBaseUrl: platformA.url });
    await seedChannel(b.orm, 'pull', Platform.TAOBAO, { ...pollable, apiBaseUrl: platformB.url });

    const polled = await Promise.all([a.gql(POLL, { code: 'pull' }), b.gql(POLL, { code: 'pull' })]);
    for (const response of polled) {
      expect(response.errors).toBeUndefined();
      expect(response.data).toMatchObject({ pollChannel: { health: 'DOWN' } });
    }
    // POLL_RETRIES=0 on A: one attempt; POLL_RETRIES=1 on B: two.
    expect([platformA.requests(), platformB.requests()]).toEqual([1, 2]);
    expect(a.hub.services.platformClients).not.toBe(b.hub.services.platformClients);
  });

  it('leaves hub B answering, and publishing, once hub A is closed', async () => {
    const onB = await subscribed(b, 'TWIN');
    aClosed = true;
    await a.close();

    await adjust(b, 'TWIN', 2);
    expect(await onB.take(1)).toEqual([{ productCode: 'TWIN', onHand: 17, reserved: 0 }]);
    expect(errorCodes(await b.gql(RESERVE, { code: 'HOLD', q: 1 }))).toEqual([]);
    onB.stop();
  });
});
