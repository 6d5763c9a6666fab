import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, Role } from '../../common/enums.js';
import { HoldLimitExceededError } from '../../common/errors.js';
import { ReserveCombiner } from '../../services/reserve-combiner.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { ADMIN_KEY, errorCodes, startTestHub, type GraphQLResponse, type TestHub } from '../support/hub.js';

/**
 * A STOREFRONT key's holds are capped (units per hold, holds open at once per key, TTL), so one
 * storefront cannot lock the whole pool and close every other channel. Over a cap is
 * HOLD_LIMIT_EXCEEDED, naming the cap. ADMIN and OPS keys run bulk jobs and are not capped.
 */

const MAX_UNITS = 5;
const MAX_OPEN = 3;
const MAX_TTL = 600;

const RESERVE = `mutation ($code: String!, $q: Int!, $ttl: Int) {
  reserveStock(productCode: $code, quantity: $q, ttlSeconds: $ttl) { id quantity status }
}`;
const RELEASE = `mutation ($id: ID!) { releaseReservation(id: $id) { status } }`;

type Reserved = GraphQLResponse<{ reserveStock: { id: string } }>;

let hub: TestHub;

const reserve = (key: string, q: number, ttl: number | null = null, code = 'TEA') =>
  hub.gql(RESERVE, { code, q, ttl }, key) as Promise<Reserved>;

async function reservedUnits(code = 'TEA'): Promise<number> {
  const [row] = await hub.orm.em
    .getConnection()
    .execute<{ reserved: number }[]>(
      `select i.reserved from inventory_item i join product p on p.id = i.product_id where p.product_code = ?`,
      [code],
    );
  return row.reserved;
}

beforeAll(async () => {
  hub = await startTestHub('security hold caps', {
    env: {
      HOLD_MAX_UNITS: String(MAX_UNITS),
      HOLD_MAX_OPEN_PER_KEY: String(MAX_OPEN),
      HOLD_MAX_TTL_SECONDS: String(MAX_TTL),
      RESERVATION_TTL_SECONDS: '300',
    },
  });
  await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  await seedProduct(hub.orm, 'TEA', 10_000);
  for (let i = 0; i < 20; i++) await seedProduct(hub.orm, `RACE-${i}`, 100);
});

afterAll(async () => {
  await hub?.close();
});

describe('a STOREFRONT key’s holds are capped', () => {
  it(`refuses more than ${MAX_UNITS} units in one hold, taking nothing`, async () => {
    const key = await hub.apiKey(Role.STOREFRONT, 'shop');
    const res = await reserve(key, MAX_UNITS + 1);
    expect(errorCodes(res)).toEqual(['HOLD_LIMIT_EXCEEDED']);
    expect(res.errors![0].extensions).toMatchObject({ limit: 'quantity', max: MAX_UNITS });
    expect(await reservedUnits()).toBe(0);
    expect(errorCodes(await reserve(key, MAX_UNITS))).toEqual([]);
  });

  it(`refuses a TTL above ${MAX_TTL} seconds`, async () => {
    const key = await hub.apiKey(Role.STOREFRONT, 'shop');
    const res = await reserve(key, 1, MAX_TTL + 1);
    expect(errorCodes(res)).toEqual(['HOLD_LIMIT_EXCEEDED']);
    expect(res.errors![0].extensions).toMatchObject({ limit: 'ttlSeconds', max: MAX_TTL });
    expect(errorCodes(await reserve(key, 1, MAX_TTL))).toEqual([]);
  });

  it(`lets one key have ${MAX_OPEN} holds open at once; a released one frees its slot`, async () => {
    const key = await hub.issueApiKey(Role.STOREFRONT, { channelCode: 'shop' });
    const held: string[] = [];
    for (let i = 0; i < MAX_OPEN; i++) {
      const res = await reserve(key.secret, 1);
      expect(errorCodes(res)).toEqual([]);
      held.push(res.data!.reserveStock.id);
    }
    const over = await reserve(key.secret, 1);
    expect(errorCodes(over)).toEqual(['HOLD_LIMIT_EXCEEDED']);
    expect(over.errors![0].extensions).toMatchObject({ limit: 'openHolds', max: MAX_OPEN });

    // Each hold records the key that made it; another key of the same channel has its own slots.
    const [{ n }] = await hub.orm.em
      .getConnection()
      .execute<{ n: number }[]>(
        `select count(*)::int as n from reservation where api_key_id = ? and status = 'HELD'`,
        [key.id],
      );
    expect(n).toBe(MAX_OPEN);
    expect(errorCodes(await reserve(await hub.apiKey(Role.STOREFRONT, 'shop'), 1))).toEqual([]);

    expect(errorCodes(await hub.gql(RELEASE, { id: held[0] }, key.secret))).toEqual([]);
    expect(errorCodes(await reserve(key.secret, 1))).toEqual([]);
  });

  it('two holds at once cannot both take a key’s last slot, even in separate transactions', async () => {
    const key = await hub.issueApiKey(Role.STOREFRONT, { channelCode: 'shop' });
    // Two combiners (two hub processes, as it were) writing one hold per transaction, many at a time.
    const settings = hub.hub.services.settings;
    const options = { maxBatch: 1, maxConcurrent: 12 };
    const combiners = [0, 1].map(() => new ReserveCombiner(hub.orm.em.fork(), settings, options));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        combiners[i % 2].submit({
          productCode: `RACE-${i}`,
          quantity: 1,
          ttlSeconds: 60,
          channelCode: 'shop',
          apiKeyId: key.id,
          maxOpen: MAX_OPEN,
        }),
      ),
    );
    const granted = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(granted).toHaveLength(MAX_OPEN);
    expect(refused).toHaveLength(20 - MAX_OPEN);
    for (const reason of refused) expect(reason).toBeInstanceOf(HoldLimitExceededError);
    const [{ n }] = await hub.orm.em
      .getConnection()
      .execute<{ n: number }[]>(`select count(*)::int as n from reservation where api_key_id = ?`, [key.id]);
    expect(n).toBe(MAX_OPEN);
  });
});

describe('ADMIN and OPS keys are not capped', () => {
  it('an OPS or ADMIN key holds more units, longer, and more often than a storefront may', async () => {
    const ops = await hub.apiKey(Role.OPS);
    for (let i = 0; i < MAX_OPEN + 2; i++) {
      expect(errorCodes(await reserve(ops, MAX_UNITS * 10, MAX_TTL * 10))).toEqual([]);
    }
    expect(errorCodes(await reserve(ADMIN_KEY, MAX_UNITS * 10, MAX_TTL * 10))).toEqual([]);
  });
});
