// Outbound webhooks (issue 13, "Speed"), on a scratch database with the hub as a process
// (`node dist/server/main.js`) and --endpoints receivers in this process on 127.0.0.1, each answering after
// --latency ms:
//
// 1. Throughput: --events orders through the hub's webhook ingestion (signed JD payloads, bench/ingest-load.ts),
//    every endpoint listening for `order.created`. Reports deliveries a second (from the first order sent to
//    the last delivery received) and the time from each event's transaction to its receipt (p50, p99, max).
// 2. Delivery on vs off: the webhook ingestion benchmark with the endpoints on, then off (no deliveries made),
//    --pairs pairs of --seconds runs, each pair in the other order than the one before, after one uncounted
//    run of each (--warmup seconds). The queue is emptied between runs.
//
// Usage: npm run bench:webhooks -- [--events 10000] [--endpoints 5] [--latency 50] [--seconds 10] [--pairs 3]
//   [--warmup 5] [--connections 32] [--only throughput|onoff] [--no-send]
//
// --no-send: the hub makes the deliveries but sends none (WEBHOOK_CONCURRENCY=0), and what one run made is
// given up before the next: the share of "delivery on" that is making deliveries, apart from sending them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { ingestRun, prepareIngest } from './ingest-load.js';
import { percentile, serverUrl } from './support.js';

function option(name: string, fallback: number, { zero = false } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero))
    throw new Error(`--${name} needs a positive number${zero ? ' or 0' : ''}`);
  return value;
}
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex < 0 ? null : process.argv[onlyIndex + 1];
if (only !== null && !['throughput', 'onoff'].includes(only))
  throw new Error('--only takes throughput or onoff');

const EVENTS = option('events', 10_000);
const ENDPOINTS = option('endpoints', 5);
const LATENCY_MS = option('latency', 50, { zero: true });
const SECONDS = option('seconds', 10);
const PAIRS = option('pairs', 3);
const WARMUP_SECONDS = option('warmup', 5, { zero: true });
const CONNECTIONS = option('connections', 32);
const NO_SEND = process.argv.includes('--no-send');
if (NO_SEND && only !== 'onoff') throw new Error('--no-send goes with --only onoff');
const HUB_ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  LOG_LEVEL: 'warn',
  ...(NO_SEND ? { WEBHOOK_CONCURRENCY: '0' } : {}),
};

interface Receiver {
  url: string;
  /** Receipt time (ms since the epoch) by webhook-id, the first receipt of each. */
  received: Map<string, number>;
  /** From the event's transaction (the body's timestamp) to receipt, ms, one per first receipt. */
  lags: number[];
  server: Server;
}

/** Answers 200 after `LATENCY_MS`, noting each message's first receipt; no signature check (that is the tests'). */
async function startReceiver(): Promise<Receiver> {
  const received = new Map<string, number>();
  const lags: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const id = String(req.headers['webhook-id']);
      if (!received.has(id)) {
        received.set(id, at);
        const { timestamp } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
        lags.push(at - Date.parse(timestamp));
      }
      setTimeout(() => res.writeHead(200).end('ok'), LATENCY_MS);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, lags, server };
}

async function setUp(label: string) {
  const database = await scratchDatabase(serverUrl, `bench_webhooks_${label}`);
  const hub = await startHubProcess(database.url, HUB_ENV, { passStderr: true });
  const direct = new pg.Client({ connectionString: database.url });
  await direct.connect();
  await prepareIngest(hub, direct);
  const receivers: Receiver[] = [];
  const endpointIds: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const made = (await graphql(
      hub.base,
      hub.adminKey,
      `
        mutation ($url: String!) {
          createWebhookEndpoint(input: { url: $url, events: [ORDER_CREATED] }) {
            endpoint {
              id
            }
          }
        }
      `,
      { url: receiver.url },
    )) as { createWebhookEndpoint: { endpoint: { id: string } } };
    endpointIds.push(made.createWebhookEndpoint.endpoint.id);
  }
  return {
    hub,
    direct,
    receivers,
    endpointIds,
    async tearDown() {
      await direct.end();
      await hub.stop();
      await Promise.all(receivers.map((r) => new Promise((resolve) => r.server.close(resolve))));
      await database.drop();
    },
  };
}

/** Deliveries not yet sent, and events not yet numbered (their deliveries are still to be made). */
async function pending(direct: pg.Client): Promise<number> {
  const { rows } = await direct.query(
    `select (select count(*)::int from outbound_delivery where status = 'PENDING')
          + (select count(*)::int from order_event where seq is null) as n`,
  );
  return rows[0].n as number;
}

async function untilDelivered(direct: pg.Client, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  const discard = () =>
    direct.query(`update outbound_delivery set status = 'FAILED' where status = 'PENDING'`);
  while ((await pending(direct)) > 0) {
    if (NO_SEND) await discard();
    if (Date.now() > deadline) throw new Error(`deliveries still pending after ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function throughput(): Promise<void> {
  const { hub, receivers, tearDown } = await setUp('throughput');
  try {
    console.log(
      `## throughput: ${EVENTS} orders, ${ENDPOINTS} endpoints answering in ${LATENCY_MS} ms, ${EVENTS * ENDPOINTS} deliveries`,
    );
    const started = Date.now();
    const ingest = await ingestRun(hub, {
      seconds: 600,
      connections: CONNECTIONS,
      prefix: 'T-',
      amount: EVENTS,
    });
    const ingested = Date.now();
    const expected = EVENTS * ENDPOINTS;
    const deadline = Date.now() + 600_000;
    // Deliveries are made as the events are numbered, which may trail the last answer a little.
    while (receivers.reduce((n, r) => n + r.received.size, 0) < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const counts = receivers.map((r) => r.received.size);
    const last = Math.max(...receivers.flatMap((r) => [...r.received.values()]));
    const lags = receivers.flatMap((r) => r.lags).sort((a, b) => a - b);
    const total = counts.reduce((a, b) => a + b, 0);
    console.log('');
    console.log(
      '| orders in | ingest (orders/s) | deliveries received | deliveries/s | after the last order | lag p50 | lag p99 | lag max |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(
      `| ${ingest.ok} in ${((ingested - started) / 1000).toFixed(1)} s | ${ingest.rate.toFixed(0)} | ${total} (${counts.join(', ')}) ` +
        `| ${(total / ((last - started) / 1000)).toFixed(0)} | ${((last - ingested) / 1000).toFixed(1)} s ` +
        `| ${percentile(lags, 50)} ms | ${percentile(lags, 99)} ms | ${lags.at(-1)} ms |`,
    );
    console.log('');
  } finally {
    await tearDown();
  }
}

async function onOff(): Promise<void> {
  const { hub, direct, endpointIds, tearDown } = await setUp('onoff');
  const setEnabled = async (enabled: boolean) => {
    for (const id of endpointIds) {
      await graphql(
        hub.base,
        hub.adminKey,
        `
          mutation ($id: ID!, $enabled: Boolean!) {
            updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) {
              id
            }
          }
        `,
        { id, enabled },
      );
    }
  };
  try {
    console.log(
      `## delivery on vs off: webhook ingestion, ${CONNECTIONS} connections, ${PAIRS} pairs of ${SECONDS} s; ${ENDPOINTS} endpoints answering in ${LATENCY_MS} ms` +
        (NO_SEND ? ' (--no-send: deliveries made, none sent)' : ''),
    );
    console.log('');
    console.log(
      '| pair | delivery | orders/s | p50 | p99 | deliveries made in the run | pending at its end |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    let run = 0;
    const measured = async (pair: string, on: boolean, seconds: number) => {
      await setEnabled(true);
      await untilDelivered(direct, 600_000);
      await setEnabled(on);
      const { rows: before } = await direct.query(`select count(*)::int as n from outbound_delivery`);
      const r = await ingestRun(hub, { seconds, connections: CONNECTIONS, prefix: `R${run++}-` });
      const { rows: after } = await direct.query(`select count(*)::int as n from outbound_delivery`);
      console.log(
        `| ${pair} | ${on ? 'on' : 'off'} | ${r.rate.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${after[0].n - before[0].n} | ${await pending(direct)} |`,
      );
      return r.rate;
    };
    if (WARMUP_SECONDS > 0) for (const on of [true, false]) await measured('warm-up', on, WARMUP_SECONDS);
    const ratios: string[] = [];
    for (let pair = 1; pair <= PAIRS; pair++) {
      const rates = new Map<boolean, number>();
      for (const on of pair % 2 === 1 ? [false, true] : [true, false]) {
        rates.set(on, await measured(String(pair), on, SECONDS));
      }
      ratios.push((rates.get(true)! / rates.get(false)!).toFixed(2));
    }
    console.log('');
    console.log(`on ÷ off, pair by pair: ${ratios.join(', ')}`);
    console.log('');
  } finally {
    await tearDown();
  }
}

const started = Date.now();
if (only === null || only === 'throughput') await throughput();
if (only === null || only === 'onoff') await onOff();
console.log(`(whole bench: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
