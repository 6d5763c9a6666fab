import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/support.js';

const root = new URL('..', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `node dist/server/main.js`, as `npm start` runs it, with the environment given (and no DATABASE_URL). */
function startHub(env: Record<string, string>): Running {
  // Not vitest's NODE_ENV=test either: libraries behave differently under it (Apollo's signal handling did).
  const { DATABASE_URL: _url, NODE_ENV: _env, ...inherited } = process.env;
  const child = spawn(process.execPath, ['dist/server/main.js'], {
    cwd: root,
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(what: string, check: () => boolean, run: Running, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (run.child.exitCode !== null)
      throw new Error(`hub exited while waiting for ${what}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ready = (run: Running) => waitFor('ready', () => run.output().includes('Order hub ready at'), run);

describe('the hub as a process (npm start)', () => {
  let dataDir: string;
  let port: number;
  let pgPort: number;
  let env: Record<string, string>;
  let adminKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'order-hub-process-'));
    await chmod(dataDir, 0o755);
    port = await freePort();
    pgPort = await freePort();
    env = { PORT: String(port), HUB_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
  }, 120_000);

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const gql = (query: string, key: string) =>
    fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query }),
    });

  it('starts on an embedded PostgreSQL, prints the URL and a first ADMIN key once, and serves the IDE', async () => {
    const run = startHub(env);
    await ready(run);
    const match = /\n\s+(hub_[\w-]+)\n/.exec(run.output());
    expect(match, run.output()).not.toBeNull();
    adminKey = match![1];
    expect(run.output()).toContain(`http://localhost:${port}/graphql`);

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const ide = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
    expect(ide.status).toBe(200);
    expect(await ide.text()).toMatch(/<html/i);
    const answer = await (await gql('{ channels { code } }', adminKey)).json();
    expect(answer).toEqual({ data: { channels: [] } });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('on SIGTERM lets an in-flight request finish, closes websockets with 1001, and exits cleanly', async () => {
    const run = startHub(env);
    await ready(run);
    expect(run.output()).not.toContain('hub_');

    let connected!: () => void;
    const isConnected = new Promise<void>((resolve) => (connected = resolve));
    const closed = new Promise<number>((resolve) => {
      createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: { Authorization: `Bearer ${adminKey}` },
        on: { connected: () => connected(), closed: (event) => resolve((event as { code: number }).code) },
        onNonLazyError: () => undefined,
      });
    });
    await isConnected;

    // Hold an exclusive lock so a query is still running when the signal arrives.
    const locker = new pg.Client({
      connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/orderhub`,
    });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table channel in access exclusive mode');
    const inFlight = gql('{ channels { code } }', adminKey);
    let blocked = false;
    const deadline = Date.now() + 10_000;
    while (!blocked && Date.now() < deadline) {
      const { rows } = await locker.query(
        `select count(*)::int as n from pg_locks where relation = 'channel'::regclass and not granted`,
      );
      blocked = rows[0].n > 0;
    }
    expect(blocked).toBe(true);

    run.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    await locker.query('commit');
    await locker.end();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { channels: [] } });
    expect(await run.exited).toBe(0);
  });

  it('starts again on the same data after being killed with SIGKILL, with no hand-made fix', async () => {
    const first = startHub(env);
    await ready(first);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startHub(env);
    await ready(second);
    const answer = await (await gql('{ channels { code } }', adminKey)).json();
    expect(answer).toEqual({ data: { channels: [] } });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start on a port already in use, saying which and what to do', async () => {
    const blocker = createServer().listen(port, '0.0.0.0');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const run = startHub(env);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`Port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a bad configuration value, naming the variable', async () => {
    const run = startHub({ ...env, PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/PORT: PORT must be a port number/);
  });
});
