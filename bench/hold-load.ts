import autocannon from 'autocannon';
import pg from 'pg';
import type { HubProcess } from '../test/support/hub-process.js';

/**
 * The holds workload (bench/hot-product.ts, and sync on/off in bench/stock-sync.ts): `reserveStock` of one
 * unit through GraphQL with the ADMIN key, on one hot product or on a random one of 10,000, and the bare
 * conditional UPDATE that is its baseline.
 */

export const SPREAD = 10_000;
const ON_HAND = 100_000_000;
const RESERVE = `mutation ($code: String!) { reserveStock(productCode: $code, quantity: 1) { id status } }`;

export interface HoldScenario {
  name: string;
  pick(): string;
}

export const HOLD_SCENARIOS: HoldScenario[] = [
  { name: 'one hot product', pick: () => 'HOT' },
  {
    name: `spread over ${SPREAD.toLocaleString('en')} products`,
    pick: () => `SPREAD-${1 + Math.floor(Math.random() * SPREAD)}`,
  },
];

/** `HOT` and `SPREAD-1`…`SPREAD-10000`, each with 100,000,000 on hand; answers product ids by code. */
export async function prepareHolds(direct: pg.Client): Promise<Map<string, string>> {
  await direct.query(
    `insert into product (id, product_code, name)
     select gen_random_uuid(), 'HOT', 'Hot product' union all
     select gen_random_uuid(), 'SPREAD-' || g, 'Product ' || g from generate_series(1, ${SPREAD}) g`,
  );
  await direct.query(
    `insert into inventory_item (id, product_id, product_code, on_hand) select gen_random_uuid(), id, product_code, $1 from product`,
    [ON_HAND],
  );
  return new Map<string, string>(
    (await direct.query(`select product_code, product_id from inventory_item`)).rows.map(
      (r: { product_code: string; product_id: string }) => [r.product_code, r.product_id],
    ),
  );
}

export interface HoldFigures {
  /** Holds granted per second of the run. */
  rate: number;
  held: number;
  refused: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  /** The first refusal's reply, to say what went wrong. */
  firstRefusal: string | null;
}

/** `connections` clients for `seconds`, every request a hold of 1 unit on `scenario.pick()`. */
export async function holdRun(
  hub: HubProcess,
  scenario: HoldScenario,
  { seconds, connections }: { seconds: number; connections: number },
): Promise<HoldFigures> {
  let refused = 0;
  let firstRefusal: string | null = null;
  const result = await autocannon({
    url: `${hub.base}/graphql`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminKey}` },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ query: RESERVE, variables: { code: scenario.pick() } }),
        }),
        onResponse: (_status, body) => {
          if (!body.includes('"errors"')) return;
          refused++;
          firstRefusal ??= body.slice(0, 300);
        },
      },
    ],
  });
  const held = result['2xx'] - refused;
  return {
    rate: held / seconds,
    held,
    refused,
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    firstRefusal,
  };
}

/** Rows below zero, rows whose `reserved` is not the sum of their HELD reservations, and the units held. */
export async function holdCheck(
  direct: pg.Client,
): Promise<{ negative: number; mismatched: number; held: number }> {
  const [check] = (
    await direct.query(
      `select count(*) filter (where i.on_hand - i.reserved < 0)::int as negative,
              count(*) filter (where i.reserved <> coalesce(h.held, 0))::int as mismatched,
              coalesce(sum(h.held), 0)::int as held
       from inventory_item i left join (select product_id, sum(quantity) as held from reservation
                                        where status = 'HELD' group by product_id) h on h.product_id = i.product_id`,
    )
  ).rows;
  return check;
}

/** The bare statement, autocommit, from as many connections, on the same rows; updates per second. */
export async function bareHolds(
  databaseUrl: string,
  ids: Map<string, string>,
  scenario: HoldScenario,
  { seconds, connections }: { seconds: number; connections: number },
): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  let updated = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          const r = await client.query(
            `update inventory_item set reserved = reserved + 1 where product_id = $1 and on_hand - reserved >= 1`,
            [ids.get(scenario.pick())],
          );
          updated += r.rowCount ?? 0;
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  return updated / seconds;
}

/** Back to a clean pool: every hold released. */
export async function releaseHolds(direct: pg.Client): Promise<void> {
  await direct.query(`update reservation set status = 'RELEASED' where status = 'HELD'`);
  await direct.query(`update inventory_item set reserved = 0`);
}
