import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';

const PAGE_QUERY = `query Page($first: Int) {
  orders(first: $first) {
    edges { node {
      channel { code }
      lines { product { inventory { available } } }
      shipments { events { status } }
      timeline { seq }
    } }
  }
}`;

describe('a page of orders with its relations', () => {
  let hub: TestHub;
  const statements: string[] = [];
  let counting = false;

  beforeAll(async () => {
    hub = await startTestHub('n-plus-one', {
      ormOverrides: {
        debug: ['query'],
        logger: (message: string) => {
          if (counting) statements.push(message);
        },
      },
    });
    const channels = [await seedChannel(hub.orm, 'tmall'), await seedChannel(hub.orm, 'jd-main')];
    const products = [await seedProduct(hub.orm, 'TEA-1'), await seedProduct(hub.orm, 'TEA-2')];
    for (let i = 0; i < 60; i++) {
      await seedOrder(hub.orm, {
        channel: channels[i % 2],
        externalId: `N${i}`,
        lines: [
          { productCode: 'TEA-1', quantity: 1, unitPrice: '12.50', product: products[0] },
          { productCode: 'TEA-2', quantity: 2, unitPrice: '3.10', product: products[1] },
          { productCode: 'GHOST', quantity: 1, unitPrice: '1.00' },
        ],
      });
    }
  });

  afterAll(() => hub.close());

  async function countStatements(first: number) {
    statements.length = 0;
    counting = true;
    const response = await hub.gql<{ orders: { edges: unknown[] } }>(PAGE_QUERY, { first });
    counting = false;
    expect(response.errors).toBeUndefined();
    expect(response.data!.orders.edges).toHaveLength(first);
    return statements.length;
  }

  it('costs the same fixed number of SQL statements for 5 orders as for 50', async () => {
    const forFive = await countStatements(5);
    const forFifty = await countStatements(50);
    expect(forFifty).toBe(forFive);
    // page + count, then one batch per relation level: channel, lines, products, inventory, shipments, events, timeline.
    expect(forFifty).toBeLessThanOrEqual(10);
  });
});
