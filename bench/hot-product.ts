// Holds through the GraphQL API against the running hub (a separate process), beside the
// bare conditional UPDATE from as many connections on the same database in the same run.
// Two scenarios: every request on one hot product, then each on a random one of 10,000.
// Usage (after `npm run build:bench`):
//   node dist/bench/hot-product.js [seconds=15] [connections=64]
import autocannon from 'autocannon';
import pg from 'pg';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { serverUrl } from './support.js';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 64);
const SPREAD = 10_000;
const ON_HAND = 100_000_000;
const RESERVE = `mutation ($code: String!) { reserveStock(productCode: $code, quantity: 1) { id status } }`;

const db = await scratchDatabase(serverUrl, 'bench_hot_product');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
const direct = new pg.Client({ connectionString: db.url });
await direct.connect();
try {
  await direct.query(
    `insert into product (id, product_code, name)
     select gen_random_uuid(), 'HOT', 'Hot product' union all
     select gen_random_uuid(), 'SPREAD-' || g, 'Product ' || g from generate_series(1, ${SPREAD}) g`,
  );
  await direct.query(
    `insert into inventory_item (id, product_id, product_code, on_hand) select gen_random_uuid(), id, product_code, $1 from product`,
    [ON_HAND],
  );
  const ids = new Map<string, string>(
    (await direct.query(`select product_code, product_id from inventory_item`)).rows.map(
      (r: { product_code: string; product_id: string }) => [r.product_code, r.product_id],
    ),
  );
  const spreadCode = () => `SPREAD-${1 + Math.floor(Math.random() * SPREAD)}`;

  for (const scenario of [
    { name: 'one hot product', pick: () => 'HOT' },
    { name: `spread over ${SPREAD.toLocaleString('en')} products`, pick: spreadCode },
  ]) {
    // Through the API: every request a hold of 1 unit with the admin key.
    let refused = 0;
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
            if (body.includes('"errors"')) refused++;
          },
        },
      ],
    });
    const held = result['2xx'] - refused;
    const hubRate = held / seconds;
    const [check] = (
      await direct.query(
        `select count(*) filter (where i.on_hand - i.reserved < 0)::int as negative,
                count(*) filter (where i.reserved <> coalesce(h.held, 0))::int as mismatched,
                coalesce(sum(h.held), 0)::int as held
         from inventory_item i left join (select product_id, sum(quantity) as held from reservation
                                          where status = 'HELD' group by product_id) h on h.product_id = i.product_id`,
      )
    ).rows;

    // The bare statement, autocommit, from as many connections, on the same rows.
    const pool = new pg.Pool({ connectionString: db.url, max: connections });
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
    const bareRate = updated / seconds;
    // Back to a clean pool for the next scenario.
    await direct.query(`update reservation set status = 'RELEASED' where status = 'HELD'`);
    await direct.query(`update inventory_item set reserved = 0`);

    console.log(`reserveStock, ${scenario.name}, ${connections} connections, ${seconds} s`);
    console.log(
      `  hub:     ${hubRate.toFixed(0)} holds/s (${held} held, ${refused} refused, ${result.non2xx} non-2xx, ${result.errors} errors)`,
    );
    console.log(`  latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    console.log(`  bare:    ${bareRate.toFixed(0)} updates/s (UPDATE ... reserved + 1 ..., autocommit)`);
    console.log(`  ratio:   ${(hubRate / bareRate).toFixed(2)}`);
    const clean = check.negative === 0 && check.mismatched === 0;
    console.log(
      `  oversell check: ${check.negative} rows below zero, ${check.mismatched} rows where reserved <> sum of HELD ` +
        `(${check.held} units in HELD reservations, including holds answered after the timed window) -> ${clean ? 'OK' : 'FAILED'}`,
    );
  }
} finally {
  await direct.end();
  await hub.stop();
  await db.drop();
}
