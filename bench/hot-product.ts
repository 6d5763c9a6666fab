// Holds through the GraphQL API against the running hub (a separate process), beside the
// bare conditional UPDATE from as many connections on the same database in the same run.
// Two scenarios: every request on one hot product, then each on a random one of 10,000.
// Usage (after `npm run build:bench`):
//   node dist/bench/hot-product.js [seconds=15] [connections=64]
import pg from 'pg';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { bareHolds, HOLD_SCENARIOS, holdCheck, holdRun, prepareHolds, releaseHolds } from './hold-load.js';
import { serverUrl } from './support.js';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 64);

const db = await scratchDatabase(serverUrl, 'bench_hot_product');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
const direct = new pg.Client({ connectionString: db.url });
await direct.connect();
try {
  const ids = await prepareHolds(direct);

  for (const scenario of HOLD_SCENARIOS) {
    const run = await holdRun(hub, scenario, { seconds, connections });
    const check = await holdCheck(direct);
    const bareRate = await bareHolds(db.url, ids, scenario, { seconds, connections });
    await releaseHolds(direct);

    console.log(`reserveStock, ${scenario.name}, ${connections} connections, ${seconds} s`);
    console.log(
      `  hub:     ${run.rate.toFixed(0)} holds/s (${run.held} held, ${run.refused} refused, ${run.non2xx} non-2xx, ${run.errors} errors)`,
    );
    console.log(`  latency: p50 ${run.p50} ms, p99 ${run.p99} ms`);
    console.log(`  bare:    ${bareRate.toFixed(0)} updates/s (UPDATE ... reserved + 1 ..., autocommit)`);
    console.log(`  ratio:   ${(run.rate / bareRate).toFixed(2)}`);
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
