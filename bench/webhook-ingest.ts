// Webhook ingestion against the running hub (a separate process), with signature check,
// mapping, idempotency and stock effect, beside a bare INSERT loop into the same tables on
// the same database as the ceiling. Usage (after `npm run build:bench`):
//   node dist/bench/webhook-ingest.js [seconds=20] [connections=32]
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { serverUrl } from './support.js';

const seconds = Number(process.argv[2] ?? 20);
const connections = Number(process.argv[3] ?? 32);
const PRODUCTS = 50;
const SECRET = 'bench-secret-0123456789abcdef01234567';
const sample = JSON.parse(
  readFileSync(new URL('../../test/fixtures/channels/jd.json', import.meta.url), 'utf8'),
);

const db = await scratchDatabase(serverUrl, 'bench_webhook_ingest');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
try {
  await graphql(
    hub.base,
    hub.adminKey,
    `mutation { upsertChannel(input: {code: "jd-bench", platform: JD, name: "JD", webhookSecret: "${SECRET}"}) { id } }`,
  );
  for (let i = 0; i < PRODUCTS; i++) {
    await graphql(
      hub.base,
      hub.adminKey,
      `mutation { upsertProduct(input: {productCode: "SKU-${i}", name: "P${i}"}) { id } }`,
    );
  }
  const direct = new pg.Client({ connectionString: db.url });
  await direct.connect();
  await direct.query(`update inventory_item set on_hand = 100000000`);

  let n = 0;
  const result = await autocannon({
    url: `${hub.base}/webhooks/jd-bench`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const payload = structuredClone(sample);
          payload.orderId = `B${++n}`;
          payload.itemInfoList[0].outerSkuId = `SKU-${n % PRODUCTS}`;
          const body = JSON.stringify(payload);
          const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
          return {
            ...request,
            body,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          };
        },
      },
    ],
  });
  const hubRate = result.requests.average;
  const { rows } = await direct.query(`select count(*)::int as n from "order"`);
  const ok = result['2xx'];

  // The ceiling: the same rows (order, line, timeline entry) inserted by a bare loop, one transaction each.
  const [{ id: channelId }] = (await direct.query(`select id from channel where code = 'jd-bench'`)).rows;
  const pool = new pg.Pool({ connectionString: db.url, max: connections });
  let inserted = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          const id = randomUUID();
          await client.query('begin');
          await client.query(
            `insert into "order" (id, channel_id, external_id, status, customer_name, ship_line1, total_amount, placed_at, raw, origin)
             values ($1, $2, $3, 'PAID', 'x', 'y', '198.00', now(), $4, 'WEBHOOK')`,
            [id, channelId, `RAW-${id}`, JSON.stringify(sample)],
          );
          await client.query(
            `insert into order_line (id, order_id, line_no, product_code, quantity, unit_price, line_total)
             values (gen_random_uuid(), $1, 1, 'SKU-1', 2, '99.00', '198.00')`,
            [id],
          );
          await client.query(
            `insert into order_event (order_id, channel_code, type, to_status, source) values ($1, 'jd-bench', 'CREATED', 'PAID', 'jd-bench')`,
            [id],
          );
          await client.query('commit');
          inserted++;
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  await direct.end();
  const rawRate = inserted / seconds;

  console.log(`webhook ingestion, ${connections} connections, ${seconds} s, ${PRODUCTS} products`);
  console.log(
    `  hub:      ${hubRate.toFixed(0)} orders/s (${ok} answered 200, ${result.non2xx} other, ${result.errors} errors; ${rows[0].n} orders stored)`,
  );
  console.log(`  latency:  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
  console.log(
    `  ceiling:  ${rawRate.toFixed(0)} orders/s (bare INSERT loop: order + line + timeline, one transaction each)`,
  );
  console.log(`  ratio:    ${(hubRate / rawRate).toFixed(2)} of the ceiling`);
} finally {
  await hub.stop();
  await db.drop();
}
