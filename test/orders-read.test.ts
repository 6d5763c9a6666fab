import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, Order, Product } from '../entities/index.js';
import { OrderStatus, Platform } from '../common/enums.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

interface OrderNode {
  id: string;
  externalId: string;
  status: OrderStatus;
  placedAt: string;
  total: { amount: string; currencyCode: string };
  customerName: string;
}
interface Page {
  orders: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: OrderNode }[];
  };
}

const PAGE = `query Page($filter: OrderFilter, $sort: OrderSort, $first: Int, $after: String) {
  orders(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id externalId status placedAt customerName total { amount currencyCode } } }
  }
}`;

const STATUSES = [
  OrderStatus.PENDING_PAYMENT,
  OrderStatus.PAID,
  OrderStatus.PACKED,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
  OrderStatus.CANCELLED,
  OrderStatus.REFUNDED,
];

describe('reading orders', () => {
  let hub: TestHub;
  let taobao: Channel;
  let douyin: Channel;
  let tea: Product;
  let parent: Order;
  let child: Order;
  const base = Date.parse('2026-11-11T00:00:00Z');

  beforeAll(async () => {
    hub = await startTestHub('orders-read');
    taobao = await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO);
    douyin = await seedChannel(hub.orm, 'douyin-live', Platform.DOUYIN);
    tea = await seedProduct(hub.orm, 'TEA-1', 40, 5);
    await seedProduct(hub.orm, 'CUP-1', 2, 5);
    for (let i = 0; i < 30; i++) {
      await seedOrder(hub.orm, {
        channel: i % 3 === 0 ? douyin : taobao,
        externalId: `T${String(i).padStart(3, '0')}`,
        status: STATUSES[i % STATUSES.length],
        customerName: i % 5 === 0 ? `Zhang_Wei 100% ${i}` : `Li Na ${i}`,
        placedAt: new Date(base + i * 3_600_000),
        lines: [
          { productCode: 'TEA-1', quantity: (i % 4) + 1, unitPrice: '0.10', product: tea },
          { productCode: i % 2 ? 'CUP-1' : 'GHOST-9', quantity: 1, unitPrice: `${i}.20` },
        ],
      });
    }
    parent = await seedOrder(hub.orm, {
      channel: taobao,
      externalId: 'P-1',
      placedAt: new Date(base - 86_400_000),
    });
    child = await seedOrder(hub.orm, {
      channel: taobao,
      externalId: 'P-1-A',
      parent,
      placedAt: new Date(base - 86_000_000),
    });
  });

  afterAll(() => hub.close());

  async function page(variables: Record<string, unknown>) {
    const response = await hub.gql<Page>(PAGE, variables);
    expect(response.errors).toBeUndefined();
    return response.data!.orders;
  }

  async function walk(variables: Record<string, unknown>, first: number) {
    const seen: OrderNode[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const result: Page['orders'] = await page({ ...variables, first, after });
      seen.push(...result.edges.map((e) => e.node));
      if (!result.pageInfo.hasNextPage) return { seen, totalCount: result.totalCount };
      after = result.pageInfo.endCursor;
    }
    throw new Error('pagination did not end');
  }

  it('gives one order with everything the contract names, money as exact decimals and times in UTC', async () => {
    const order = await seedOrder(hub.orm, {
      channel: taobao,
      externalId: 'FULL-1',
      status: OrderStatus.PAID,
      customerName: '王小明',
      placedAt: new Date('2026-11-10T08:00:00+08:00'),
      lines: [
        { productCode: 'TEA-1', quantity: 3, unitPrice: '0.10', product: tea },
        { productCode: 'GHOST-9', quantity: 1, unitPrice: '0.20' },
      ],
    });
    const response = await hub.gql<{ order: Record<string, unknown> }>(
      `query One($id: ID!) { order(id: $id) {
        id externalId status customerName placedAt paidAt
        channel { code platform }
        shippingAddress { name line1 province country remote }
        total { amount currencyCode }
        lines { productCode quantity unitPrice { amount currencyCode } lineTotal { amount }
                product { productCode inventory { onHand reserved available safetyStock } } }
        shipments { carrier trackingNumber status events { status occurredAt } }
        timeline { seq type fromStatus toStatus source at }
        reservations { productCode quantity status order { externalId } }
        parent { id } children { id }
        raw
      } }`,
      { id: order.id },
    );
    expect(response.errors).toBeUndefined();
    const got = response.data!.order as Record<string, any>;
    expect(got).toMatchObject({
      id: order.id,
      externalId: 'FULL-1',
      status: 'PAID',
      customerName: '王小明',
      placedAt: '2026-11-10T00:00:00.000Z',
      channel: { code: 'taobao-main', platform: 'TAOBAO' },
      shippingAddress: { line1: '1 Test Road', country: 'CN', remote: false },
      total: { amount: '0.50', currencyCode: 'CNY' },
      parent: null,
      children: [],
      raw: { source: 'fixture', externalId: 'FULL-1' },
    });
    expect(got.lines).toEqual([
      {
        productCode: 'TEA-1',
        quantity: 3,
        unitPrice: { amount: '0.10', currencyCode: 'CNY' },
        lineTotal: { amount: '0.30' },
        product: {
          productCode: 'TEA-1',
          inventory: { onHand: 40, reserved: 0, available: 40, safetyStock: 5 },
        },
      },
      {
        productCode: 'GHOST-9',
        quantity: 1,
        unitPrice: { amount: '0.20', currencyCode: 'CNY' },
        lineTotal: { amount: '0.20' },
        product: null,
      },
    ]);
    expect(got.shipments[0].events.map((e: { status: string }) => e.status)).toEqual([
      'PICKED_UP',
      'IN_TRANSIT',
    ]);
    const seqs = got.timeline.map((e: { seq: string }) => BigInt(e.seq));
    expect(seqs[1] > seqs[0]).toBe(true);
    expect(got.timeline[1]).toMatchObject({
      type: 'STATUS_CHANGED',
      fromStatus: 'PENDING_PAYMENT',
      toStatus: 'PAID',
    });
    expect(got.reservations).toEqual([
      { productCode: 'TEA-1', quantity: 1, status: 'COMMITTED', order: { externalId: 'FULL-1' } },
    ]);
  });

  it('links sub-orders to their parent both ways', async () => {
    const response = await hub.gql<{ parent: any; child: any }>(
      `query($p: ID!, $c: ID!) { parent: order(id: $p) { children { externalId } }
                                 child: order(id: $c) { parent { externalId } } }`,
      { p: parent.id, c: child.id },
    );
    expect(response.data).toEqual({
      parent: { children: [{ externalId: 'P-1-A' }] },
      child: { parent: { externalId: 'P-1' } },
    });
  });

  it('finds an order by its platform number on a channel', async () => {
    const response = await hub.gql<{ hit: any; miss: any }>(
      `{ hit: orderByExternalId(channelCode: "douyin-live", externalId: "T003") { externalId channel { code } }
         miss: orderByExternalId(channelCode: "taobao-main", externalId: "T003") { id } }`,
    );
    expect(response.data).toEqual({
      hit: { externalId: 'T003', channel: { code: 'douyin-live' } },
      miss: null,
    });
  });

  it('answers null for an unknown id and BAD_USER_INPUT for a malformed one', async () => {
    const unknown = await hub.gql(`{ order(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(unknown).toEqual({ data: { order: null } });
    const malformed = await hub.gql(`{ order(id: "42; drop table order") { id } }`);
    expect(errorCodes(malformed)).toEqual(['BAD_USER_INPUT']);
  });

  it('pages through every order exactly once, newest first by default', async () => {
    const all = await walk({}, 7);
    const placed = all.seen.map((o) => o.placedAt);
    expect(all.seen).toHaveLength(all.totalCount);
    expect(new Set(all.seen.map((o) => o.id)).size).toBe(all.totalCount);
    expect(placed).toEqual([...placed].sort().reverse());
  });

  it.each([
    ['TOTAL', 'ASC'],
    ['TOTAL', 'DESC'],
    ['STATUS', 'ASC'],
    ['STATUS', 'DESC'],
    ['PLACED_AT', 'ASC'],
  ])('sorts by %s %s across pages without gaps or repeats', async (field, direction) => {
    const all = await walk({ sort: { field, direction } }, 4);
    expect(new Set(all.seen.map((o) => o.id)).size).toBe(all.totalCount);
    const keys = all.seen.map((o) =>
      field === 'TOTAL'
        ? Number(o.total.amount)
        : field === 'STATUS'
          ? STATUSES.indexOf(o.status)
          : Date.parse(o.placedAt),
    );
    const sorted = [...keys].sort((a, b) => (direction === 'ASC' ? a - b : b - a));
    expect(keys).toEqual(sorted);
  });

  it('filters by channel, platform, status, time window, customer, product and external id', async () => {
    const count = async (filter: Record<string, unknown>) => (await page({ filter, first: 0 })).totalCount;
    expect(await count({ channelCodes: ['douyin-live'] })).toBe(10);
    expect(await count({ platforms: ['DOUYIN'] })).toBe(10);
    expect(await count({ statuses: ['SHIPPED', 'DELIVERED'] })).toBe(8);
    expect(await count({ placedFrom: '2026-11-11T00:00:00Z', placedTo: '2026-11-11T10:00:00+00:00' })).toBe(
      10,
    );
    expect(await count({ customerName: 'zhang_wei 100%' })).toBe(6);
    expect(await count({ customerName: '100%' })).toBe(6);
    expect(await count({ customerName: '_' })).toBe(6);
    expect(await count({ productCode: 'CUP-1' })).toBe(15);
    expect(await count({ externalId: 'T007' })).toBe(1);
    expect(await count({ channelCodes: ['douyin-live'], statuses: ['PENDING_PAYMENT'] })).toBe(2);
  });

  it('rejects bad paging and filter input with BAD_USER_INPUT', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [PAGE, { first: -1 }],
      [PAGE, { first: 100000 }],
      [PAGE, { after: 'not-a-cursor' }],
      [PAGE, { after: Buffer.from('{"s":"PLACED_AT:DESC","v":"x","id":"y"}').toString('base64url') }],
      [PAGE, { filter: { statuses: ['LOST'] } }],
      [PAGE, { sort: { field: 'COLOUR', direction: 'ASC' } }],
      [PAGE, { filter: { placedFrom: 'yesterday' } }],
      [PAGE, { filter: { placedFrom: '2026-11-12T00:00:00Z', placedTo: '2026-11-11T00:00:00Z' } }],
    ];
    for (const [query, variables] of cases) {
      const response = await hub.gql(query, variables);
      expect(errorCodes(response), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('refuses a cursor handed out for another sort order', async () => {
    const first = await page({ first: 2, sort: { field: 'TOTAL', direction: 'ASC' } });
    const response = await hub.gql(PAGE, { first: 2, after: first.pageInfo.endCursor });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0].message).toMatch(/another sort/);
  });

  it('lists order events after a seq, in seq order', async () => {
    const all = await hub.gql<{ orderEvents: { seq: string }[] }>(
      `{ orderEvents(first: 1000) { seq orderId } }`,
    );
    const seqs = all.data!.orderEvents.map((e) => BigInt(e.seq));
    expect(seqs.length).toBeGreaterThan(60);
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
    const after = all.data!.orderEvents[9].seq;
    const next = await hub.gql<{ orderEvents: { seq: string }[] }>(
      `query($after: ID) { orderEvents(after: $after, first: 5) { seq } }`,
      { after },
    );
    expect(next.data!.orderEvents.map((e) => e.seq)).toEqual(
      all.data!.orderEvents.slice(10, 15).map((e) => e.seq),
    );
    expect(errorCodes(await hub.gql(`{ orderEvents(after: "abc") { seq } }`))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('reading the catalog and the stock picture', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('catalog-read');
    for (let i = 0; i < 12; i++) await seedProduct(hub.orm, `SKU-${String(i).padStart(2, '0')}`, i, 3);
  });

  afterAll(() => hub.close());

  it('pages products by productCode', async () => {
    const first = await hub.gql<{ products: { productCode: string }[] }>(
      `{ products(first: 5) { productCode } }`,
    );
    expect(first.data!.products.map((p) => p.productCode)).toEqual([
      'SKU-00',
      'SKU-01',
      'SKU-02',
      'SKU-03',
      'SKU-04',
    ]);
    const next = await hub.gql<{ products: { productCode: string }[] }>(
      `{ products(first: 5, after: "SKU-04") { productCode } }`,
    );
    expect(next.data!.products[0].productCode).toBe('SKU-05');
  });

  it('answers a product, its inventory, and null for an unknown code', async () => {
    const response = await hub.gql(
      `{ product(productCode: "SKU-07") { productCode name coldChain closedOnChannels inventory { onHand available } }
         inventory(productCode: "SKU-07") { productCode onHand reserved available safetyStock updatedAt }
         missing: product(productCode: "NOPE") { id } }`,
    );
    expect(response.data).toMatchObject({
      product: {
        productCode: 'SKU-07',
        coldChain: false,
        closedOnChannels: [],
        inventory: { onHand: 7, available: 7 },
      },
      inventory: { productCode: 'SKU-07', onHand: 7, reserved: 0, available: 7, safetyStock: 3 },
      missing: null,
    });
  });

  it('lists low stock: every item at or below its safety stock, emptiest first', async () => {
    const response = await hub.gql<{ lowStock: { productCode: string; available: number }[] }>(
      `{ lowStock { productCode available } }`,
    );
    expect(response.data!.lowStock).toEqual([
      { productCode: 'SKU-00', available: 0 },
      { productCode: 'SKU-01', available: 1 },
      { productCode: 'SKU-02', available: 2 },
      { productCode: 'SKU-03', available: 3 },
    ]);
  });
});
