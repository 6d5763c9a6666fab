import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort, graphql, spawnHub, type HubProcess } from './support/hub-process.js';
import { waitFor } from './support/wait.js';

/** The hub as `npm start` runs it, on the embedded PostgreSQL; stopped when the test ends, passed or failed. */
function startHub(env: Record<string, string>, port: number): HubProcess {
  const run = spawnHub({ port, env: { DATABASE_URL: undefined, LOG_LEVEL: 'info', ...env } });
  onTestFinished(() => run.stop().then(() => undefined));
  return run;
}

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
    env = { HUB_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
  }, 120_000);

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts on an embedded PostgreSQL, prints the URL and a first ADMIN key once, and serves the IDE', async () => {
    const run = startHub(env, port);
    await run.ready;
    const match = /\n\s+(hub_[\w-]+)\n/.exec(run.output());
    expect(match, run.output()).not.toBeNull();
    adminKey = match![1];
    expect(run.output()).toContain(`http://localhost:${port}/graphql`);

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const ide = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
    expect(ide.status).toBe(200);
    expect(await ide.text()).toMatch(/<html/i);
    expect(await graphql(run.base, adminKey, '{ channels { code } }')).toEqual({ channels: [] });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('on SIGTERM lets an in-flight request finish, closes websockets with 1001, and exits cleanly', async () => {
    const run = startHub(env, port);
    await run.ready;
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
    const password = (await readFile(join(dataDir, 'pg.password'), 'utf8')).trim();
    const locker = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/orderhub`,
    });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table channel in access exclusive mode');
    const inFlight = graphql(run.base, adminKey, '{ channels { code } }');
    await waitFor(async () => {
      const { rows } = await locker.query(
        `select count(*)::int as n from pg_locks where relation = 'channel'::regclass and not granted`,
      );
      return rows[0].n > 0;
    }, 'the request to wait on the lock');

    run.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    await locker.query('commit');
    await locker.end();
    expect(await inFlight).toEqual({ channels: [] });
    expect(await run.exited).toBe(0);
  });

  it('starts again on the same data after being killed with SIGKILL, with no hand-made fix', async () => {
    const first = startHub(env, port);
    await first.ready;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startHub(env, port);
    await second.ready;
    expect(await graphql(second.base, adminKey, '{ channels { code } }')).toEqual({ channels: [] });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start on a port already in use, saying which and what to do', async () => {
    const blocker = createServer().listen(port, '0.0.0.0');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const run = startHub(env, port);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`Port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a bad configuration value, naming the variable', async () => {
    const run = startHub({ ...env, PORT: 'eighty' }, port);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/PORT: PORT must be a port number/);
  });
});
