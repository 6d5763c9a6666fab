import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, Platform } from '../../common/enums.js';
import { hashSecret } from '../../services/api-keys.js';
import { seedChannel, seedOrder, seedProduct } from '../support/fixtures.js';
import { errorCodes, startTestHub, wsExecute, type TestHub } from '../support/hub.js';

/**
 * Channel scope fails closed: a STOREFRONT or CONNECTOR key that is bound to no channel (a row
 * written by hand, or one whose channel went away) sees nothing, whatever the database says,
 * rather than being read as "every channel".
 */

const SECRETS = {
  [Role.STOREFRONT]: 'hub_storefront-without-a-channel',
  [Role.CONNECTOR]: 'hub_connector-without-a-channel',
};
const BUYER = 'Secret Buyer Qian';

let hub: TestHub;
let orderId: string;
let reservationId: string;

beforeAll(async () => {
  hub = await startTestHub('security channel scope');
  const shop = await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  const other = await seedChannel(hub.orm, 'other');
  await seedProduct(hub.orm, 'TEA-1', 100);
  const lines = [{ productCode: 'TEA-1', quantity: 1, unitPrice: '10.00' }];
  await seedOrder(hub.orm, { channel: shop, externalId: 'SHOP-1', customerName: BUYER, lines });
  orderId = (await seedOrder(hub.orm, { channel: other, externalId: 'OTHER-1', customerName: BUYER, lines }))
    .id;
  const held = await hub.gql<{ reserveStock: { id: string } }>(
    `mutation { reserveStock(productCode: "TEA-1", quantity: 1) { id } }`,
    {},
    await hub.apiKey(Role.STOREFRONT, 'other'),
  );
  reservationId = held.data!.reserveStock.id;
  for (const [role, secret] of Object.entries(SECRETS)) {
    await hub.orm.em
      .getConnection()
      .execute(`insert into api_key (role, channel_id, label, secret_hash) values (?, null, ?, ?)`, [
        role,
        `${role} without a channel`,
        hashSecret(secret),
      ]);
  }
});

afterAll(async () => {
  await hub?.close();
});

describe('a channel-bound key without a channel sees nothing', () => {
  const reads: [string, string, () => Record<string, unknown>][] = [
    ['orders', `{ orders(first: 50) { totalCount edges { node { externalId customerName } } } }`, () => ({})],
    [
      'an order of another channel',
      `query ($id: ID!) { order(id: $id) { externalId customerName } }`,
      () => ({ id: orderId }),
    ],
    ['the timeline of every order', `{ orderEvents(first: 50) { seq orderId } }`, () => ({})],
    [
      'another channel’s hold',
      `query ($id: ID!) { reservation(id: $id) { id quantity } }`,
      () => ({ id: reservationId }),
    ],
    ['the channels', `{ channels { code } }`, () => ({})],
  ];

  for (const [what, query, variables] of reads) {
    it(`a STOREFRONT key reading ${what} is FORBIDDEN and gets no data`, async () => {
      const res = await hub.gql(query, variables(), SECRETS[Role.STOREFRONT]);
      expect(errorCodes(res)).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(res)).not.toMatch(/SHOP-1|OTHER-1|Secret Buyer|"code":"(shop|other)"/);
    });
  }

  it('a CONNECTOR key sees no channel either', async () => {
    const res = await hub.gql(`{ channels { code } }`, {}, SECRETS[Role.CONNECTOR]);
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?.channels ?? null).toBeNull();
  });

  it('cannot hold stock for no channel, nor release another channel’s hold', async () => {
    const reserve = await hub.gql(
      `mutation { reserveStock(productCode: "TEA-1", quantity: 1) { id } }`,
      {},
      SECRETS[Role.STOREFRONT],
    );
    expect(errorCodes(reserve)).toEqual(['FORBIDDEN']);
    const release = await hub.gql(
      `mutation ($id: ID!) { releaseReservation(id: $id) { status } }`,
      { id: reservationId },
      SECRETS[Role.STOREFRONT],
    );
    expect(errorCodes(release)).toEqual(['FORBIDDEN']);
    const [{ status }] = await hub.orm.em
      .getConnection()
      .execute<{ status: string }[]>(`select status from reservation where id = ?`, [reservationId]);
    expect(status).toBe('HELD');
  });

  it('cannot subscribe to other channels’ order events or shipments', async () => {
    const client = hub.wsClient(SECRETS[Role.STOREFRONT]);
    const events = await wsExecute(client, `subscription { orderStatusChanged(after: "0") { seq orderId } }`);
    expect(errorCodes(events)).toEqual(['FORBIDDEN']);
    const shipments = await wsExecute(client, `subscription { shipmentUpdated { id trackingNumber } }`);
    expect(errorCodes(shipments)).toEqual(['FORBIDDEN']);
  });
});
