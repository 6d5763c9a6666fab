// Webhook latency with and without a flood of the heaviest reads the cost limit lets through,
// against the hub as a separate process. Usage (after `npm run build:bench`):
//   node dist/bench/read-flood.js [orders=2000] [webhooks=200] [readers=20]
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../server/config.js';
import { hubSchema } from '../server/graphql-schema.js';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import {
  BENCH_SECRET,
  flatOrderPages,
  inParallel,
  largestUnderLimit,
  loadOrders,
  percentile,
  serverUrl,
} from './support.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const orders = Number(args[0] ?? 2000);
const webhookCount = Number(args[1] ?? 200);
const readers = Number(args[2] ?? 20);
const SENDERS = 10;
const sample = JSON.parse(
  readFileSync(new URL('../../test/fixtures/channels/jd.json', import.meta.url), 'utf8'),
);
const heavyRead = flatOrderPages(
  largestUnderLimit(await hubSchema(), loadConfig({}).maxQueryCost, flatOrderPages, 500),
);

const db = await scratchDatabase(serverUrl, 'bench_read_flood');
const hub = await startHubProcess(db.url, {}, { passStderr: true });
// With --split, webhooks go to a second process on the same database (the reads stay on the first).
const split = process.argv.includes('--split');
const webhookHub = split ? await startHubProcess(db.url, {}, { passStderr: true }) : hub;
let seq = 0;

/** `webhookCount` new orders from SENDERS senders at once: each one's status and milliseconds. */
async function webhooks() {
  const results: { status: number; ms: number }[] = [];
  let left = webhookCount;
  await inParallel(SENDERS, async () => {
    while (left-- > 0) {
      const payload = structuredClone(sample);
      payload.orderId = `FLOOD-${++seq}`;
      payload.itemInfoList[0].outerSkuId = `SKU-${seq % 50}`;
      const body = JSON.stringify(payload);
      const started = performance.now();
      const response = await fetch(`${webhookHub.base}/webhooks/jd-bench`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', BENCH_SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      await response.arrayBuffer();
      results.push({ status: response.status, ms: performance.now() - started });
    }
  });
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    ok: results.filter((r) => r.status === 200).length,
    unavailable: results.filter((r) => r.status === 503).length,
  };
}

try {
  await loadOrders(hub, graphql, { count: orders });
  const analyst = (
    (await graphql(
      hub.base,
      hub.adminKey,
      `
        mutation {
          createApiKey(role: ANALYST, label: "bench") {
            secret
          }
        }
      `,
    )) as { createApiKey: { secret: string } }
  ).createApiKey.secret;
  await webhooks(); // warm-up

  const quiet = await webhooks();
  let flooding = true;
  let reads = 0;
  const flood = inParallel(readers, async () => {
    while (flooding) {
      const response = await fetch(`${hub.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
        body: JSON.stringify({ query: heavyRead }),
      });
      await response.arrayBuffer();
      reads++;
    }
  });
  const flooded = await webhooks();
  flooding = false;
  await flood;
  const quietAgain = await webhooks();

  const line = (name: string, r: Awaited<ReturnType<typeof webhooks>>) =>
    console.log(
      `  ${name.padEnd(24)} p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms; ${r.ok} answered 200, ${r.unavailable} 503`,
    );
  console.log(
    `\n${webhookCount} webhooks from ${SENDERS} senders, on ${orders} orders; flood: ${readers} readers of 30 flat order pages`,
  );
  line('without the flood', quiet);
  line(`beside the flood (${reads} reads)`, flooded);
  line('without, again', quietAgain);
  console.log(`  ratio of p99:            ${(flooded.p99 / quiet.p99).toFixed(2)} (flood / without)`);
} finally {
  if (webhookHub !== hub) await webhookHub.stop();
  await hub.stop();
  await db.drop();
}
