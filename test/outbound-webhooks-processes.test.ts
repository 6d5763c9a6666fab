import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.js';
import { graphql, startHubProcess, type HubProcess } from './support/hub-process.js';
import { createChannel, createProduct, openDb, type SyncDb } from './support/stock-sync.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

// Webhooks as `npm start` sends them: a hub killed with SIGKILL while its deliveries hang, and started again,
// delivers every one (at least once; a repeat only with the same webhook-id).

const ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '30000',
  WEBHOOK_RETRY_SCHEDULE: '50ms,100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s',
};

const hubs: HubProcess[] = [];
let receiver: WebhookReceiver | null = null;
let db: SyncDb | null = null;
let dropDatabase: (() => Promise<void>) | null = null;

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.stop('SIGKILL')));
  await receiver?.close();
  receiver = null;
  await db?.end();
  db = null;
  await dropDatabase?.();
  dropDatabase = null;
});

async function hubProcess(url: string) {
  const hub = await startHubProcess(url, ENV);
  hubs.push(hub);
  return hub;
}

describe('webhooks in hub processes', () => {
  it('delivers every event after the hub is killed with SIGKILL mid-delivery and started again', async () => {
    const database = await createTestDatabase('webhooks-sigkill');
    dropDatabase = database.drop;
    const first = await hubProcess(database.url);
    db = openDb(database.url);
    await createChannel(db, 'shop', 'STOREFRONT');
    await createProduct(db, 'TEA', 1000);
    receiver = await startWebhookReceiver();
    receiver.answer('hang');
    const made = (await graphql(
      first.base,
      first.adminKey,
      `
        mutation ($url: String!) {
          createWebhookEndpoint(input: { url: $url, events: [ORDER_CREATED] }) {
            secret
          }
        }
      `,
      { url: receiver.url },
    )) as { createWebhookEndpoint: { secret: string } };
    receiver.secrets.push(made.createWebhookEndpoint.secret);

    const orders: string[] = [];
    for (let i = 1; i <= 10; i++) {
      const placed = (await graphql(
        first.base,
        first.adminKey,
        `
          mutation ($input: PlaceOrderInput!) {
            placeOrder(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            channelCode: 'shop',
            externalId: `KILL-${i}`,
            customerName: 'Ada',
            shippingAddress: { line1: '1 Main St', city: 'Anywhere', country: 'US' },
            lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '3.00' }],
          },
        },
      )) as { placeOrder: { id: string } };
      orders.push(placed.placeOrder.id);
    }
    // Every delivery is under way, each waiting for an answer that does not come.
    await waitFor(() => new Set(receiver!.received.map((r) => r.id)).size === 10, 'all ten deliveries sent');
    const inFlight = await db.sql<{ n: string }>(
      `select count(*) as n from outbound_delivery where status = 'PENDING' and sending_owner is not null`,
    );
    expect(Number(inFlight[0].n)).toBe(10);
    await first.stop('SIGKILL');
    receiver.answer(200);

    await hubProcess(database.url);
    await waitFor(() => new Set(receiver!.accepted().map((r) => r.id)).size === 10, 'all ten accepted');
    const byOrder = new Set(receiver.accepted().map((r) => r.payload.data.order.id as string));
    expect([...byOrder].sort()).toEqual([...orders].sort());
    // Anything received twice was the same message: the same id and the same body.
    for (const request of receiver.received) {
      expect(receiver.accepted().find((r) => r.id === request.id)?.body).toBe(request.body);
    }
    await waitFor(async () => {
      const [row] = await db!.sql<{ n: string }>(
        `select count(*) as n from outbound_delivery where status = 'DELIVERED'`,
      );
      return Number(row.n) === 10;
    }, 'every delivery recorded as delivered');
  });

  it('sends each delivery once with two hub processes sending from one queue', async () => {
    const database = await createTestDatabase('webhooks-two-hubs');
    dropDatabase = database.drop;
    const first = await hubProcess(database.url);
    const second = await hubProcess(database.url);
    db = openDb(database.url);
    await createChannel(db, 'shop', 'STOREFRONT');
    await createProduct(db, 'TEA', 1000);
    receiver = await startWebhookReceiver();
    const made = (await graphql(
      first.base,
      first.adminKey,
      `
        mutation ($url: String!) {
          createWebhookEndpoint(input: { url: $url, events: [ORDER_CREATED, ORDER_STATUS_CHANGED] }) {
            secret
          }
        }
      `,
      { url: receiver.url },
    )) as { createWebhookEndpoint: { secret: string } };
    receiver.secrets.push(made.createWebhookEndpoint.secret);
    for (let i = 1; i <= 30; i++) {
      // Orders through both hubs: each process numbers events and sends deliveries.
      const hub = i % 2 ? first : second;
      const placed = (await graphql(
        hub.base,
        hub.adminKey,
        `
          mutation ($input: PlaceOrderInput!) {
            placeOrder(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            channelCode: 'shop',
            externalId: `TWO-${i}`,
            customerName: 'Ada',
            shippingAddress: { line1: '1 Main St', city: 'Anywhere', country: 'US' },
            lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '3.00' }],
          },
        },
      )) as { placeOrder: { id: string } };
      await graphql(
        hub.base,
        hub.adminKey,
        `
          mutation ($id: ID!) {
            markPaid(orderId: $id) {
              id
            }
          }
        `,
        {
          id: placed.placeOrder.id,
        },
      );
    }
    // Every delivery recorded, so no attempt of either process is still to come.
    await waitFor(async () => {
      const [row] = await db!.sql<{ n: string }>(
        `select count(*) as n from outbound_delivery where status = 'DELIVERED'`,
      );
      return Number(row.n) === 60;
    }, 'all 60 deliveries recorded as delivered');
    expect(receiver.received).toHaveLength(60);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(60);
    expect(receiver.received.every((r) => r.verifiedBy.length === 1)).toBe(true);
  });
});
