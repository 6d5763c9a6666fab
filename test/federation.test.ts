import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, Product } from '../entities/index.js';
import { composeSupergraph } from '../server/composition.js';
import { hubSchema } from '../server/graphql-schema.js';
import { queryCost } from '../server/query-limits.js';
import { CRM_SDL, startCrmSubgraph, startGateway, type RunningServer } from './support/federation.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type GraphQLResponse, type TestHub } from './support/hub.js';

const ORDERS = 100;

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Order { id externalId channel { code } lines { productCode product { productCode } } }
    ... on Channel { id code }
    ... on Product { id productCode name }
    ... on Shipment { trackingNumber status }
  }
}`;

type Entity = { __typename: string; id?: string; code?: string; productCode?: string; externalId?: string };

describe('the hub as an Apollo Federation 2 subgraph', () => {
  let hub: TestHub;
  const statements: string[] = [];
  let counting = false;
  /** Orders of "tmall" at even places, of "jd-main" at odd ones. */
  const orders: Order[] = [];
  let tea: Product;
  let tmallId: string;
  let jdId: string;

  beforeAll(async () => {
    hub = await startTestHub('federation', {
      ormOverrides: {
        debug: ['query'],
        logger: (message: string) => {
          if (counting) statements.push(message);
        },
      },
    });
    const channels = [await seedChannel(hub.orm, 'tmall'), await seedChannel(hub.orm, 'jd-main')];
    [tmallId, jdId] = channels.map((c) => c.id);
    tea = await seedProduct(hub.orm, 'TEA-1');
    for (let i = 0; i < ORDERS; i++) {
      orders.push(
        await seedOrder(hub.orm, {
          channel: channels[i % 2],
          externalId: `F${i}`,
          lines: [{ productCode: 'TEA-1', quantity: 1, unitPrice: '12.50', product: tea }],
        }),
      );
    }
  });

  afterAll(() => hub?.close());

  const entities = (representations: object[], key?: string | null) =>
    hub.gql<{ _entities: (Entity | null)[] }>(ENTITIES, { representations }, key);
  const orderRef = (order: Order) => ({ __typename: 'Order', id: order.id });
  /** The tracking number seedOrder gives an order's shipment. */
  const trackingOf = (i: number) => `SF-${i % 2 === 0 ? 'tmall' : 'jd-main'}-F${i}`;

  it('serves its subgraph SDL with the keys of its entities', async () => {
    const response = await hub.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(response.errors).toBeUndefined();
    const keys = Object.fromEntries(
      parse(response.data!._service.sdl)
        .definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION)
        .map((type) => [
          type.name.value,
          (type.directives ?? [])
            .filter((d) => d.name.value === 'key')
            .map((d) => (d.arguments![0].value as { value: string }).value),
        ])
        .filter(([, found]) => found.length > 0),
    );
    expect(keys).toEqual({
      Channel: ['id'],
      Order: ['id'],
      Product: ['id', 'productCode'],
      Shipment: ['trackingNumber'],
    });
    expect(response.data!._service.sdl).toMatch(
      /@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.3"/,
    );
  });

  it('resolves 100 Order representations through the loaders: a few statements, not one per order', async () => {
    const count = async (n: number) => {
      statements.length = 0;
      counting = true;
      const response = await entities(orders.slice(0, n).map(orderRef));
      counting = false;
      expect(response.errors).toBeUndefined();
      const found = response.data!._entities;
      expect(found.map((e) => e!.id)).toEqual(orders.slice(0, n).map((o) => o.id));
      expect(found[1]).toMatchObject({ __typename: 'Order', externalId: 'F1', channel: { code: 'jd-main' } });
      return statements.length;
    };
    const forTen = await count(10);
    const forAll = await count(ORDERS);
    expect(forAll).toBe(forTen);
    // The orders, then one batch each for their channels, lines and products.
    expect(forAll).toBeLessThanOrEqual(4);
  });

  it('answers an Order entity as the orders page answers the same order', async () => {
    const node = `id externalId status placedAt customerName total { amount currencyCode }
      channel { code name platform }
      lines { productCode quantity unitPrice { amount currencyCode } product { productCode name } }`;
    const page = await hub.gql<{ orders: { edges: { node: { id: string } }[] } }>(
      `{ orders(first: 20) { edges { node { ${node} } } } }`,
    );
    const nodes = page.data!.orders.edges.map((e) => e.node);
    const viaEntities = await hub.gql<{ _entities: unknown[] }>(
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Order { ${node} } } }`,
      { representations: nodes.map((n) => ({ __typename: 'Order', id: n.id })) },
    );
    expect(viaEntities.errors).toBeUndefined();
    expect(viaEntities.data!._entities).toEqual(nodes);
  });

  it('costs an _entities batch one item per representation', async () => {
    const schema = await hubSchema();
    const cost = (n: number) =>
      queryCost(schema, {
        document: parse(ENTITIES),
        variables: { representations: orders.slice(0, n).map(orderRef) },
      });
    expect(cost(100)).toBe(cost(10) * 10);
  });

  it('resolves channels by id, products by id and by productCode, shipments by tracking number', async () => {
    const response = await entities([
      { __typename: 'Channel', id: tmallId },
      { __typename: 'Product', id: tea.id },
      { __typename: 'Product', productCode: 'TEA-1' },
      { __typename: 'Product', productCode: 'NO-SUCH' },
      { __typename: 'Shipment', trackingNumber: trackingOf(3) },
    ]);
    expect(response.errors).toBeUndefined();
    expect(response.data!._entities).toEqual([
      { __typename: 'Channel', id: tmallId, code: 'tmall' },
      { __typename: 'Product', id: tea.id, productCode: 'TEA-1', name: 'Product TEA-1' },
      { __typename: 'Product', id: tea.id, productCode: 'TEA-1', name: 'Product TEA-1' },
      // An unknown key is null, as product(productCode:) answers.
      null,
      { __typename: 'Shipment', trackingNumber: trackingOf(3), status: 'IN_TRANSIT' },
    ]);
  });

  /** The entity's reply and the root field's for the same thing: the same data, the same refusal. */
  async function expectLikeRoot(
    key: string | null,
    representation: object,
    root: string,
    variables: Record<string, unknown>,
  ) {
    const viaEntities = await entities([representation], key);
    const viaRoot: GraphQLResponse = await hub.gql(root, variables, key);
    expect(errorCodes(viaEntities)).toEqual(errorCodes(viaRoot));
    const rootValue = Object.values(viaRoot.data ?? {})[0] ?? null;
    expect(viaEntities.data?._entities[0] ?? null).toEqual(
      rootValue && expect.objectContaining(rootValue as object),
    );
    return errorCodes(viaEntities);
  }

  it("applies the caller's role and channel scope as the root fields do", async () => {
    const storefront = await hub.apiKey('STOREFRONT', 'tmall');
    const connector = await hub.apiKey('CONNECTOR', 'tmall');
    const order = `query($id: ID!) { order(id: $id) { id } }`;
    const channel = `query($code: String!) { channel(code: $code) { id code } }`;

    // A storefront key of tmall: its own channel's order, not jd-main's.
    expect(await expectLikeRoot(storefront, orderRef(orders[0]), order, { id: orders[0].id })).toEqual([]);
    expect(await expectLikeRoot(storefront, orderRef(orders[1]), order, { id: orders[1].id })).toEqual([
      'FORBIDDEN',
    ]);
    // Its shipments are seen as its orders are (there is no root field: the order's is the rule).
    const shipments = await entities(
      [0, 1].map((i) => ({ __typename: 'Shipment', trackingNumber: trackingOf(i) })),
      storefront,
    );
    expect(shipments.data!._entities).toEqual([
      { __typename: 'Shipment', trackingNumber: trackingOf(0), status: 'IN_TRANSIT' },
      null,
    ]);
    expect(shipments.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['_entities', 1], 'FORBIDDEN'],
    ]);

    // A connector key reads no orders at all, and only its own channel.
    expect(await expectLikeRoot(connector, orderRef(orders[0]), order, { id: orders[0].id })).toEqual([
      'FORBIDDEN',
    ]);
    expect(
      await expectLikeRoot(connector, { __typename: 'Channel', id: tmallId }, channel, { code: 'tmall' }),
    ).toEqual([]);
    expect(
      await expectLikeRoot(connector, { __typename: 'Channel', id: jdId }, channel, { code: 'jd-main' }),
    ).toEqual(['FORBIDDEN']);

    // No key: UNAUTHENTICATED, as every root field.
    expect(await expectLikeRoot(null, orderRef(orders[0]), order, { id: orders[0].id })).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('composes with a CRM subgraph and answers through a gateway a query that crosses both, with the key passed on', async () => {
    const followed = [orders[0], orders[1]];
    const servers: RunningServer[] = [];
    try {
      const crm = await startCrmSubgraph({
        segmentOf: (id) => ({ [orders[0].id]: 'VIP', [orders[1].id]: 'NEW' })[id] ?? null,
        reviewsOf: (code) => (code === 'TEA-1' ? [{ stars: 5, text: 'Fragrant' }] : []),
        followedUp: followed.map((o) => o.id),
      });
      servers.push(crm);
      const composed = composeSupergraph([
        {
          name: 'hub',
          url: hub.url,
          sdl: (await hub.gql<{ _service: { sdl: string } }>('{ _service { sdl } }')).data!._service.sdl,
        },
        { name: 'crm', url: crm.url, sdl: CRM_SDL },
      ]);
      if ('errors' in composed) throw new Error(composed.errors.join('\n'));
      const gateway = await startGateway(composed.supergraphSdl);
      servers.push(gateway);

      // From the CRM (followedUpOrders, customerSegment) to the hub (the orders) and back (the products' reviews).
      const query = `{ followedUpOrders {
        id customerSegment externalId channel { code }
        lines { product { productCode reviews { stars text } } }
      } }`;
      const ask = async (key: string) => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query }),
        });
        return (await response.json()) as GraphQLResponse<{ followedUpOrders: unknown[] }>;
      };

      const ops = await ask(await hub.apiKey('OPS'));
      expect(ops.errors).toBeUndefined();
      const lines = [{ product: { productCode: 'TEA-1', reviews: [{ stars: 5, text: 'Fragrant' }] } }];
      expect(ops.data!.followedUpOrders).toEqual([
        { id: orders[0].id, customerSegment: 'VIP', externalId: 'F0', channel: { code: 'tmall' }, lines },
        { id: orders[1].id, customerSegment: 'NEW', externalId: 'F1', channel: { code: 'jd-main' }, lines },
      ]);

      // The caller's key reaches the hub: a tmall storefront key does not get jd-main's order.
      const storefront = await ask(await hub.apiKey('STOREFRONT', 'tmall'));
      expect(errorCodes(storefront)).toContain('FORBIDDEN');
      expect(JSON.stringify(storefront.data)).toContain('F0');
      expect(JSON.stringify(storefront.data)).not.toContain('F1');
    } finally {
      for (const server of servers.reverse()) await server.stop();
    }
  });
});
