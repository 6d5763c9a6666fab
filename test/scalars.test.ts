import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedChannel, seedOrder } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

describe('money and time at the API edge', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('scalars');
    const channel = await seedChannel(hub.orm, 'scalars');
    await seedOrder(hub.orm, {
      channel,
      externalId: 'S1',
      placedAt: new Date('2026-11-11T20:15:32+08:00'),
      lines: [
        { productCode: 'A', quantity: 1, unitPrice: '0.10' },
        { productCode: 'B', quantity: 1, unitPrice: '0.20' },
      ],
    });
  });

  afterAll(() => hub.close());

  it('answers money as exact decimal strings: 0.10 + 0.20 is "0.30"', async () => {
    const response = await hub.gql<{ orders: { edges: { node: { total: { amount: unknown } } }[] } }>(
      `{ orders { edges { node { total { amount } } } } }`,
    );
    expect(response.data!.orders.edges[0].node.total.amount).toBe('0.30');
  });

  it('answers times in UTC, whatever zone they came in', async () => {
    const response = await hub.gql<{ orders: { edges: { node: { placedAt: string } }[] } }>(
      `{ orders { edges { node { placedAt } } } }`,
    );
    expect(response.data!.orders.edges[0].node.placedAt).toBe('2026-11-11T12:15:32.000Z');
  });

  it('takes times only with their zone, so a local time is never guessed', async () => {
    const query = `query($from: DateTime) { orders(filter: {placedFrom: $from}) { totalCount } }`;
    expect(errorCodes(await hub.gql(query, { from: '2026-11-11 20:00:00' }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await hub.gql(query, { from: '2026-11-11T20:00:00' }))).toEqual(['BAD_USER_INPUT']);
    const zoned = await hub.gql<{ orders: { totalCount: number } }>(query, {
      from: '2026-11-11T20:00:00+08:00',
    });
    expect(zoned.data!.orders.totalCount).toBe(1);
  });
});
