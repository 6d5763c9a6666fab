import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../server/embedded-postgres.js';
import { freePort } from './support/hub-process.js';
import { waitFor } from './support/wait.js';

const root = new URL('..', import.meta.url).pathname;
const moduleUrl = new URL('../server/embedded-postgres.ts', import.meta.url).href;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'order-hub-embedded-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dataDir: string, port: number, log = logger) {
  const db = await startEmbeddedPostgres({ dataDir, port, logger: log });
  cleanups.push(() => db.stop());
  return db;
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const postmasterPid = async (dataDir: string) =>
  Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Node 20 cannot run TypeScript, so the hub process gets a loader that transpiles our sources.
const loaderHooks = `
import { readFile } from 'node:fs/promises';
import ts from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href)};
export async function resolve(specifier, context, next) {
  const fromTs = specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts');
  return next(fromTs ? specifier.slice(0, -3) + '.ts' : specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
  return { format: 'module', source: ts.transpileModule(source, { compilerOptions }).outputText, shortCircuit: true };
}`;
const registerLoader = `import { register } from 'node:module'; register(${JSON.stringify(
  `data:text/javascript,${encodeURIComponent(loaderHooks)}`,
)});`;
const hubScript = `
const { startEmbeddedPostgres } = await import(process.env.EMBEDDED_PG_MODULE);
const { pino } = await import('pino');
const db = await startEmbeddedPostgres({
  dataDir: process.env.HUB_DATA_DIR,
  port: Number(process.env.EMBEDDED_PG_PORT),
  logger: pino({ level: 'silent' }),
});
console.log(db.url);
setInterval(() => {}, 60_000);
`;

/** A separate Node process that starts the embedded PostgreSQL, prints its url, then waits. */
async function startPostgresProcess(dataDir: string, port: number) {
  const child = spawn(
    process.execPath,
    [
      `--import=data:text/javascript,${encodeURIComponent(registerLoader)}`,
      '--input-type=module',
      '--eval',
      hubScript,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        EMBEDDED_PG_MODULE: moduleUrl,
        HUB_DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the hub process exited (${code}):\n${stderr}`)));
  });
  return { child, url };
}

/** Until a test's own restart has stopped it, a server orphaned on purpose is the test's to clean up. */
function orphanedServer(pid: number) {
  let adopted = false;
  cleanups.push(async () => {
    if (adopted || !isRunning(pid)) return;
    process.kill(pid, 'SIGINT');
    await waitFor(() => !isRunning(pid), `the orphaned PostgreSQL ${pid} to stop`);
  });
  return {
    adopted: () => {
      adopted = true;
    },
  };
}

describe('the embedded PostgreSQL', () => {
  it('starts on a fresh data folder, answers queries, stops cleanly, and keeps its data for the next start', async () => {
    const dataDir = await freshDataDir();
    const port = await freePort();
    const logged: { level: number; msg: string }[] = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line)) });

    const first = await start(dataDir, port, capture);
    const password = (await readFile(join(dataDir, 'pg.password'), 'utf8')).trim();
    expect(first.url).toBe(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/orderhub`);
    expect(await query(first.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 20, msg: expect.stringContaining('ready to accept connections') }),
    );
    await query(first.url, "create table kept (note text); insert into kept values ('before restart')");
    await Promise.all([first.stop(), first.stop()]);
    await first.stop();
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    await expect(query(first.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);

    const second = await start(dataDir, port);
    expect(second.url).toBe(first.url);
    expect(await query(second.url, 'select note from kept')).toEqual([{ note: 'before restart' }]);
  });

  it('starts without manual cleanup after the Node process that ran it was killed with SIGKILL', async () => {
    const dataDir = await freshDataDir();
    const port = await freePort();
    const hub = await startPostgresProcess(dataDir, port);
    await query(hub.url, "create table kept (note text); insert into kept values ('before the kill')");
    const leftover = await postmasterPid(dataDir);
    const orphan = orphanedServer(leftover);

    hub.child.kill('SIGKILL');
    await once(hub.child, 'exit');
    expect(isRunning(leftover)).toBe(true);

    const db = await start(dataDir, port);
    orphan.adopted();
    expect(await postmasterPid(dataDir)).not.toBe(leftover);
    expect(await query(db.url, 'select note from kept')).toEqual([{ note: 'before the kill' }]);
  });

  it('starts without manual cleanup after both the Node process and its PostgreSQL were killed with SIGKILL', async () => {
    const dataDir = await freshDataDir();
    const port = await freePort();
    const hub = await startPostgresProcess(dataDir, port);
    await query(hub.url, "create table kept (note text); insert into kept values ('before the kill')");
    const postmaster = await postmasterPid(dataDir);

    hub.child.kill('SIGKILL');
    process.kill(postmaster, 'SIGKILL');
    await once(hub.child, 'exit');
    await waitFor(() => !isRunning(postmaster), 'the killed PostgreSQL to be gone');
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(true);

    const db = await start(dataDir, port);
    expect(await query(db.url, 'select note from kept')).toEqual([{ note: 'before the kill' }]);
  });

  it('refuses a data folder whose server a running process still uses', async () => {
    const dataDir = await freshDataDir();
    const running = await start(dataDir, await freePort());

    await expect(start(dataDir, await freePort())).rejects.toThrow(/is in use by a running process/);
    expect(await query(running.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('names the port and EMBEDDED_PG_PORT when the port is taken', async () => {
    const dataDir = await freshDataDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const { port } = taken.address() as AddressInfo;

    await expect(start(dataDir, port)).rejects.toThrow(
      new RegExp(`Port ${port} .*already in use.*EMBEDDED_PG_PORT`),
    );
  });
});
