import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubSchema } from '../../server/graphql-schema.js';
import { queryCost } from '../../server/query-limits.js';
import { seedChannel, seedOrder } from '../support/fixtures.js';
import { errorCodes, startTestHub, wsExecute, type GraphQLResponse, type TestHub } from '../support/hub.js';

/** The query: 30 aliases of a page of orders with every list under an order, its size in a variable. */
function flood(declaration: string): string {
  const page = `orders(first: $n) { edges { node {
    id lines { productCode quantity } timeline { type at } children { id lines { productCode } }
    shipments { trackingNumber events { status } }
  } } }`;
  const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: ${page}`).join('\n');
  return `query Flood(${declaration}) { ${aliases} }`;
}

const STOREFRONT_PAGE = `query Page($first: Int = 50, $after: String) {
  orders(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id externalId status placedAt customerName
      total { amount currencyCode }
      lines { productCode quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
      shipments { carrier trackingNumber status events { status occurredAt } }
      timeline { type toStatus at }
    } }
  }
}`;

describe('queries cannot be made expensive by moving numbers into variables', () => {
  let hub: TestHub;
  let storefrontKey: string;
  let http: (
    query: string,
    variables?: Record<string, unknown>,
  ) => Promise<{ status: number; body: GraphQLResponse }>;
  let websocket: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

  beforeAll(async () => {
    hub = await startTestHub('security-query-cost');
    const shop = await seedChannel(hub.orm, 'shop');
    for (let i = 0; i < 3; i++) {
      await seedOrder(hub.orm, {
        channel: shop,
        externalId: `C${i}`,
        lines: [
          { productCode: 'TEA-1', quantity: 1, unitPrice: '12.50' },
          { productCode: 'TEA-2', quantity: 2, unitPrice: '3.10' },
          { productCode: 'TEA-3', quantity: 1, unitPrice: '1.00' },
        ],
      });
    }
    storefrontKey = await hub.apiKey('STOREFRONT', 'shop');
    http = async (query, variables) => {
      const response = await fetch(hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${storefrontKey}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLResponse };
    };
    const client = hub.wsClient(storefrontKey);
    websocket = (query, variables) => wsExecute(client, query, variables);
  });

  afterAll(() => hub.close());

  const cases = {
    'the size in a variable default': { query: flood('$n: Int = 500'), variables: undefined },
    'the size given as a variable': { query: flood('$n: Int'), variables: { n: 500 } },
    // The field then serves its own default page: counted as the largest a page can be.
    'the size given as null': { query: flood('$n: Int'), variables: { n: null } },
  };

  for (const [title, { query, variables }] of Object.entries(cases)) {
    it(`refuses the 30-alias page query with ${title} over HTTP, with its cost and the limit`, async () => {
      const { status, body } = await http(query, variables);
      expect(errorCodes(body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(body.errors![0].message).toMatch(/costs \d+, above the limit of 100000/);
      expect(body.data ?? null).toBeNull();
      expect(status).toBe(400);
    });

    it(`refuses the 30-alias page query with ${title} over the websocket`, async () => {
      const body = await websocket(query, variables);
      expect(errorCodes(body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(body.errors![0].message).toMatch(/costs \d+, above the limit of 100000/);
      expect(body.data ?? null).toBeNull();
    });
  }

  it('refuses it even with small pages: nested lists count as pages too', async () => {
    const { body } = await http(flood('$n: Int'), { n: 5 });
    expect(errorCodes(body)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('answers a storefront page of orders with lines, shipments and timeline, over HTTP and the websocket', async () => {
    for (const body of [
      (await http(STOREFRONT_PAGE)).body,
      await websocket(STOREFRONT_PAGE, { first: 50 }),
    ]) {
      expect(errorCodes(body)).toEqual([]);
      const orders = (body.data as { orders: { edges: { node: { lines: unknown[] } }[] } }).orders;
      expect(orders.edges).toHaveLength(3);
      expect(orders.edges.every((e) => e.node.lines.length === 3)).toBe(true);
    }
  });

  it('bounds the lists under an order like pages: `first` picks fewer, and more than the maximum is refused', async () => {
    const few = await http(`{ orders(first: 1) { edges { node { lines(first: 2) { productCode } } } } }`);
    expect(errorCodes(few.body)).toEqual([]);
    expect(JSON.stringify(few.body.data)).toBe(
      JSON.stringify({
        orders: { edges: [{ node: { lines: [{ productCode: 'TEA-1' }, { productCode: 'TEA-2' }] } }] },
      }),
    );
    const tooMany = await http(
      `{ orders(first: 1) { edges { node { lines(first: 201) { productCode } } } } }`,
    );
    expect(errorCodes(tooMany.body)).toEqual(['BAD_USER_INPUT']);
  });
});

describe("a call out to a carrier's API is priced in the query cost", () => {
  const cost = async (shipmentFields: string) =>
    queryCost(await hubSchema(), {
      document: parse(
        `{ orders(first: 100) { edges { node { shipments(first: 50) { ${shipmentFields} } } } } }`,
      ),
    });

  it('liveTracking costs 50 per shipment it may be asked for, beyond what it selects', async () => {
    const plain = await cost('trackingNumber');
    const live = await cost('trackingNumber liveTracking { stale }');
    // 100 orders × 50 shipments, each 50 for the call plus 1 for `stale`.
    expect(live - plain).toBe(100 * 50 * (50 + 1));
    // So a page of 100 orders asking live tracking of every parcel is refused before any carrier is asked.
    expect(live).toBeGreaterThan(100_000);
  });
});
