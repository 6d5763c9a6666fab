import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, Role } from '../common/enums.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type GraphQLResponse, type TestHub } from './support/hub.js';

/** The administration mutations, as an operator setting up the hub relies on them. */

interface ProductReply {
  id: string;
  productCode: string;
  name: string;
  coldChain: boolean;
  closedOnChannels: string[];
  inventory: {
    productCode: string;
    onHand: number;
    reserved: number;
    available: number;
    safetyStock: number;
  };
}

interface ChannelReply {
  id: string;
  code: string;
  platform: Platform;
  name: string;
  isCore: boolean;
  salesOpen: boolean;
  ingestionModes: string[];
  health: string;
}

interface CreatedKeyReply {
  secret: string;
  apiKey: { id: string; role: Role; channelCode: string | null; label: string; createdAt: string };
}

const PRODUCT_FIELDS = `id productCode name coldChain closedOnChannels
  inventory { productCode onHand reserved available safetyStock }`;
const CHANNEL_FIELDS = `id code platform name isCore salesOpen ingestionModes health`;

const UPSERT_PRODUCT = `mutation ($input: ProductInput!) { upsertProduct(input: $input) { ${PRODUCT_FIELDS} } }`;
const UPSERT_CHANNEL = `mutation ($input: ChannelInput!) { upsertChannel(input: $input) { ${CHANNEL_FIELDS} } }`;
const SET_CORE = `mutation ($code: String!, $isCore: Boolean!) { setChannelCore(code: $code, isCore: $isCore) { ${CHANNEL_FIELDS} } }`;
const SET_SALES_OPEN = `mutation ($code: String!, $open: Boolean!) { setChannelSalesOpen(code: $code, open: $open) { ${CHANNEL_FIELDS} } }`;
const READ_CHANNEL = `query ($code: String!) { channel(code: $code) { ${CHANNEL_FIELDS} } }`;
const MAP_SKU = `mutation ($channelCode: String!, $sku: String!, $productCode: String!) {
  mapChannelSku(channelCode: $channelCode, platformSkuId: $sku, productCode: $productCode)
}`;
const CREATE_KEY = `mutation ($role: Role!, $label: String!, $channelCode: String) {
  createApiKey(role: $role, label: $label, channelCode: $channelCode) {
    secret apiKey { id role channelCode label createdAt }
  }
}`;
const REVOKE_KEY = `mutation ($id: ID!) { revokeApiKey(id: $id) }`;

let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub('administration');
  await seedChannel(hub.orm, 'admin-shop', Platform.STOREFRONT);
  await seedChannel(hub.orm, 'admin-jd', Platform.JD);
  await seedProduct(hub.orm, 'RICE-5KG', 30);
  await seedProduct(hub.orm, 'RICE-10KG', 12);
});

afterAll(async () => {
  await hub?.close();
});

async function sql<T extends Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return hub.orm.em.getConnection().execute<T[]>(query, params);
}

async function count(query: string, params: unknown[] = []): Promise<number> {
  const rows = await sql<{ n: number }>(query, params);
  return rows[0].n;
}

/** Expects exactly one error, with `code`, and no data for `field`. */
function expectRefused(res: GraphQLResponse, code: string, field: string) {
  expect(errorCodes(res)).toEqual([code]);
  expect(res.data?.[field] ?? null).toBeNull();
  expect(res.errors![0].message.length).toBeGreaterThan(10);
}

async function upsertProduct(input: Record<string, unknown>) {
  return hub.gql<{ upsertProduct: ProductReply }>(UPSERT_PRODUCT, { input });
}

async function upsertChannel(input: Record<string, unknown>) {
  return hub.gql<{ upsertChannel: ChannelReply }>(UPSERT_CHANNEL, { input });
}

async function createKey(role: Role, label: string, channelCode: string | null = null) {
  return hub.gql<{ createApiKey: CreatedKeyReply }>(CREATE_KEY, { role, label, channelCode });
}

async function mappedProduct(channelCode: string, sku: string): Promise<string[]> {
  const rows = await sql<{ product_code: string }>(
    `select p.product_code from channel_sku cs
       join channel c on c.id = cs.channel_id
       join product p on p.id = cs.product_id
      where c.code = ? and cs.platform_sku_id = ?`,
    [channelCode, sku],
  );
  return rows.map((r) => r.product_code);
}

describe('upsertProduct', () => {
  it('creates a product with an empty inventory item', async () => {
    const res = await upsertProduct({ productCode: 'OOLONG-250G', name: 'Oolong tea 250 g' });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.upsertProduct).toMatchObject({
      productCode: 'OOLONG-250G',
      name: 'Oolong tea 250 g',
      coldChain: false,
      closedOnChannels: [],
      inventory: { productCode: 'OOLONG-250G', onHand: 0, reserved: 0, available: 0, safetyStock: 0 },
    });

    const read = await hub.gql<{ product: ProductReply; inventory: ProductReply['inventory'] }>(
      `{ product(productCode: "OOLONG-250G") { ${PRODUCT_FIELDS} } inventory(productCode: "OOLONG-250G") { onHand available } }`,
    );
    expect(read.data!.product).toEqual(res.data!.upsertProduct);
    expect(read.data!.inventory).toEqual({ onHand: 0, available: 0 });
  });

  it('renames the product on a second call, without making a second product or inventory item', async () => {
    const first = await upsertProduct({ productCode: 'GREEN-100G', name: 'Green tea' });
    const second = await upsertProduct({ productCode: 'GREEN-100G', name: 'Longjing green tea 100 g' });
    expect(errorCodes(second)).toEqual([]);
    expect(second.data!.upsertProduct.id).toBe(first.data!.upsertProduct.id);
    expect(second.data!.upsertProduct.name).toBe('Longjing green tea 100 g');

    expect(await count(`select count(*)::int as n from product where product_code = 'GREEN-100G'`)).toBe(1);
    expect(
      await count(`select count(*)::int as n from inventory_item where product_code = 'GREEN-100G'`),
    ).toBe(1);
    const list = await hub.gql<{ products: { productCode: string; name: string }[] }>(
      `{ products(first: 1000) { productCode name } }`,
    );
    expect(list.data!.products.filter((p) => p.productCode === 'GREEN-100G')).toEqual([
      { productCode: 'GREEN-100G', name: 'Longjing green tea 100 g' },
    ]);
  });

  it('keeps the stock of an existing product when renaming it', async () => {
    const res = await upsertProduct({ productCode: 'RICE-5KG', name: 'Northeast rice 5 kg' });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.upsertProduct.name).toBe('Northeast rice 5 kg');
    expect(res.data!.upsertProduct.inventory).toMatchObject({ onHand: 30, available: 30 });
  });

  it('records a cold-chain product', async () => {
    const res = await upsertProduct({ productCode: 'YOGURT-6', name: 'Yogurt six-pack', coldChain: true });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.upsertProduct.coldChain).toBe(true);
  });

  it.each([
    ['a blank name', { productCode: 'BLANK-NAME', name: '   ' }],
    ['a product code with spaces', { productCode: 'BAD CODE', name: 'Bad code' }],
    ['an empty product code', { productCode: '', name: 'No code' }],
  ])('refuses %s with BAD_USER_INPUT and creates nothing', async (_what, input) => {
    const before = await count(`select count(*)::int as n from product`);
    expectRefused(await upsertProduct(input), 'BAD_USER_INPUT', 'upsertProduct');
    expect(await count(`select count(*)::int as n from product`)).toBe(before);
  });
});

describe('upsertChannel', () => {
  it('creates a channel, open for sales and not core unless asked', async () => {
    const res = await upsertChannel({
      code: 'kuaishou-live',
      platform: Platform.KUAISHOU,
      name: 'Kuaishou live',
    });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.upsertChannel).toMatchObject({
      code: 'kuaishou-live',
      platform: Platform.KUAISHOU,
      name: 'Kuaishou live',
      isCore: false,
      salesOpen: true,
    });
    expect(res.data!.upsertChannel.ingestionModes.length).toBeGreaterThan(0);

    const read = await hub.gql<{ channel: ChannelReply }>(READ_CHANNEL, { code: 'kuaishou-live' });
    expect(read.data!.channel).toEqual(res.data!.upsertChannel);
  });

  it('updates the channel with the same code, keeping one channel per code', async () => {
    const created = await upsertChannel({ code: 'youzan-shop', platform: Platform.YOUZAN, name: 'Youzan' });
    const updated = await upsertChannel({
      code: 'youzan-shop',
      platform: Platform.YOUZAN,
      name: 'Youzan flagship',
      isCore: true,
    });
    expect(errorCodes(updated)).toEqual([]);
    expect(updated.data!.upsertChannel.id).toBe(created.data!.upsertChannel.id);
    expect(updated.data!.upsertChannel).toMatchObject({ name: 'Youzan flagship', isCore: true });
    expect(await count(`select count(*)::int as n from channel where code = 'youzan-shop'`)).toBe(1);

    const list = await hub.gql<{ channels: { code: string }[] }>(`{ channels { code } }`);
    expect(list.data!.channels.filter((c) => c.code === 'youzan-shop')).toHaveLength(1);
  });

  it('does not reopen a channel closed by hand when it is updated', async () => {
    await upsertChannel({ code: 'pdd-main', platform: Platform.PINDUODUO, name: 'PDD' });
    await hub.gql(SET_SALES_OPEN, { code: 'pdd-main', open: false });
    const res = await upsertChannel({
      code: 'pdd-main',
      platform: Platform.PINDUODUO,
      name: 'Pinduoduo main',
    });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.upsertChannel).toMatchObject({ name: 'Pinduoduo main', salesOpen: false });
  });

  it.each(['Douyin Live', 'douyin_live', '-douyin', 'douyin live', '', 'a'.repeat(64), '抖音'])(
    'refuses the code %j, which is not a slug, with BAD_USER_INPUT and creates nothing',
    async (code) => {
      const before = await count(`select count(*)::int as n from channel`);
      expectRefused(
        await upsertChannel({ code, platform: Platform.DOUYIN, name: 'Douyin' }),
        'BAD_USER_INPUT',
        'upsertChannel',
      );
      expect(await count(`select count(*)::int as n from channel`)).toBe(before);
    },
  );

  it('refuses a blank name with BAD_USER_INPUT', async () => {
    const res = await upsertChannel({ code: 'blank-name', platform: Platform.JD, name: '  ' });
    expectRefused(res, 'BAD_USER_INPUT', 'upsertChannel');
    expect(await count(`select count(*)::int as n from channel where code = 'blank-name'`)).toBe(0);
  });
});

describe('setChannelCore and setChannelSalesOpen', () => {
  it('setChannelCore flips the core flag, and it stays flipped', async () => {
    for (const isCore of [true, false, true]) {
      const res = await hub.gql<{ setChannelCore: ChannelReply }>(SET_CORE, { code: 'admin-jd', isCore });
      expect(errorCodes(res)).toEqual([]);
      expect(res.data!.setChannelCore).toMatchObject({ code: 'admin-jd', isCore });
      const read = await hub.gql<{ channel: ChannelReply }>(READ_CHANNEL, { code: 'admin-jd' });
      expect(read.data!.channel.isCore).toBe(isCore);
    }
  });

  it('setChannelSalesOpen closes and reopens a channel, and it stays so', async () => {
    for (const open of [false, true, false]) {
      const res = await hub.gql<{ setChannelSalesOpen: ChannelReply }>(SET_SALES_OPEN, {
        code: 'admin-shop',
        open,
      });
      expect(errorCodes(res)).toEqual([]);
      expect(res.data!.setChannelSalesOpen).toMatchObject({ code: 'admin-shop', salesOpen: open });
      const read = await hub.gql<{ channel: ChannelReply }>(READ_CHANNEL, { code: 'admin-shop' });
      expect(read.data!.channel.salesOpen).toBe(open);
    }
  });

  it('each flag leaves the other alone', async () => {
    await hub.gql(SET_CORE, { code: 'admin-jd', isCore: true });
    await hub.gql(SET_SALES_OPEN, { code: 'admin-jd', open: false });
    const read = await hub.gql<{ channel: ChannelReply }>(READ_CHANNEL, { code: 'admin-jd' });
    expect(read.data!.channel).toMatchObject({ isCore: true, salesOpen: false });
  });

  it('setChannelCore on an unknown channel is NOT_FOUND', async () => {
    const res = await hub.gql(SET_CORE, { code: 'no-such-channel', isCore: true });
    expectRefused(res, 'NOT_FOUND', 'setChannelCore');
  });

  it('setChannelSalesOpen on an unknown channel is NOT_FOUND', async () => {
    const res = await hub.gql(SET_SALES_OPEN, { code: 'no-such-channel', open: false });
    expectRefused(res, 'NOT_FOUND', 'setChannelSalesOpen');
  });
});

describe('mapChannelSku', () => {
  it("maps a platform's SKU id to a product", async () => {
    const res = await hub.gql(MAP_SKU, {
      channelCode: 'admin-jd',
      sku: 'JD-100001',
      productCode: 'RICE-5KG',
    });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data).toEqual({ mapChannelSku: true });
    expect(await mappedProduct('admin-jd', 'JD-100001')).toEqual(['RICE-5KG']);
  });

  it('mapping the same SKU id again moves it to the new product, keeping one mapping', async () => {
    await hub.gql(MAP_SKU, { channelCode: 'admin-jd', sku: 'JD-200002', productCode: 'RICE-5KG' });
    const res = await hub.gql(MAP_SKU, {
      channelCode: 'admin-jd',
      sku: 'JD-200002',
      productCode: 'RICE-10KG',
    });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data).toEqual({ mapChannelSku: true });
    expect(await mappedProduct('admin-jd', 'JD-200002')).toEqual(['RICE-10KG']);
  });

  it('mapping the same mapping twice is fine', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await hub.gql(MAP_SKU, {
        channelCode: 'admin-jd',
        sku: 'JD-300003',
        productCode: 'RICE-5KG',
      });
      expect(errorCodes(res)).toEqual([]);
    }
    expect(await mappedProduct('admin-jd', 'JD-300003')).toEqual(['RICE-5KG']);
  });

  it('the same SKU id on another channel is a separate mapping', async () => {
    await hub.gql(MAP_SKU, { channelCode: 'admin-jd', sku: 'SHARED-1', productCode: 'RICE-5KG' });
    await hub.gql(MAP_SKU, { channelCode: 'admin-shop', sku: 'SHARED-1', productCode: 'RICE-10KG' });
    expect(await mappedProduct('admin-jd', 'SHARED-1')).toEqual(['RICE-5KG']);
    expect(await mappedProduct('admin-shop', 'SHARED-1')).toEqual(['RICE-10KG']);
  });

  it.each([
    [
      'an unknown channel',
      'NOT_FOUND',
      { channelCode: 'no-such-channel', sku: 'X-1', productCode: 'RICE-5KG' },
    ],
    [
      'an unknown product',
      'NOT_FOUND',
      { channelCode: 'admin-jd', sku: 'X-2', productCode: 'NO-SUCH-PRODUCT' },
    ],
    ['a blank SKU id', 'BAD_USER_INPUT', { channelCode: 'admin-jd', sku: '   ', productCode: 'RICE-5KG' }],
  ])('refuses %s with %s and maps nothing', async (_what, code, variables) => {
    const before = await count(`select count(*)::int as n from channel_sku`);
    expectRefused(await hub.gql(MAP_SKU, variables), code, 'mapChannelSku');
    expect(await count(`select count(*)::int as n from channel_sku`)).toBe(before);
  });
});

describe('createApiKey', () => {
  it('returns the key and a secret that works at once, with the rights of its role', async () => {
    const res = await createKey(Role.ANALYST, '  reporting team  ');
    expect(errorCodes(res)).toEqual([]);
    const { secret, apiKey } = res.data!.createApiKey;
    expect(apiKey).toMatchObject({ role: Role.ANALYST, channelCode: null, label: 'reporting team' });
    expect(Date.parse(apiKey.createdAt)).not.toBeNaN();
    expect(secret.length).toBeGreaterThanOrEqual(24);

    const read = await hub.gql(`{ orders { totalCount } channels { code } }`, {}, secret);
    expect(errorCodes(read)).toEqual([]);
    const write = await hub.gql(UPSERT_PRODUCT, { input: { productCode: 'BY-ANALYST', name: 'x' } }, secret);
    expect(errorCodes(write)).toEqual(['FORBIDDEN']);
  });

  it('binds a STOREFRONT key to its channel', async () => {
    const res = await createKey(Role.STOREFRONT, 'web shop', 'admin-shop');
    expect(errorCodes(res)).toEqual([]);
    const { secret, apiKey } = res.data!.createApiKey;
    expect(apiKey).toMatchObject({ role: Role.STOREFRONT, channelCode: 'admin-shop', label: 'web shop' });
    const channels = await hub.gql<{ channels: { code: string }[] }>(`{ channels { code } }`, {}, secret);
    expect(channels.data!.channels).toEqual([{ code: 'admin-shop' }]);
  });

  it('binds a CONNECTOR key to its channel', async () => {
    const res = await createKey(Role.CONNECTOR, 'jd connector', 'admin-jd');
    expect(errorCodes(res)).toEqual([]);
    expect(res.data!.createApiKey.apiKey).toMatchObject({ role: Role.CONNECTOR, channelCode: 'admin-jd' });
  });

  it('gives every key its own secret', async () => {
    const a = await createKey(Role.OPS, 'ops a');
    const b = await createKey(Role.OPS, 'ops b');
    expect(a.data!.createApiKey.secret).not.toBe(b.data!.createApiKey.secret);
    expect(a.data!.createApiKey.apiKey.id).not.toBe(b.data!.createApiKey.apiKey.id);
  });

  it.each([
    ['a STOREFRONT key without a channel', 'BAD_USER_INPUT', Role.STOREFRONT, null],
    ['a CONNECTOR key without a channel', 'BAD_USER_INPUT', Role.CONNECTOR, null],
    ['an OPS key with a channel', 'BAD_USER_INPUT', Role.OPS, 'admin-shop'],
    ['an ANALYST key with a channel', 'BAD_USER_INPUT', Role.ANALYST, 'admin-shop'],
    ['an ADMIN key with a channel', 'BAD_USER_INPUT', Role.ADMIN, 'admin-shop'],
    ['a STOREFRONT key for an unknown channel', 'NOT_FOUND', Role.STOREFRONT, 'no-such-channel'],
    ['a CONNECTOR key for an unknown channel', 'NOT_FOUND', Role.CONNECTOR, 'no-such-channel'],
  ])('refuses %s with %s and creates no key', async (_what, code, role, channelCode) => {
    const before = await count(`select count(*)::int as n from api_key`);
    expectRefused(await createKey(role, 'refused key', channelCode), code, 'createApiKey');
    expect(await count(`select count(*)::int as n from api_key`)).toBe(before);
  });

  it('refuses a blank label with BAD_USER_INPUT', async () => {
    expectRefused(await createKey(Role.OPS, '   '), 'BAD_USER_INPUT', 'createApiKey');
  });

  it('does not store the secret in plain text', async () => {
    const res = await createKey(Role.OPS, 'secret keeper');
    const { secret, apiKey } = res.data!.createApiKey;
    const rows = await sql(`select * from api_key where id = ?`, [apiKey.id]);
    expect(rows).toHaveLength(1);
    for (const [column, value] of Object.entries(rows[0])) {
      expect(String(value), column).not.toContain(secret);
    }
    // Nor anywhere else in the table.
    const table = JSON.stringify(await sql(`select * from api_key`));
    expect(table).not.toContain(secret);
  });
});

describe('revokeApiKey', () => {
  it('revokes a key: it returns true and the secret stops working', async () => {
    const created = (await createKey(Role.OPS, 'to revoke')).data!.createApiKey;
    const res = await hub.gql(REVOKE_KEY, { id: created.apiKey.id });
    expect(errorCodes(res)).toEqual([]);
    expect(res.data).toEqual({ revokeApiKey: true });
    const after = await hub.gql(`{ channels { code } }`, {}, created.secret);
    expect(errorCodes(after)).toEqual(['UNAUTHENTICATED']);
  });

  it('revoking the same key twice is fine', async () => {
    const created = (await createKey(Role.ANALYST, 'revoked twice')).data!.createApiKey;
    for (let i = 0; i < 2; i++) {
      const res = await hub.gql(REVOKE_KEY, { id: created.apiKey.id });
      expect(errorCodes(res)).toEqual([]);
      expect(res.data).toEqual({ revokeApiKey: true });
    }
    const after = await hub.gql(`{ channels { code } }`, {}, created.secret);
    expect(errorCodes(after)).toEqual(['UNAUTHENTICATED']);
  });

  it('an unknown id is NOT_FOUND', async () => {
    expectRefused(await hub.gql(REVOKE_KEY, { id: randomUUID() }), 'NOT_FOUND', 'revokeApiKey');
  });

  it.each(['not-an-id', '12345', ''])('a malformed id %j is BAD_USER_INPUT', async (id) => {
    expectRefused(await hub.gql(REVOKE_KEY, { id }), 'BAD_USER_INPUT', 'revokeApiKey');
  });
});
