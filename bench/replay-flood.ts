// Replay flood (issue 11): how long a live order event takes to reach a live subscriber of one
// hub process, alone and while N clients replay the whole history (`orderStatusChanged(after:
// "0")`). Live events are inserted one at a time by this process's own connection, each timed
// from just before its insert to its arrival; the next is made once the last arrived. The flood
// run measures only the events made while some replay was still reading history. Also checks
// that every replaying client got every event exactly once, in order.
//
// Usage (after `npm run build:bench`):
//   node dist/bench/replay-flood.js [--history 5000] [--replayers 50] [--live 300]
//
// Everything runs on 127.0.0.1: the hub (own process), the live client (this process), the
// replaying clients (a child process, so their work does not delay the live client's receipt)
// and PostgreSQL.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { countOption, percentile, serverUrl } from './support.js';
import { followSeqs } from '../test/support/order-seqs.js';

const LIVE = `subscription { orderStatusChanged(channelCode: "web") { seq } }`;
const REPLAY = `subscription { orderStatusChanged(after: "0") { seq } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;

const history = countOption('history', 5000);
const replayers = countOption('replayers', 50);
const liveCount = countOption('live', 300);

function client(url: string, key: string): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${key}` },
    onNonLazyError: () => undefined,
  });
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

async function main() {
  const db = await scratchDatabase(serverUrl, 'bench_replay_flood');
  const clients: Client[] = [];
  const writer = new pg.Client({ connectionString: db.url });
  let hub: Awaited<ReturnType<typeof startHubProcess>> | undefined;
  try {
    hub = await startHubProcess(db.url, { SUBSCRIBER_MAX_QUEUE: '1000000' }, { passStderr: true });
    const admin = (q: string, v?: Record<string, unknown>) => graphql(hub!.base, hub!.adminKey, q, v);
    await admin(`mutation { upsertChannel(input: {code: "web", platform: STOREFRONT, name: "Web"}) { id } }`);
    await admin(`mutation { upsertProduct(input: {productCode: "RF-1", name: "Replay flood"}) { id } }`);
    await writer.connect();
    await writer.query(`update inventory_item set on_hand = 1000`);
    const placed = (await admin(PLACE, {
      input: {
        channelCode: 'web',
        externalId: 'RF-1',
        customerName: 'Flood',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'RF-1', quantity: 1, unitPrice: '1.00' }],
      },
    })) as { placeOrder: { id: string } };
    const orderId = placed.placeOrder.id;
    await writer.query(
      `insert into order_event (order_id, channel_code, type, source)
       select $1, 'web', 'STATUS_CHANGED', 'history' from generate_series(1, $2)`,
      [orderId, history],
    );
    await writer.query(`select count(*) from hub_number_order_events()`);
    const [{ top }] = (await writer.query<{ top: string }>(`select max(seq)::text as top from order_event`))
      .rows;
    console.log(`setup: ${top} numbered events of channel web; ${replayers} replaying clients`);

    const wsUrl = `${hub.base.replace('http', 'ws')}/graphql`;
    const arrivals: { seq: number; at: number }[] = [];
    let arrived: (() => void) | null = null;
    const liveErrors: unknown[] = [];
    const live = client(wsUrl, hub.adminKey);
    clients.push(live);
    followSeqs(
      live,
      LIVE,
      (seq) => {
        arrivals.push({ seq, at: performance.now() });
        arrived?.();
      },
      liveErrors,
    );
    const liveEvent = async (): Promise<number> => {
      const before = arrivals.length;
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      const start = performance.now();
      await writer.query(
        `insert into order_event (order_id, channel_code, type, source) values ($1, 'web', 'STATUS_CHANGED', 'bench')`,
        [orderId],
      );
      await reached;
      return arrivals[before].at - start;
    };
    // Warm-up; the first also waits for the subscription to be in place.
    for (let i = 0; i < 20; i++) {
      const start = arrivals.length;
      await writer.query(
        `insert into order_event (order_id, channel_code, type, source) values ($1, 'web', 'STATUS_CHANGED', 'bench')`,
        [orderId],
      );
      while (arrivals.length === start) await new Promise<void>((resolve) => (arrived = resolve));
    }

    const alone: number[] = [];
    for (let i = 0; i < liveCount; i++) alone.push(await liveEvent());

    const floodStart = performance.now();
    const child = fork(fileURLToPath(import.meta.url), [
      '--replay-child',
      wsUrl,
      hub.adminKey,
      String(replayers),
      String(history),
    ]);
    let replaying = true;
    let report: { exact: number; errors: number; last: number } | null = null;
    child.on('message', (message: { read?: boolean; exact?: number; errors?: number; last?: number }) => {
      if (message.read) replaying = false;
      if (message.exact !== undefined) report = message as typeof report;
    });
    const flooded: number[] = [];
    while (replaying && child.exitCode === null) flooded.push(await liveEvent());
    const floodMs = performance.now() - floodStart;
    const last = arrivals.at(-1)!.seq;
    child.send({ last });
    await once(child, 'exit');
    const { exact, errors } = report ?? { exact: 0, errors: -1 };

    const a = summary(alone);
    const f = summary(flooded);
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(26)} ${String(s.n).padStart(6)} ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${s.max.toFixed(1).padStart(8)}`;
    console.log(
      `\n${'live events'.padEnd(26)} ${'n'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
    );
    console.log(row('alone', a));
    console.log(row(`beside ${replayers} replays`, f));
    console.log(`\nlive p99 ratio (flood / alone): ${(f.p99 / a.p99).toFixed(2)}`);
    console.log(
      `replays: ${replayers} x ${history} events read in ${(floodMs / 1000).toFixed(1)} s; ` +
        `${exact} of ${replayers} got every event 1..${last} exactly once, in order; errors: ${errors + liveErrors.length}`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await writer.end().catch(() => undefined);
    await hub?.stop();
    await db.drop();
  }
}

/**
 * The replaying clients, in a child process: says `read` once every client has read the history,
 * then, told the last seq, how many got every event up to it exactly once, in order.
 */
async function replayChild([url, key, count, historySize]: string[]) {
  const replayed: number[][] = [];
  const errors: unknown[] = [];
  const clients: Client[] = [];
  for (let i = 0; i < Number(count); i++) {
    const seqs: number[] = [];
    replayed.push(seqs);
    const c = client(url, key);
    clients.push(c);
    followSeqs(c, REPLAY, (seq) => seqs.push(seq), errors);
  }
  const told = new Promise<number>((resolve) =>
    process.once('message', (m: { last: number }) => resolve(m.last)),
  );
  while (replayed.some((seqs) => seqs.length < Number(historySize)) && errors.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.send!({ read: true });
  const last = await told;
  while (replayed.some((seqs) => seqs.at(-1) !== last) && errors.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const exact = replayed.filter((seqs) => seqs.length === last && seqs.every((s, i) => s === i + 1)).length;
  process.send!({ exact, errors: errors.length, last });
  await Promise.all(clients.map((c) => c.dispose()));
  process.disconnect();
}

const childAt = process.argv.indexOf('--replay-child');
(childAt >= 0 ? replayChild(process.argv.slice(childAt + 1)) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
