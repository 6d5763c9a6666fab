// Subscription fan-out (issue 5): N graphql-ws subscribers on one hub process, each on
// `orderStatusChanged(channelCode: "web")`, while M orders are marked paid at R a second
// through HTTP. Reports latency from commit (the markPaid response) to receipt at every
// client, lost and duplicated events, and hub CPU per delivered message; beside the same
// number of sockets on a bare `ws` server (a child process) broadcasting payloads of the
// same shape at the same rate, measured the same way.
//
// Usage (after `npm run build:bench`):
//   node dist/bench/fanout.js [--clients 5000] [--changes 100] [--rate 10] [--two-processes]
//                             [--client raw|graphql-ws] [--batch 200] [--no-bare]
// --two-processes: a second hub process on the same database; the clients stay on hub A,
// the changes are made through hub B's HTTP (so each event crosses PostgreSQL NOTIFY).
// --client: raw (default) speaks graphql-transport-ws over `ws` and does per message what
// the bare run's clients do, so both runs load this process alike; graphql-ws uses the
// library's client, which costs this process more per message than the bare clients.
//
// Everything runs on 127.0.0.1: the hub (own process), the bare server (own process),
// all client sockets (this process) and PostgreSQL. The clients are part of the cost.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { graphql, startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { percentile, serverUrl } from './support.js';

const CLK_TCK = 100; // `getconf CLK_TCK` on Linux
const SUBSCRIPTION = `subscription { orderStatusChanged(channelCode: "web") { seq orderId type fromStatus toStatus at source } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const PAID = `mutation ($id: ID!) { markPaid(orderId: $id) { id status } }`;
const WARMUPS = 3;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** utime and stime of a process, in ms, from /proc/<pid>/stat (Linux). */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, system: (Number(fields[12]) * 1000) / CLK_TCK };
}
const cpuMs = (pid: number) => {
  const { user, system } = cpuTimes(pid);
  return user + system;
};

function softFdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `done()` holds, or nothing new arrived (`progress()` unchanged) for `idleMs`, or `maxMs`. */
async function settle(done: () => boolean, progress: () => number, idleMs: number, maxMs: number) {
  const start = Date.now();
  let last = progress();
  let lastChange = Date.now();
  while (!done() && Date.now() - start < maxMs && Date.now() - lastChange < idleMs) {
    await sleep(20);
    const p = progress();
    if (p !== last) [last, lastChange] = [p, Date.now()];
  }
}

interface Figures {
  scenario: string;
  clients: number;
  changes: number;
  latencies: number[];
  early: number; // receipts before t0 (should be 0 with the commit time as t0)
  lost: number;
  dup: number;
  ended: number; // sockets/subscriptions that closed or errored during the run
  serverCpuMs: number;
  serverSystemMs: number; // the part of serverCpuMs spent in the kernel (socket writes)
  otherCpuMs?: number; // hub B's CPU in the two-process run
  clientCpuMs: number;
  changeSpanMs: number; // first change to last change sent
}

/**
 * Receipts per (client, change): the first receipt time, and the number of receipts beyond one.
 * Arrays, not maps, so 5,000 × 100 receipts stay cheap on the receiving side.
 */
class Receipts {
  readonly first: Float64Array;
  dup = 0;
  count = 0;
  constructor(
    readonly clients: number,
    readonly changes: number,
  ) {
    this.first = new Float64Array(clients * changes).fill(NaN);
  }
  record(client: number, change: number, at: number) {
    const i = client * this.changes + change;
    if (Number.isNaN(this.first[i])) {
      this.first[i] = at;
      this.count++;
    } else this.dup++;
  }
  /** Waits until every client has every change, or nothing more arrives for 10 s (at most 2 min). */
  allArrived(): Promise<void> {
    return settle(
      () => this.count >= this.clients * this.changes,
      () => this.count + this.dup,
      10_000,
      120_000,
    );
  }
  /** The `n` changes whose last receipt came latest: first and last receipt against t0. */
  slowest(t0: Float64Array, n: number): string {
    const spans: Array<{ k: number; first: number; last: number }> = [];
    for (let k = 0; k < this.changes; k++) {
      let first = Infinity;
      let last = -Infinity;
      for (let c = 0; c < this.clients; c++) {
        const at = this.first[c * this.changes + k];
        if (Number.isNaN(at)) continue;
        first = Math.min(first, at - t0[k]);
        last = Math.max(last, at - t0[k]);
      }
      spans.push({ k, first, last });
    }
    return spans
      .sort((a, b) => b.last - a.last)
      .slice(0, n)
      .map((s) => `#${s.k} first ${s.first.toFixed(1)} ms, last ${s.last.toFixed(1)} ms`)
      .join('; ');
  }
  /** Latency of every first receipt against its change's t0. */
  latencies(t0: Float64Array): { latencies: number[]; early: number; lost: number } {
    const latencies: number[] = [];
    let early = 0;
    for (let c = 0; c < this.clients; c++) {
      for (let k = 0; k < this.changes; k++) {
        const at = this.first[c * this.changes + k];
        if (Number.isNaN(at) || Number.isNaN(t0[k])) continue;
        const l = at - t0[k];
        if (l < 0) early++;
        latencies.push(l);
      }
    }
    latencies.sort((a, b) => a - b);
    return { latencies, early, lost: this.clients * this.changes - this.count };
  }
}

interface StatusEvent {
  seq: string;
  orderId: string;
  type: string;
  toStatus: string | null;
}
interface HubClient {
  /** Resolves once the subscription is sent on an acknowledged connection. */
  ready: Promise<void>;
  close(): Promise<void>;
}
interface HubClientEvents {
  event(e: StatusEvent, at: number): void;
  errors(): void;
  ended(): void;
}
type ClientKind = 'raw' | 'graphql-ws';

/**
 * One subscriber of the hub. `raw`: a `ws` socket speaking the graphql-transport-ws protocol
 * by hand, doing per message what the bare broadcast's clients do (JSON.parse, record), so
 * both runs put the same load on this process. `graphql-ws`: the graphql-ws library's client,
 * which costs this process more per message (it validates and dispatches every message).
 */
function openHubClient(kind: ClientKind, url: string, key: string, on: HubClientEvents): HubClient {
  const connectionParams = { Authorization: `Bearer ${key}` };
  if (kind === 'graphql-ws') {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams,
    });
    const ready = new Promise<void>((resolve, reject) => {
      client.on('connected', () => resolve());
      client.on('closed', (event) => reject(new Error(`closed: ${(event as { code?: number }).code}`)));
      client.on('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
    });
    client.subscribe<{ orderStatusChanged: StatusEvent }>(
      { query: SUBSCRIPTION },
      {
        next: (result) => {
          const at = now();
          const e = result.data?.orderStatusChanged;
          if (e) on.event(e, at);
          else if (result.errors) on.errors();
        },
        error: () => on.ended(),
        complete: () => on.ended(),
      },
    );
    return { ready, close: async () => void (await client.dispose()) };
  }
  const id = randomUUID();
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let closing = false;
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })),
    );
    socket.on('error', reject);
    socket.once('close', (code) => reject(new Error(`closed: ${code}`)));
    socket.on('message', (data) => {
      const at = now();
      const m = JSON.parse(data.toString()) as {
        id?: string;
        type: string;
        payload?: { data?: { orderStatusChanged?: StatusEvent }; errors?: unknown };
      };
      if (m.type === 'next' && m.id === id) {
        const e = m.payload?.data?.orderStatusChanged;
        if (e) on.event(e, at);
        else if (m.payload?.errors) on.errors();
      } else if (m.type === 'connection_ack') {
        socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: SUBSCRIPTION } }));
        resolve();
      } else if (m.type === 'ping') socket.send('{"type":"pong"}');
      else if (m.type === 'error' || m.type === 'complete') on.ended();
    });
  });
  socket.on('close', () => void (closing || on.ended()));
  return {
    ready,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close(1000);
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Bare broadcast server: this same file, forked with --bare-server. Parent → child over IPC:
// {broadcast: k, data, payload} sends one text frame to every socket; the child answers {sent: k}.
// With --graphql-ws it also speaks the least of graphql-transport-ws that graphql-ws clients
// need (connection_ack, the subscription id, pong), and each socket's message carries its own
// subscription id: its head encoded once per socket, the payload once per broadcast.
if (flag('bare-server')) {
  const protocol = flag('graphql-ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const heads = new Map<WebSocket, Buffer>();
  if (protocol)
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; id?: string };
        if (m.type === 'connection_init') socket.send('{"type":"connection_ack"}');
        else if (m.type === 'subscribe')
          heads.set(socket, Buffer.from(`{"id":${JSON.stringify(m.id)},"type":"next","payload":`));
        else if (m.type === 'ping') socket.send('{"type":"pong"}');
      });
      socket.on('close', () => heads.delete(socket));
    });
  wss.on('listening', () => {
    const { port } = wss.address() as { port: number };
    process.send!({ port });
  });
  const text = { binary: false };
  process.on(
    'message',
    (m: { broadcast?: number; data?: string; payload?: string; count?: true; close?: true }) => {
      if (m.count) process.send!({ count: protocol ? heads.size : wss.clients.size });
      if (m.broadcast !== undefined) {
        if (protocol) {
          const tail = Buffer.from(`${m.payload!}}`);
          for (const [socket, head] of heads) socket.send(Buffer.concat([head, tail]), text);
        } else {
          // One serialisation per event, the same bytes to every socket: the best a broadcast can do.
          const frame = Buffer.from(m.data!);
          for (const socket of wss.clients) socket.send(frame, text);
        }
        process.send!({ sent: m.broadcast });
      }
      if (m.close) {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => process.exit(0));
      }
    },
  );
} else {
  await main();
}

async function main() {
  const clients = option('clients', 5000);
  const changes = option('changes', 100);
  const rate = option('rate', 10);
  const batch = option('batch', 200);
  const twoProcesses = flag('two-processes');
  const clientArg = process.argv[process.argv.indexOf('--client') + 1];
  const clientKind: ClientKind = process.argv.includes('--client') ? (clientArg as ClientKind) : 'raw';
  if (clientKind !== 'raw' && clientKind !== 'graphql-ws') throw new Error('--client is raw or graphql-ws');
  const withBare = !flag('no-bare');
  const HARD_LIMIT_MS = 15 * 60_000;

  // Every client socket is one fd here and one in the server process; the in-process bare
  // clients are closed before the bare run opens its own, so `clients` + slack per process.
  const fdLimit = softFdLimit();
  const fdNeed = clients + 200;
  console.log(
    `open files limit (ulimit -n): ${fdLimit}; this process needs about ${fdNeed}, the hub and the bare server as many each` +
      (fdLimit < fdNeed ? ' -> TOO LOW: raise it (ulimit -n 65536) or use fewer --clients' : ' (OK)'),
  );
  if (fdLimit < fdNeed) process.exitCode = 1;
  if (fdLimit < fdNeed) return;

  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const cleanup = async () => {
    while (cleanups.length) {
      try {
        await within('cleanup step', 20_000, Promise.resolve().then(cleanups.pop()!));
      } catch (err) {
        console.error('cleanup:', (err as Error).message);
      }
    }
  };
  const hardStop = setTimeout(() => {
    console.error(`bench exceeded ${HARD_LIMIT_MS / 60_000} min; cleaning up and exiting`);
    void cleanup().finally(() => process.exit(2));
  }, HARD_LIMIT_MS);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  const rows: Figures[] = [];
  try {
    const hubEnv = { RESERVATION_TTL_SECONDS: '3600' };
    const db = await scratchDatabase(serverUrl, 'bench_fanout');
    cleanups.push(() => db.drop());
    const started = async () => {
      const hub = await within('hub start', 60_000, startHubProcess(db.url, hubEnv, { passStderr: true }));
      cleanups.push(() => stopChild(hub.child));
      return hub;
    };
    const hubA = await started();
    const hubB = twoProcesses ? await started() : hubA;

    // Setup: one storefront channel, one product with plenty of stock, changes + warm-up orders.
    const admin = (q: string, v?: Record<string, unknown>) => graphql(hubA.base, hubA.adminKey, q, v);
    await admin(`mutation { upsertChannel(input: {code: "web", platform: STOREFRONT, name: "Web"}) { id } }`);
    await admin(`mutation { upsertProduct(input: {productCode: "FAN-1", name: "Fan-out product"}) { id } }`);
    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    await direct.query(`update inventory_item set on_hand = 100000000`);
    // Commit time, read in the database: a deferred constraint trigger runs at COMMIT, after the
    // transaction's last statement, and notes clock_timestamp() for each order that becomes PAID.
    // Only in this scratch database; it adds one small insert to each markPaid transaction.
    await direct.query(`
      create table bench_commit_time (order_id uuid primary key, at timestamptz not null);
      create function bench_note_commit() returns trigger language plpgsql as $$
      begin
        insert into bench_commit_time values (new.order_id, clock_timestamp()) on conflict do nothing;
        return null;
      end $$;
      create constraint trigger bench_commit_time after insert on order_event
        deferrable initially deferred for each row
        when (new.type = 'STATUS_CHANGED' and new.to_status = 'PAID')
        execute function bench_note_commit();`);
    cleanups.push(() => direct.end());
    const orderIds: string[] = [];
    for (let i = 0; i < changes + WARMUPS; i += 10) {
      const placed = await Promise.all(
        Array.from({ length: Math.min(10, changes + WARMUPS - i) }, (_, j) =>
          admin(PLACE, {
            input: {
              channelCode: 'web',
              externalId: `FAN-${i + j}`,
              customerName: 'Fan',
              shippingAddress: { line1: '1 Road' },
              lines: [{ productCode: 'FAN-1', quantity: 1, unitPrice: '1.00' }],
            },
          }),
        ),
      );
      for (const p of placed) orderIds.push((p as { placeOrder: { id: string } }).placeOrder.id);
    }
    const warmups = orderIds.slice(0, WARMUPS);
    const measured = orderIds.slice(WARMUPS);
    const index = new Map(measured.map((id, k) => [id, k]));
    console.log(
      `setup: channel web, product FAN-1, ${orderIds.length} PENDING_PAYMENT orders (${WARMUPS} for warm-up)`,
    );

    // ---- Hub scenario ----------------------------------------------------------------------
    const receipts = new Receipts(clients, changes);
    const warmSeen = new Uint8Array(clients);
    let warmCount = 0;
    let ended = 0;
    let otherErrors = 0;
    const wsUrl = hubA.base.replace(/^http/, 'ws') + '/graphql';
    const hubClients: HubClient[] = [];
    cleanups.push(() => Promise.all(hubClients.map((c) => c.close())));
    const connectStart = now();
    for (let start = 0; start < clients; start += batch) {
      const opened: Promise<void>[] = [];
      for (let c = start; c < Math.min(clients, start + batch); c++) {
        const client = openHubClient(clientKind, wsUrl, hubA.adminKey, {
          event: (e, at) => {
            if (e.type !== 'STATUS_CHANGED' || e.toStatus !== 'PAID') return;
            const k = index.get(e.orderId);
            if (k !== undefined) receipts.record(c, k, at);
            else if (!warmSeen[c] && warmups.includes(e.orderId)) {
              warmSeen[c] = 1;
              warmCount++;
            }
          },
          errors: () => otherErrors++,
          ended: () => ended++,
        });
        hubClients.push(client);
        opened.push(client.ready);
      }
      await within(`connecting clients ${start}..${start + opened.length - 1}`, 60_000, Promise.all(opened));
    }
    console.log(
      `hub: ${clients} ${clientKind} clients connected in ${((now() - connectStart) / 1000).toFixed(1)} s`,
    );

    // Warm-up: a paid order every client must see, which also proves every subscription is live.
    for (let w = 0; w < WARMUPS && warmCount < clients; w++) {
      await sleep(w === 0 ? 1000 + clients / 5 : 0);
      await graphql(hubB.base, hubB.adminKey, PAID, { id: warmups[w] });
      await settle(
        () => warmCount >= clients,
        () => warmCount,
        5_000,
        60_000,
      );
      console.log(`hub: warm-up ${w + 1}: ${warmCount}/${clients} clients have received an event`);
    }
    if (warmCount < clients)
      throw new Error(`only ${warmCount}/${clients} subscriptions are live after warm-up`);
    await sleep(1000);

    // Change phase: one markPaid every 1/rate s, on schedule (not waiting for the previous one).
    const t0 = new Float64Array(changes).fill(NaN);
    const cpuA0 = cpuTimes(hubA.child.pid!);
    const cpuB0 = twoProcesses ? cpuMs(hubB.child.pid!) : 0;
    const self0 = process.cpuUsage();
    const phaseStart = now();
    const sends: Promise<void>[] = [];
    let failedChanges = 0;
    for (let k = 0; k < changes; k++) {
      const due = phaseStart + (k * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      sends.push(
        graphql(hubB.base, hubB.adminKey, PAID, { id: measured[k] }).then(
          () => void (t0[k] = now()),
          (err) => {
            failedChanges++;
            console.error(`markPaid ${k} failed: ${(err as Error).message}`);
          },
        ),
      );
    }
    const changeSpanMs = now() - phaseStart;
    await within('markPaid responses', 60_000, Promise.all(sends));
    await receipts.allArrived();
    const cpuA1 = cpuTimes(hubA.child.pid!);
    const otherCpu = twoProcesses ? cpuMs(hubB.child.pid!) - cpuB0 : undefined;
    const self = process.cpuUsage(self0);
    if (failedChanges) console.error(`${failedChanges} markPaid calls failed`);
    if (otherErrors) console.error(`${otherErrors} results with errors received`);
    await sleep(500); // late duplicates, if any
    // t0 per change: the commit time noted in the database, on this process's clock (the wall
    // clock offset of performance.now() is read now; both clocks are this machine's).
    const offsets = Array.from({ length: 5 }, () => Date.now() - now()).sort((a, b) => a - b);
    const offset = offsets[2];
    const commits = new Float64Array(changes).fill(NaN);
    for (const row of (
      await direct.query(`select order_id::text, extract(epoch from at) * 1000 as ms from bench_commit_time`)
    ).rows as Array<{ order_id: string; ms: string }>) {
      const k = index.get(row.order_id);
      if (k !== undefined) commits[k] = Number(row.ms) - offset;
    }
    const committed = Array.from(commits).filter((t) => !Number.isNaN(t));
    console.log(
      `hub: ${committed.length} commits spread over ${((Math.max(...committed) - Math.min(...committed)) / 1000).toFixed(1)} s ` +
        `(requests sent over ${(changeSpanMs / 1000).toFixed(1)} s; longer means the committing hub was too busy to keep the rate)`,
    );
    const respond = Array.from(t0, (t, k) => t - commits[k]).sort((a, b) => a - b);
    console.log(
      `hub: commit -> markPaid response at this process: p50 ${percentile(respond, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(respond, 99).toFixed(1)} ms, max ${respond[respond.length - 1].toFixed(1)} ms`,
    );
    const byResponse = receipts.latencies(t0);
    console.log(
      `hub: latency from the markPaid response instead (what a caller sees): p50 ${percentile(byResponse.latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(byResponse.latencies, 99).toFixed(1)} ms, ${byResponse.early} receipts before their response`,
    );
    const hubResult = receipts.latencies(commits);
    console.log(
      `hub: slowest changes (the p99 is about one change's fan-out): ${receipts.slowest(commits, 3)}`,
    );
    rows.push({
      scenario: `${twoProcesses ? 'hub, change on other process' : 'hub, one process'} (${clientKind} clients)`,
      clients,
      changes,
      ...hubResult,
      dup: receipts.dup,
      ended,
      serverCpuMs: cpuA1.user + cpuA1.system - cpuA0.user - cpuA0.system,
      serverSystemMs: cpuA1.system - cpuA0.system,
      otherCpuMs: otherCpu,
      clientCpuMs: (self.user + self.system) / 1000,
      changeSpanMs,
    });
    // A sample event, to give the bare broadcast the same payload shape and size.
    const sample = {
      id: '6f1b9c3e-2a4d-4e8f-9b7a-1c2d3e4f5a6b',
      type: 'next',
      payload: {
        data: {
          orderStatusChanged: {
            seq: '1000',
            orderId: measured[0],
            type: 'STATUS_CHANGED',
            fromStatus: 'PENDING_PAYMENT',
            toStatus: 'PAID',
            at: new Date().toISOString(),
            source: 'api',
          },
        },
      },
    };
    // Close the hub clients before the bare run, so both runs have the same sockets open.
    await within('closing hub clients', 60_000, Promise.all(hubClients.splice(0).map((c) => c.close())));
    // Let the hub processes finish closing 5,000 subscriptions (and any backlog) before the bare run.
    const quietStart = Date.now();
    for (;;) {
      const before = [hubA, hubB].reduce((sum, h) => sum + cpuMs(h.child.pid!), 0);
      await sleep(1000);
      const used = [hubA, hubB].reduce((sum, h) => sum + cpuMs(h.child.pid!), 0) - before;
      if (used <= 50 || Date.now() - quietStart > 60_000) break;
    }

    // ---- Bare broadcast --------------------------------------------------------------------
    if (withBare) rows.push(await bare(clientKind, clients, changes, rate, batch, sample, cleanups));
  } finally {
    clearTimeout(hardStop);
    await cleanup();
  }
  print(rows);
}

async function bare(
  clientKind: ClientKind,
  clients: number,
  changes: number,
  rate: number,
  batch: number,
  sample: { payload: { data: { orderStatusChanged: Record<string, string> } } } & Record<string, unknown>,
  cleanups: Array<() => Promise<unknown> | unknown>,
): Promise<Figures> {
  // Node flags given to this script (GC settings for the clients) are not passed on: the bare
  // server runs with Node's defaults, like the hub.
  const child = fork(new URL(import.meta.url), ['--bare-server', `--${clientKind}`], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(() => stopChild(child));
  const replies: Array<(m: Record<string, number>) => void> = [];
  child.on('message', (m: Record<string, number>) => replies.shift()?.(m));
  const ask = (m: object) =>
    new Promise<Record<string, number>>((resolve) => {
      replies.push(resolve);
      if (Object.keys(m).length) child.send(m);
    });
  const { port } = await within('bare server start', 20_000, ask({}));

  const receipts = new Receipts(clients, changes);
  let ended = 0;
  // Raw: plain sockets that parse every message. graphql-ws: the same client as the hub run's.
  const closers: Array<() => unknown> = [];
  cleanups.push(() => Promise.all(closers.map((close) => close())));
  let closing = false;
  for (let start = 0; start < clients; start += batch) {
    const opened: Promise<void>[] = [];
    for (let c = start; c < Math.min(clients, start + batch); c++) {
      const url = `ws://127.0.0.1:${port}`;
      if (clientKind === 'graphql-ws') {
        const client = openHubClient(clientKind, url, 'bare', {
          event: (e, at) => receipts.record(c, Number(e.seq), at),
          errors: () => undefined,
          ended: () => void (closing || ended++),
        });
        closers.push(() => client.close());
        opened.push(client.ready);
        continue;
      }
      const socket = new WebSocket(url);
      closers.push(() => socket.terminate());
      opened.push(
        new Promise((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        }),
      );
      socket.on('message', (data) => {
        const at = now();
        // Parsed as the hub run's raw clients parse each message, so both runs do the same work.
        const m = JSON.parse(data.toString()) as {
          payload: { data: { orderStatusChanged: { seq: string } } };
        };
        receipts.record(c, Number(m.payload.data.orderStatusChanged.seq), at);
      });
      socket.on('close', () => void (closing || ended++));
    }
    await within(`connecting bare sockets ${start}..`, 60_000, Promise.all(opened));
  }
  await sleep(1000);
  const { count } = await ask({ count: true });
  console.log(`bare: ${count} sockets open on the bare ws server`);

  const t0 = new Float64Array(changes).fill(NaN);
  const cpu0 = cpuTimes(child.pid!);
  const self0 = process.cpuUsage();
  const phaseStart = now();
  const sent: Promise<unknown>[] = [];
  for (let k = 0; k < changes; k++) {
    const due = phaseStart + (k * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const event = { ...sample.payload.data.orderStatusChanged, seq: String(k), at: new Date().toISOString() };
    const payload = JSON.stringify({ data: { orderStatusChanged: event } });
    const data = `{"id":${JSON.stringify(sample.id)},"type":"next","payload":${payload}}`;
    t0[k] = now(); // the broadcast call: the IPC message asking for it leaves now
    sent.push(ask({ broadcast: k, data, payload }));
  }
  const changeSpanMs = now() - phaseStart;
  await within('bare broadcasts', 60_000, Promise.all(sent));
  await receipts.allArrived();
  const cpu1 = cpuTimes(child.pid!);
  const self = process.cpuUsage(self0);
  await sleep(500);
  closing = true;
  const result = receipts.latencies(t0);
  console.log(`bare: slowest changes: ${receipts.slowest(t0, 3)}`);
  await Promise.all(closers.splice(0).map((close) => close()));
  return {
    scenario: `bare ws broadcast (${clientKind} clients)`,
    clients,
    changes,
    ...result,
    dup: receipts.dup,
    ended,
    serverCpuMs: cpu1.user + cpu1.system - cpu0.user - cpu0.system,
    serverSystemMs: cpu1.system - cpu0.system,
    clientCpuMs: (self.user + self.system) / 1000,
    changeSpanMs,
  };
}

/** SIGTERM, then SIGKILL after 15 s; resolves once the process is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function print(rows: Figures[]) {
  const bareRow = rows.find((r) => r.scenario.startsWith('bare'));
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const table = rows.map((r) => {
    const delivered = r.latencies.length;
    const p99 = percentile(r.latencies, 99);
    return {
      scenario: r.scenario,
      clients: r.clients,
      changes: r.changes,
      p50: ms(percentile(r.latencies, 50)),
      p99: ms(p99),
      max: ms(r.latencies[r.latencies.length - 1] ?? NaN),
      lost: r.lost,
      dup: r.dup,
      'early*': r.early,
      'server CPU µs/msg': delivered ? ((r.serverCpuMs * 1000) / (r.clients * r.changes)).toFixed(1) : '-',
      'p99 / bare p99': bareRow && r !== bareRow ? (p99 / percentile(bareRow.latencies, 99)).toFixed(2) : '',
    };
  });
  console.log();
  console.table(table);
  for (const r of rows) {
    console.log(
      `${r.scenario}: server CPU ${r.serverCpuMs.toFixed(0)} ms (${r.serverSystemMs.toFixed(0)} ms of it in the kernel)` +
        (r.otherCpuMs !== undefined
          ? ` (hub B, which took the changes: ${r.otherCpuMs.toFixed(0)} ms)`
          : '') +
        `, client process CPU ${r.clientCpuMs.toFixed(0)} ms (${((r.clientCpuMs * 1000) / (r.clients * r.changes)).toFixed(1)} µs/msg)` +
        `, changes sent over ${(r.changeSpanMs / 1000).toFixed(1)} s, ${r.ended} subscriptions ended early` +
        (r.early ? `, ${r.early} receipts timed before t0 (negative latency, kept)` : ''),
    );
  }
  console.log(
    'CPU per message = server process utime+stime (/proc/<pid>/stat, 10 ms ticks) over the change phase / (clients × changes).',
  );
  console.log(
    'Hub latency: from COMMIT (clock_timestamp() in a deferred trigger, PostgreSQL and this process read the same machine clock) to receipt;',
  );
  console.log(
    "  bare: from the IPC request to broadcast to receipt, on this process's clock. The markPaid response is not used as t0: a hub busy",
  );
  console.log(
    '  fanning out answers it late, after most clients already have the event (figures printed above).',
  );
  console.log(
    '* early: receipts timed before their t0 (clock error); counted with their negative latency. Should be 0.',
  );
  const bad = rows.filter((r) => r.lost || r.dup || r.ended);
  if (bad.length) {
    console.log(`NOT CLEAN: ${bad.map((r) => r.scenario).join(', ')} lost, duplicated or ended events`);
    process.exitCode = 1;
  }
}
