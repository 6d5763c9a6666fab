// Webhook ingestion against the running hub (a separate process), with signature check,
// mapping, idempotency and stock effect, beside a bare INSERT loop into the same tables on
// the same database as the ceiling. Usage (after `npm run build:bench`):
//   node dist/bench/webhook-ingest.js [seconds=20] [connections=32]
import pg from 'pg';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { INGEST_PRODUCTS, ingestCeiling, ingestRun, prepareIngest } from './ingest-load.js';
import { serverUrl } from './support.js';

const seconds = Number(process.argv[2] ?? 20);
const connections = Number(process.argv[3] ?? 32);

const db = await scratchDatabase(serverUrl, 'bench_webhook_ingest');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
try {
  const direct = new pg.Client({ connectionString: db.url });
  await direct.connect();
  await prepareIngest(hub, direct);

  const run = await ingestRun(hub, { seconds, connections, prefix: 'B' });
  const { rows } = await direct.query(`select count(*)::int as n from "order"`);
  const rawRate = await ingestCeiling(db.url, direct, { seconds, connections });
  await direct.end();

  console.log(`webhook ingestion, ${connections} connections, ${seconds} s, ${INGEST_PRODUCTS} products`);
  console.log(
    `  hub:      ${run.rate.toFixed(0)} orders/s (${run.ok} answered 200, ${run.non2xx} other, ${run.errors} errors; ${rows[0].n} orders stored)`,
  );
  console.log(`  latency:  p50 ${run.p50} ms, p99 ${run.p99} ms`);
  console.log(
    `  ceiling:  ${rawRate.toFixed(0)} orders/s (bare INSERT loop: order + line + timeline, one transaction each)`,
  );
  console.log(`  ratio:    ${(run.rate / rawRate).toFixed(2)} of the ceiling`);
} finally {
  await hub.stop();
  await db.drop();
}
