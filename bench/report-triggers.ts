// What the reports' bookkeeping costs the order path (issue 14): webhook ingestion into the hub (a separate
// process) with the sales triggers (and, since issue 18, the refund roll-up's on orders and their lines) on, then
// off (disabled in this scratch database only), --pairs times with the order alternating, after one uncounted
// warm-up run. Prints on ÷ off per pair.
//
// Usage: npm run bench:report-triggers -- [--seconds 15] [--connections 32] [--pairs 3]
import pg from 'pg';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { ingestRun, prepareIngest } from './ingest-load.js';
import { countOption, serverUrl } from './support.js';

const SECONDS = countOption('seconds', 15);
const CONNECTIONS = countOption('connections', 32);
const PAIRS = countOption('pairs', 3);
const TRIGGERS: [table: string, trigger: string][] = [
  ['"order"', 'order_sales_insert'],
  ['"order"', 'order_sales_update'],
  ['"order"', 'order_sales_delete'],
  ['order_line', 'order_line_sales_insert'],
  ['order_line', 'order_line_sales_update'],
  ['order_line', 'order_line_sales_delete'],
  // The refund roll-up's triggers on the order path (issue 18): a sale's status, its lines.
  ['"order"', 'order_refunds_update'],
  ['order_line', 'order_line_refunds_insert'],
  ['order_line', 'order_line_refunds_update'],
  ['order_line', 'order_line_refunds_delete'],
];

const db = await scratchDatabase(serverUrl, 'bench_report_triggers');
const hub = await startHubProcess(db.url, { SALES_ROLLUP_INTERVAL_SECONDS: '5' });
const direct = new pg.Client({ connectionString: db.url });
try {
  await direct.connect();
  await prepareIngest(hub, direct);
  let run = 0;
  const measure = async (on: boolean) => {
    for (const [table, trigger] of TRIGGERS) {
      await direct.query(`alter table ${table} ${on ? 'enable' : 'disable'} trigger ${trigger}`);
    }
    return (await ingestRun(hub, { seconds: SECONDS, connections: CONNECTIONS, prefix: `R${run++}-` })).rate;
  };
  await measure(true);
  console.log(`webhook ingestion, ${CONNECTIONS} connections, ${SECONDS} s runs; reports' triggers on ÷ off`);
  const ratios: string[] = [];
  for (let pair = 1; pair <= PAIRS; pair++) {
    const first = pair % 2 === 1;
    const a = await measure(first);
    const b = await measure(!first);
    const [on, off] = first ? [a, b] : [b, a];
    console.log(`  pair ${pair}: on ${on.toFixed(0)} orders/s, off ${off.toFixed(0)} orders/s`);
    ratios.push((on / off).toFixed(2));
  }
  console.log(`on ÷ off, pair by pair: ${ratios.join(', ')}`);
} finally {
  await direct.end();
  await hub.stop();
  await db.drop();
}
