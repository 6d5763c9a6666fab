import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { storefrontRefund } from './support/after-sale.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';

const PAGE_QUERY = `query Page($first: Int) {
  returns(first: $first) {
    edges { node {
      channel { code }
      order { externalId lines { refundedQuantity } }
      lines { orderLine { productCode product { productCode quarantined } } }
      timeline { toStatus }
      refundAmount { amount currencyCode }
    } }
  }
}`;

describe('a page of returns with its relations', () => {
  let hub: TestHub;
  const statements: string[] = [];
  let counting = false;

  beforeAll(async () => {
    hub = await startTestHub('returns-read', {
      ormOverrides: {
        debug: ['query'],
        logger: (message: string) => {
          if (counting) statements.push(message);
        },
      },
    });
    const channel = await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    const product = await seedProduct(hub.orm, 'TEA-1');
    for (let i = 0; i < 30; i++) {
      await seedOrder(hub.orm, {
        channel,
        externalId: `N${i}`,
        lines: [{ productCode: 'TEA-1', quantity: 2, unitPrice: '12.50', product }],
      });
      const reply = await hub.gql(
        `mutation($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id } }`,
        {
          p: storefrontRefund(`R${i}`, `N${i}`, {
            status: 'APPROVED',
            lines: [{ productCode: 'TEA-1', quantity: 1 }],
            amount: '12.50',
          }),
        },
      );
      expect(reply.errors).toBeUndefined();
    }
  });

  afterAll(() => hub?.close());

  async function countStatements(first: number) {
    statements.length = 0;
    counting = true;
    const response = await hub.gql<{ returns: { edges: unknown[] } }>(PAGE_QUERY, { first });
    counting = false;
    expect(response.errors).toBeUndefined();
    expect(response.data!.returns.edges).toHaveLength(first);
    return statements.length;
  }

  it('costs the same fixed number of SQL statements for 5 returns as for 25', async () => {
    const forFive = await countStatements(5);
    // One per relation (and a key check or two), not one per return.
    expect(forFive).toBeGreaterThan(3);
    expect(forFive).toBeLessThan(15);
    expect(await countStatements(25)).toBe(forFive);
  });
});
