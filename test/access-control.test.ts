import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reservation, type Order } from '../entities/index.js';
import { Platform, Role } from '../common/enums.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import {
  ADMIN_KEY,
  errorCodes,
  startTestHub,
  wsExecute,
  type GraphQLResponse,
  type TestHub,
} from './support/hub.js';
import { waitFor } from './support/wait.js';

/**
 * Who may call what. Every operation of the API belongs to one kind; every kind is
 * open to a fixed set of roles (ADMIN may do everything). STOREFRONT and CONNECTOR keys
 * act for one channel only ("shop" here), and must never see another channel's data.
 */

type Kind = 'read-orders' | 'read-catalog' | 'read-operations' | 'admin-mutation' | 'catalog-mutation';
type Caller = Role | 'no key' | 'revoked key' | 'unknown key';
type Outcome = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED';

const KEY_ROLES = [Role.ADMIN, Role.OPS, Role.ANALYST, Role.STOREFRONT, Role.CONNECTOR] as const;
const CALLERS: readonly Caller[] = [...KEY_ROLES, 'no key', 'revoked key', 'unknown key'];

/** The roles each kind of operation is open to. */
const OPEN_TO: Record<Kind, readonly Role[]> = {
  'read-orders': [Role.ADMIN, Role.OPS, Role.ANALYST, Role.STOREFRONT],
  'read-catalog': [Role.ADMIN, Role.OPS, Role.ANALYST, Role.STOREFRONT, Role.CONNECTOR],
  'read-operations': [Role.ADMIN, Role.OPS, Role.ANALYST],
  'admin-mutation': [Role.ADMIN],
  'catalog-mutation': [Role.ADMIN, Role.OPS],
};

function expectedOutcome(kind: Kind, caller: Caller): Outcome {
  if (caller === 'no key' || caller === 'revoked key' || caller === 'unknown key') return 'UNAUTHENTICATED';
  return OPEN_TO[kind].includes(caller) ? 'allowed' : 'FORBIDDEN';
}

/** Seeded data that must never show in a refused reply. */
const SHOP_ORDERS = ['SHOP-001', 'SHOP-002'];
const OTHER_ORDERS = ['OTHER-001', 'OTHER-002'];
const SHOP_BUYER = 'Shop Buyer Wang';
const OTHER_BUYER = 'Other Buyer Zhao';
const PRIVATE_MARKERS = [...SHOP_ORDERS, ...OTHER_ORDERS, SHOP_BUYER, OTHER_BUYER];

interface World {
  shopOrders: Order[];
  otherOrders: Order[];
  shopReservationId: string;
  otherReservationId: string;
  /** A key nobody uses, for the revokeApiKey cells. */
  throwawayKeyId: string;
}

interface Operation {
  field: string;
  kind: Kind;
  query: string;
  /** `tag` tells callers apart, so the rows a mutation writes can be traced to who called it. */
  variables?: (world: World, tag: string) => Record<string, unknown>;
  /** How many rows the call with `tag` left behind: 1 when allowed, 0 when refused. */
  effect?: (tag: string) => Promise<number>;
}

let hub: TestHub;
const world = {} as World;
const secrets = new Map<Caller, string | null>();

async function count(sql: string, params: unknown[]): Promise<number> {
  const rows = await hub.orm.em.getConnection().execute<{ n: number }[]>(sql, params);
  return rows[0].n;
}

const OPERATIONS: Operation[] = [
  {
    field: 'orders',
    kind: 'read-orders',
    query: `{ orders(first: 10) { totalCount edges { node { id externalId customerName } } } }`,
  },
  {
    field: 'order',
    kind: 'read-orders',
    query: `query ($id: ID!) { order(id: $id) { id externalId customerName } }`,
    variables: (w) => ({ id: w.shopOrders[0].id }),
  },
  {
    field: 'orderByExternalId',
    kind: 'read-orders',
    query: `query ($c: String!, $e: String!) { orderByExternalId(channelCode: $c, externalId: $e) { id externalId } }`,
    variables: () => ({ c: 'shop', e: SHOP_ORDERS[0] }),
  },
  {
    field: 'orderEvents',
    kind: 'read-orders',
    query: `{ orderEvents(first: 10) { seq orderId type } }`,
  },
  {
    field: 'reservation',
    kind: 'read-orders',
    query: `query ($id: ID!) { reservation(id: $id) { id status productCode } }`,
    variables: (w) => ({ id: w.shopReservationId }),
  },
  { field: 'channels', kind: 'read-catalog', query: `{ channels { code } }` },
  {
    field: 'channel',
    kind: 'read-catalog',
    query: `query ($code: String!) { channel(code: $code) { code salesOpen } }`,
    variables: () => ({ code: 'shop' }),
  },
  { field: 'products', kind: 'read-catalog', query: `{ products { productCode name } }` },
  {
    field: 'product',
    kind: 'read-catalog',
    query: `{ product(productCode: "TEA-1") { productCode inventory { available } } }`,
  },
  {
    field: 'inventory',
    kind: 'read-catalog',
    query: `{ inventory(productCode: "TEA-1") { productCode onHand available } }`,
  },
  { field: 'lowStock', kind: 'read-operations', query: `{ lowStock { productCode available safetyStock } }` },
  { field: 'stockAlerts', kind: 'read-operations', query: `{ stockAlerts { id kind productCode } }` },
  {
    field: 'upsertChannel',
    kind: 'admin-mutation',
    query: `mutation ($input: ChannelInput!) { upsertChannel(input: $input) { id code } }`,
    variables: (_w, tag) => ({ input: { code: `mx-${tag}`, platform: Platform.JD, name: `Matrix ${tag}` } }),
    effect: (tag) => count('select count(*)::int as n from channel where code = ?', [`mx-${tag}`]),
  },
  {
    field: 'setChannelCore',
    kind: 'admin-mutation',
    query: `mutation { setChannelCore(code: "matrix-extra", isCore: false) { code isCore } }`,
  },
  {
    field: 'createApiKey',
    kind: 'admin-mutation',
    query: `mutation ($label: String!) { createApiKey(role: ANALYST, label: $label) { secret apiKey { id } } }`,
    variables: (_w, tag) => ({ label: `matrix ${tag}` }),
    effect: (tag) => count('select count(*)::int as n from api_key where label = ?', [`matrix ${tag}`]),
  },
  {
    field: 'revokeApiKey',
    kind: 'admin-mutation',
    query: `mutation ($id: ID!) { revokeApiKey(id: $id) }`,
    variables: (w) => ({ id: w.throwawayKeyId }),
  },
  {
    field: 'upsertProduct',
    kind: 'catalog-mutation',
    query: `mutation ($input: ProductInput!) { upsertProduct(input: $input) { id productCode } }`,
    variables: (_w, tag) => ({ input: { productCode: `MX-${tag}`, name: `Matrix ${tag}` } }),
    effect: (tag) => count('select count(*)::int as n from product where product_code = ?', [`MX-${tag}`]),
  },
  {
    field: 'mapChannelSku',
    kind: 'catalog-mutation',
    query: `mutation ($sku: String!) { mapChannelSku(channelCode: "matrix-extra", platformSkuId: $sku, productCode: "TEA-1") }`,
    variables: (_w, tag) => ({ sku: `sku-${tag}` }),
    effect: (tag) =>
      count('select count(*)::int as n from channel_sku where platform_sku_id = ?', [`sku-${tag}`]),
  },
  {
    field: 'setChannelSalesOpen',
    kind: 'catalog-mutation',
    query: `mutation { setChannelSalesOpen(code: "matrix-extra", open: true) { code salesOpen } }`,
  },
];

function slug(caller: Caller): string {
  return caller.toLowerCase().replace(/\s+/g, '-');
}

function describeCell(caller: Caller, op: Operation, outcome: Outcome): string {
  const who = KEY_ROLES.includes(caller as Role)
    ? `${/^[AEIOU]/.test(caller) ? 'an' : 'a'} ${caller} key`
    : caller === 'no key'
      ? 'a caller with no key'
      : `${/^[aeiou]/.test(caller) ? 'an' : 'a'} ${caller}`;
  return outcome === 'allowed'
    ? `${who} may call ${op.field}`
    : `${who} is refused ${op.field} with ${outcome}`;
}

const CELLS = OPERATIONS.flatMap((op) =>
  CALLERS.map((caller) => {
    const outcome = expectedOutcome(op.kind, caller);
    return { op, caller, outcome, title: describeCell(caller, op, outcome) };
  }),
);

/** Checks one reply against the outcome its cell expects, and that a refusal wrote and revealed nothing. */
async function expectOutcome(res: GraphQLResponse, op: Operation, outcome: Outcome, tag: string) {
  if (outcome === 'allowed') {
    expect(errorCodes(res)).toEqual([]);
    expect(res.data?.[op.field]).toBeDefined();
    expect(res.data?.[op.field]).not.toBeNull();
    if (op.effect) expect(await op.effect(tag)).toBe(1);
  } else {
    expect(errorCodes(res)).toEqual([outcome]);
    expect(res.data?.[op.field] ?? null).toBeNull();
    const json = JSON.stringify(res);
    for (const marker of PRIVATE_MARKERS) expect(json).not.toContain(marker);
    if (op.effect) expect(await op.effect(tag)).toBe(0);
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing happened within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Opens a socket with `key` and resolves with the code the server closes it with. */
function closeCodeFor(key: string | null): Promise<number> {
  return withDeadline(
    new Promise<number>((resolve) => {
      hub.wsClient(key, { onClose: (code) => resolve(code) });
    }),
    60_000,
    'waiting for the server to close the socket',
  );
}

async function revokeKey(id: string) {
  const res = await hub.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) }`, { id });
  expect(errorCodes(res)).toEqual([]);
}

function keyOf(caller: Caller): string | null {
  const secret = secrets.get(caller);
  if (secret === undefined) throw new Error(`no secret set up for ${caller}`);
  return secret;
}

beforeAll(async () => {
  // The matrix sends hundreds of requests without a valid key in seconds; their per-IP limit is
  // tested in test/security/rate-limits.test.ts.
  hub = await startTestHub('access-control', { env: { RATE_LIMIT_ANONYMOUS: 'none' } });
  const shop = await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  const other = await seedChannel(hub.orm, 'other', Platform.DOUYIN);
  await seedChannel(hub.orm, 'matrix-extra', Platform.JD);
  const tea = await seedProduct(hub.orm, 'TEA-1', 40, 5);
  await seedProduct(hub.orm, 'LOW-1', 1, 5);
  const lines = [{ productCode: 'TEA-1', quantity: 2, unitPrice: '19.90', product: tea }];
  world.shopOrders = [];
  for (const externalId of SHOP_ORDERS) {
    world.shopOrders.push(
      await seedOrder(hub.orm, { channel: shop, externalId, customerName: SHOP_BUYER, lines }),
    );
  }
  world.otherOrders = [];
  for (const externalId of OTHER_ORDERS) {
    world.otherOrders.push(
      await seedOrder(hub.orm, { channel: other, externalId, customerName: OTHER_BUYER, lines }),
    );
  }
  const em = hub.orm.em.fork();
  world.shopReservationId = (await em.findOneOrFail(Reservation, { order: world.shopOrders[0].id })).id;
  world.otherReservationId = (await em.findOneOrFail(Reservation, { order: world.otherOrders[0].id })).id;

  secrets.set(Role.ADMIN, ADMIN_KEY);
  secrets.set(Role.OPS, (await hub.issueApiKey(Role.OPS, { label: 'ops desk' })).secret);
  secrets.set(Role.ANALYST, (await hub.issueApiKey(Role.ANALYST, { label: 'analyst' })).secret);
  secrets.set(
    Role.STOREFRONT,
    (await hub.issueApiKey(Role.STOREFRONT, { label: 'shop storefront', channelCode: 'shop' })).secret,
  );
  secrets.set(
    Role.CONNECTOR,
    (await hub.issueApiKey(Role.CONNECTOR, { label: 'shop connector', channelCode: 'shop' })).secret,
  );
  secrets.set('no key', null);
  secrets.set('unknown key', 'hub_this-key-was-never-issued-by-the-hub');
  // The strongest key there is, revoked: revocation must beat the role.
  const revoked = await hub.issueApiKey(Role.ADMIN, { label: 'revoked admin' });
  await revokeKey(revoked.id);
  secrets.set('revoked key', revoked.secret);
  world.throwawayKeyId = (await hub.issueApiKey(Role.ANALYST, { label: 'throwaway' })).id;
});

afterAll(async () => {
  await hub?.close();
});

describe('the access matrix over HTTP: every operation kind × every kind of caller', () => {
  for (const kind of Object.keys(OPEN_TO) as Kind[]) {
    describe(`${kind} (open to ${OPEN_TO[kind].join(', ')})`, () => {
      for (const { op, caller, outcome, title } of CELLS.filter((cell) => cell.op.kind === kind)) {
        it(title, async () => {
          const tag = slug(caller);
          const res = await hub.gql(op.query, op.variables?.(world, tag), keyOf(caller));
          await expectOutcome(res, op, outcome, tag);
        });
      }
    });
  }
});

describe('a STOREFRONT key sees its own channel only', () => {
  const storefront = () => keyOf(Role.STOREFRONT);
  const ORDER_DETAILS = `id externalId customerName raw channel { code }
    lines { productCode quantity } reservations { id } timeline { seq type } shipments { trackingNumber }`;

  function expectNothingOfOtherChannel(res: GraphQLResponse) {
    const json = JSON.stringify(res);
    for (const marker of [...OTHER_ORDERS, OTHER_BUYER, ...world.otherOrders.map((o) => `"${o.id}"`)]) {
      expect(json).not.toContain(marker);
    }
  }

  it('lists only the orders of its own channel, and counts only those', async () => {
    const res = await hub.gql<{
      orders: { totalCount: number; edges: { node: { externalId: string; channel: { code: string } } }[] };
    }>(
      `{ orders(first: 50) { totalCount edges { node { externalId channel { code } } } } }`,
      {},
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.totalCount).toBe(SHOP_ORDERS.length);
    expect(res.data!.orders.edges.map((e) => e.node.externalId).sort()).toEqual(SHOP_ORDERS);
    expect(new Set(res.data!.orders.edges.map((e) => e.node.channel.code))).toEqual(new Set(['shop']));
    expectNothingOfOtherChannel(res);
  });

  it('while ADMIN, OPS and ANALYST keys list the orders of every channel', async () => {
    for (const role of [Role.ADMIN, Role.OPS, Role.ANALYST]) {
      const res = await hub.gql<{ orders: { totalCount: number } }>(
        `{ orders { totalCount } }`,
        {},
        keyOf(role),
      );
      expect(res.data?.orders.totalCount, role).toBe(SHOP_ORDERS.length + OTHER_ORDERS.length);
    }
  });

  it('reads an order of its own channel in full', async () => {
    const res = await hub.gql<{ order: { externalId: string; channel: { code: string }; lines: unknown[] } }>(
      `query ($id: ID!) { order(id: $id) { ${ORDER_DETAILS} } }`,
      { id: world.shopOrders[0].id },
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.order.externalId).toBe(SHOP_ORDERS[0]);
    expect(res.data!.order.channel.code).toBe('shop');
    expect(res.data!.order.lines).toHaveLength(1);
  });

  it('is refused an order of another channel with FORBIDDEN, and the reply holds nothing of that order', async () => {
    const res = await hub.gql(
      `query ($id: ID!) { order(id: $id) { ${ORDER_DETAILS} } }`,
      { id: world.otherOrders[0].id },
      storefront(),
    );
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?.order ?? null).toBeNull();
    expectNothingOfOtherChannel(res);
  });

  it('may not filter orders by another channel, alone or next to its own', async () => {
    for (const channelCodes of [['other'], ['shop', 'other']]) {
      const res = await hub.gql(
        `query ($f: OrderFilter) { orders(filter: $f) { totalCount edges { node { externalId customerName } } } }`,
        { f: { channelCodes } },
        storefront(),
      );
      expect(errorCodes(res), channelCodes.join(',')).toEqual(['FORBIDDEN']);
      expect(res.data ?? null).toBeNull();
      expectNothingOfOtherChannel(res);
    }
  });

  it('may filter orders by its own channel', async () => {
    const res = await hub.gql<{ orders: { totalCount: number } }>(
      `{ orders(filter: { channelCodes: ["shop"] }) { totalCount } }`,
      {},
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.totalCount).toBe(SHOP_ORDERS.length);
  });

  it("finds nothing when it filters its orders by another channel's external id", async () => {
    const res = await hub.gql<{ orders: { totalCount: number; edges: unknown[] } }>(
      `query ($e: String) { orders(filter: { externalId: $e }) { totalCount edges { node { id } } } }`,
      { e: OTHER_ORDERS[0] },
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders).toEqual({ totalCount: 0, edges: [] });
  });

  it('is refused orderByExternalId on another channel with FORBIDDEN, and the reply holds nothing of it', async () => {
    const res = await hub.gql(
      `query ($c: String!, $e: String!) { orderByExternalId(channelCode: $c, externalId: $e) { ${ORDER_DETAILS} } }`,
      { c: 'other', e: OTHER_ORDERS[0] },
      storefront(),
    );
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?.orderByExternalId ?? null).toBeNull();
    expectNothingOfOtherChannel(res);
  });

  it("does not find another channel's order by asking for its external id on its own channel", async () => {
    const res = await hub.gql(
      `query ($c: String!, $e: String!) { orderByExternalId(channelCode: $c, externalId: $e) { id externalId } }`,
      { c: 'shop', e: OTHER_ORDERS[0] },
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data).toEqual({ orderByExternalId: null });
  });

  it('reads the order events of its own channel only', async () => {
    const res = await hub.gql<{ orderEvents: { orderId: string }[] }>(
      `{ orderEvents(first: 1000) { seq orderId type source } }`,
      {},
      storefront(),
    );
    expect(errorCodes(res)).toEqual([]);
    const shopIds = new Set(world.shopOrders.map((o) => o.id));
    expect(res.data!.orderEvents.length).toBeGreaterThan(0);
    for (const event of res.data!.orderEvents) expect(shopIds.has(event.orderId)).toBe(true);
    expectNothingOfOtherChannel(res);
  });

  it("does not see another channel's reservation", async () => {
    const res = await hub.gql(
      `query ($id: ID!) { reservation(id: $id) { id productCode order { ${ORDER_DETAILS} } } }`,
      { id: world.otherReservationId },
      storefront(),
    );
    expect(res.data?.reservation ?? null).toBeNull();
    expect(JSON.stringify(res)).not.toContain(world.otherReservationId);
    expectNothingOfOtherChannel(res);
  });

  it('lists only its own channel among the channels', async () => {
    for (const role of [Role.STOREFRONT, Role.CONNECTOR]) {
      const res = await hub.gql<{ channels: { code: string }[] }>(`{ channels { code } }`, {}, keyOf(role));
      expect(errorCodes(res), role).toEqual([]);
      expect(res.data!.channels, role).toEqual([{ code: 'shop' }]);
    }
  });

  it('is refused another channel by code with FORBIDDEN (STOREFRONT and CONNECTOR alike)', async () => {
    for (const role of [Role.STOREFRONT, Role.CONNECTOR]) {
      const res = await hub.gql(`{ channel(code: "other") { code name platform } }`, {}, keyOf(role));
      expect(errorCodes(res), role).toEqual(['FORBIDDEN']);
      expect(res.data?.channel ?? null, role).toBeNull();
      expect(JSON.stringify(res.data ?? null)).not.toContain('DOUYIN');
    }
  });

  it('a CONNECTOR key of the same channel may not read even that channel’s orders', async () => {
    const connector = keyOf(Role.CONNECTOR);
    const byId = await hub.gql(
      `query ($id: ID!) { order(id: $id) { ${ORDER_DETAILS} } }`,
      { id: world.shopOrders[0].id },
      connector,
    );
    expect(errorCodes(byId)).toEqual(['FORBIDDEN']);
    expect(byId.data?.order ?? null).toBeNull();
    const list = await hub.gql(`{ orders { totalCount edges { node { externalId } } } }`, {}, connector);
    expect(errorCodes(list)).toEqual(['FORBIDDEN']);
    for (const marker of PRIVATE_MARKERS) expect(JSON.stringify([byId, list])).not.toContain(marker);
  });
});

describe('revoking a key', () => {
  it('takes effect on the very next request, and says why', async () => {
    const key = await hub.issueApiKey(Role.OPS, { label: 'soon revoked' });
    const before = await hub.gql(`{ channels { code } }`, {}, key.secret);
    expect(errorCodes(before)).toEqual([]);

    await revokeKey(key.id);

    const after = await hub.gql(`{ channels { code } }`, {}, key.secret);
    expect(errorCodes(after)).toEqual(['UNAUTHENTICATED']);
    expect(after.data ?? null).toBeNull();
    expect(after.errors![0].message).toMatch(/revoked/i);
  });

  it('leaves every other key working', async () => {
    const doomed = await hub.issueApiKey(Role.ANALYST, { label: 'doomed' });
    const survivor = await hub.issueApiKey(Role.ANALYST, { label: 'survivor' });
    await revokeKey(doomed.id);
    const res = await hub.gql<{ orders: { totalCount: number } }>(
      `{ orders { totalCount } }`,
      {},
      survivor.secret,
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.totalCount).toBe(SHOP_ORDERS.length + OTHER_ORDERS.length);
  });

  it('closes a websocket that is already open with 4403, and a new socket with it too', async () => {
    const key = await hub.issueApiKey(Role.ANALYST, { label: 'revoked while connected' });
    let closed: { code: number; reason: string } | null = null;
    const client = hub.wsClient(key.secret, { onClose: (code, reason) => (closed ??= { code, reason }) });
    const before = await wsExecute<{ channels: unknown[] }>(client, `{ channels { code } }`);
    expect(errorCodes(before)).toEqual([]);

    await revokeKey(key.id);

    // An operation sent on it meanwhile is refused (test/security/api-keys.test.ts).
    await waitFor(() => closed !== null, 'the open socket to be closed');
    expect(closed).toEqual({ code: 4403, reason: 'API key revoked' });
    expect(await closeCodeFor(key.secret)).toBe(4403);
  });
});

describe('over the websocket', () => {
  const clients = new Map<Caller, Client>();
  function wsFor(caller: Caller): Client {
    let client = clients.get(caller);
    if (!client) {
      client = hub.wsClient(keyOf(caller));
      clients.set(caller, client);
    }
    return client;
  }

  it('a connection with no key is closed with 4401', async () => {
    expect(await closeCodeFor(null)).toBe(4401);
  });

  it('a connection with an unknown key is closed with 4403', async () => {
    expect(await closeCodeFor('hub_this-key-was-never-issued-by-the-hub')).toBe(4403);
  });

  it('a connection with a revoked key is closed with 4403', async () => {
    expect(await closeCodeFor(keyOf('revoked key'))).toBe(4403);
  });

  // One operation of each kind, for every role: the same rules as over HTTP.
  const REPRESENTATIVE = ['order', 'channels', 'lowStock', 'createApiKey', 'upsertProduct'];
  const WS_CELLS = CELLS.filter(
    (cell) => REPRESENTATIVE.includes(cell.op.field) && KEY_ROLES.includes(cell.caller as Role),
  );

  for (const { op, caller, outcome, title } of WS_CELLS) {
    it(`${title}, as over HTTP`, async () => {
      const tag = `${slug(caller)}-ws`;
      const res = await wsExecute(wsFor(caller), op.query, op.variables?.(world, tag));
      await expectOutcome(res, op, outcome, tag);
    });
  }

  it("a STOREFRONT key is refused another channel's order with FORBIDDEN, and the reply holds nothing of it", async () => {
    const res = await wsExecute(
      wsFor(Role.STOREFRONT),
      `query ($id: ID!) { order(id: $id) { id externalId customerName raw lines { productCode } } }`,
      { id: world.otherOrders[0].id },
    );
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.data?.order ?? null).toBeNull();
    for (const marker of [...OTHER_ORDERS, OTHER_BUYER]) expect(JSON.stringify(res)).not.toContain(marker);
  });

  it('a STOREFRONT key lists only its own channel’s orders', async () => {
    const res = await wsExecute<{ orders: { edges: { node: { externalId: string } }[] } }>(
      wsFor(Role.STOREFRONT),
      `{ orders { edges { node { externalId } } } }`,
    );
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.edges.map((e) => e.node.externalId).sort()).toEqual(SHOP_ORDERS);
  });
});

describe('query limits apply to every caller, over HTTP and over the websocket', () => {
  /** `order { id parent { id parent { ... { id } } } }`, `levels` parents deep. */
  function parentChain(levels: number): string {
    let selection = 'id';
    for (let i = 0; i < levels; i++) selection = `id parent { ${selection} }`;
    return `query ($id: ID!) { order(id: $id) { ${selection} } }`;
  }
  /** Within the depth limit, but asks for 500 orders with everything under them. */
  const COSTLY = `{ orders(first: 500) { edges { node {
    id externalId customerName status placedAt
    lines { id productCode quantity unitPrice { amount currencyCode }
      product { productCode name inventory { onHand reserved available safetyStock } } }
    timeline { seq type fromStatus toStatus at source }
    shipments { trackingNumber status events { status occurredAt } }
  } } } }`;
  const ALIASES = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: channels { code }`).join(' ')} }`;

  const over = {
    HTTP: (query: string, variables?: Record<string, unknown>) => hub.gql(query, variables, ADMIN_KEY),
    websocket: (query: string, variables?: Record<string, unknown>) =>
      wsExecute(hub.wsClient(ADMIN_KEY), query, variables),
  };

  for (const [transport, run] of Object.entries(over)) {
    it(`answers a shallow query over ${transport}`, async () => {
      const res = await run(parentChain(3), { id: world.shopOrders[0].id });
      expect(errorCodes(res)).toEqual([]);
      expect(res.data).toEqual({ order: { id: world.shopOrders[0].id, parent: null } });
    });

    it(`refuses a query nested 15 levels deep with QUERY_TOO_COMPLEX over ${transport}, even for ADMIN`, async () => {
      const res = await run(parentChain(15), { id: world.shopOrders[0].id });
      expect(errorCodes(res)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(res.data ?? null).toBeNull();
      expect(res.errors![0].message).toMatch(/depth/i);
    });

    it(`refuses a query over the cost limit with QUERY_TOO_COMPLEX over ${transport}`, async () => {
      const res = await run(COSTLY);
      expect(errorCodes(res)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(res.data ?? null).toBeNull();
    });

    it(`refuses more than 30 aliases with QUERY_TOO_COMPLEX over ${transport}`, async () => {
      const res = await run(ALIASES);
      expect(errorCodes(res)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(res.data ?? null).toBeNull();
    });
  }

  it('answers the costly query once it asks for a small page', async () => {
    const res = await hub.gql<{ orders: { edges: unknown[] } }>(COSTLY.replace('first: 500', 'first: 5'));
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.orders.edges).toHaveLength(4);
  });
});
