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
    // The page, then one batch per relation level: channel, lines, products, inventory, shipments, events, timeline.
    expect(forFifty).toBeLessThanOrEqual(9);
  });

  async function statementsOf(query: string) {
    statements.length = 0;
    counting = true;
    const response = await hub.gql<{ orders: Record<string, unknown> }>(query);
    counting = false;
    expect(response.errors).toBeUndefined();
    return { data: response.data!.orders, sql: [...statements] };
  }

  it('counts the matching orders only when totalCount is selected, and reads no raw payload', async () => {
    await hub.orm.em.getConnection().execute(`update "order" set raw = '{"big": "payload"}'::jsonb`);
    const plain = await statementsOf(`{ orders(first: 5) { edges { node { id externalId } } } }`);
    expect(plain.sql).toHaveLength(1);
    expect(plain.sql[0]).not.toMatch(/count\(/i);
    expect(plain.sql[0]).not.toMatch(/"raw"|o\.\*/);

    const counted = await statementsOf(`{ orders(first: 5) { totalCount edges { node { id } } } }`);
    expect(counted.data.totalCount).toBe(60);
    expect(counted.sql.filter((s) => /count\(\*\)/i.test(s))).toHaveLength(1);
  });

  it('estimates the count from the planner statistics without reading the rows', async () => {
    await hub.orm.em.getConnection().execute('analyze "order", channel');
    const { data, sql } = await statementsOf(`{ orders(first: 0) { totalCountEstimate } }`);
    // Statistics of a table this small are made from every row: the estimate is exact.
    expect(data.totalCountEstimate).toBe(60);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/explain/i);

    const filtered = await statementsOf(
      `{ orders(first: 0, filter: { channelCodes: ["tmall"], placedFrom: "2020-01-01T00:00:00Z" }) { totalCountEstimate } }`,
    );
    // Half of the orders are tmall's; the planner's guess lands near it, never above every order.
    expect(filtered.data.totalCountEstimate).toBeGreaterThan(0);
    expect(filtered.data.totalCountEstimate).toBeLessThanOrEqual(60);
  });

  const SHOWN = `id externalId total { amount currencyCode }
    channel { id code name platform isCore salesOpen ingestionModes health lastHeartbeatAt timeZone }
    lines { id productCode quantity unitPrice { amount currencyCode } lineTotal { amount }
            product { id productCode name coldChain } }`;

  it('reads the channel, lines and products it shows in the page’s own statement, as the loaders give them', async () => {
    await hub.orm.em
      .getConnection()
      .execute(`update channel set last_heartbeat_at = '2026-03-01T08:09:10.123Z' where code = 'tmall'`);
    const page = await statementsOf(`{ orders(first: 50) { edges { node { ${SHOWN} } } } }`);
    expect(page.sql).toHaveLength(1);
    const nodes = (page.data.edges as { node: { id: string } }[]).map((e) => e.node);
    expect(nodes).toHaveLength(50);

    // The same orders one at a time: `order` reads through the loaders, a statement per relation.
    for (const node of nodes.slice(0, 4)) {
      const one = await hub.gql<{ order: unknown }>(`query One($id: ID!) { order(id: $id) { ${SHOWN} } }`, {
        id: node.id,
      });
      expect(one.errors).toBeUndefined();
      expect(one.data!.order).toEqual(node);
    }
    const line = (nodes[0] as unknown as { lines: { unitPrice: { amount: string }; product: unknown }[] })
      .lines;
    expect(line.map((l) => l.unitPrice.amount)).toEqual(['12.50', '3.10', '1.00']);
    expect(line[2].product).toBeNull();
  });

  it('finds what it shows under aliases and fragments, and skips what @skip leaves out', async () => {
    const aliased = await statementsOf(`query { orders(first: 5) { edges { ...Shown } } }
      fragment Shown on OrderEdge { node { shop: channel { code } items: lines { p: product { name } } } }`);
    expect(aliased.sql).toHaveLength(1);
    expect(aliased.sql[0]).toMatch(/order_line/);

    const skipped = await statementsOf(
      `{ orders(first: 5) { edges { node { id lines @skip(if: true) { quantity } channel { code } } } } }`,
    );
    expect(skipped.sql).toHaveLength(1);
    expect(skipped.sql[0]).not.toMatch(/order_line/);
  });
});
