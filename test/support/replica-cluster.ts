import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './hub-process.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/**
 * A PostgreSQL primary and a streaming replica of it (pg_basebackup -R), each on a free port with its data in
 * a temporary folder, made from the machine's PostgreSQL binaries: the embedded PostgreSQL bundle has no
 * pg_basebackup, and a pg_basebackup can copy only a server of its own major version.
 */
export interface ReplicaCluster {
  primaryPort: number;
  replicaPort: number;
  /** The URL of `database` on the primary, or on the replica. */
  primaryUrl(database?: string): string;
  replicaUrl(database?: string): string;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  /** Stops replaying WAL on the replica (it keeps its connections and answers as of now), or starts it again. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stopReplica(): Promise<void>;
  /** Starts the stopped replica again, on its port; it catches up from the primary. */
  startReplica(): Promise<void>;
  /** Stops both servers and removes their folders; safe to call after a failed start, and twice. */
  stop(): Promise<void>;
}

/**
 * The folder with initdb, pg_ctl and pg_basebackup: PG_BINDIR, else the newest /usr/lib/postgresql/<n>/bin,
 * else `pg_config --bindir`; null when none has them all.
 */
export async function postgresBinaries(): Promise<string | null> {
  const complete = (dir: string) =>
    ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((name) => existsSync(join(dir, name)));
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = (await readdir(debian))
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  try {
    candidates.push((await run('pg_config', ['--bindir'])).stdout.trim());
  } catch {
    // No pg_config on the PATH.
  }
  return candidates.find(complete) ?? null;
}

/** Runs a PostgreSQL tool; as root, as the `postgres` user (PostgreSQL refuses to run as root). */
async function tool(bin: string, name: string, args: string[], runAs: { uid?: number; gid?: number }) {
  try {
    return await run(join(bin, name), args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } });
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`${name} ${args.join(' ')} failed:\n${stderr ?? ''}${stdout ?? ''}`, { cause: err });
  }
}

export async function startReplicaCluster(bin: string): Promise<ReplicaCluster> {
  const asRoot = process.getuid?.() === 0;
  const runAs = asRoot
    ? {
        uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
        gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
      }
    : {};
  const root = await mkdtemp(join(tmpdir(), 'order-hub-replicas-'));
  if (runAs.uid !== undefined) {
    await chown(root, runAs.uid, runAs.gid!);
    await chmod(root, 0o700);
  }
  const primaryDir = join(root, 'primary');
  const replicaDir = join(root, 'replica');
  const primaryPort = await freePort();
  let replicaPort = await freePort();
  while (replicaPort === primaryPort) replicaPort = await freePort();
  const started: string[] = [];

  const options = (port: number) =>
    [
      `-p ${port}`,
      `-c listen_addresses=127.0.0.1`,
      `-c unix_socket_directories=${root}`,
      // A test server: nothing needs to survive a crash.
      `-c fsync=off`,
      `-c synchronous_commit=off`,
      `-c full_page_writes=off`,
      `-c wal_level=replica`,
      `-c max_wal_senders=5`,
      `-c max_connections=100`,
      `-c shared_buffers=32MB`,
      // Every statement with the application that sent it: what ran where can be read in the logs.
      `-c log_statement=all`,
      `-c log_line_prefix=%m[%a]`,
    ].join(' ');
  const startServer = async (dir: string, port: number) => {
    await tool(
      bin,
      'pg_ctl',
      ['-D', dir, '-l', `${dir}.log`, '-o', options(port), '-w', '-t', '60', 'start'],
      runAs,
    );
    started.push(dir);
  };
  const stopServer = async (dir: string) => {
    if (!started.includes(dir)) return;
    started.splice(started.indexOf(dir), 1);
    await tool(bin, 'pg_ctl', ['-D', dir, '-m', 'fast', '-w', '-t', '60', 'stop'], runAs);
  };
  const stop = async () => {
    try {
      for (const dir of [...started].reverse()) await stopServer(dir).catch(() => undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  const url = (port: number, database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const sql = async <T>(port: number, text: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url(port) });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  try {
    // initdb's pg_hba.conf trusts local and 127.0.0.1 connections, replication ones included.
    await tool(
      bin,
      'initdb',
      ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'],
      runAs,
    );
    await startServer(primaryDir, primaryPort);
    await tool(
      bin,
      'pg_basebackup',
      [
        '-D',
        replicaDir,
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-X',
        'stream',
        '-R',
        '-c',
        'fast',
      ],
      runAs,
    );
    await startServer(replicaDir, replicaPort);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    primaryPort,
    replicaPort,
    primaryUrl: (database) => url(primaryPort, database),
    replicaUrl: (database) => url(replicaPort, database),
    async caughtUp() {
      // The insert position, not the write position: with synchronous_commit off a commit just made may not be
      // written yet, and waiting for the write position would miss it.
      const [{ lsn }] = await sql<{ lsn: string }>(
        primaryPort,
        'select pg_current_wal_insert_lsn()::text as lsn',
      );
      await waitFor(
        async () =>
          (
            await sql<{ done: boolean }>(
              replicaPort,
              'select coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) as done',
              [lsn],
            )
          )[0].done,
        `the replica to replay up to ${lsn}`,
      );
    },
    async pauseReplay() {
      await sql(replicaPort, 'select pg_wal_replay_pause()');
      // Pausing is asked for, then takes effect: wait until it has.
      await waitFor(
        async () =>
          (await sql<{ s: string }>(replicaPort, 'select pg_get_wal_replay_pause_state() as s'))[0].s ===
          'paused',
        'the replica to pause its replay',
      );
    },
    async resumeReplay() {
      await sql(replicaPort, 'select pg_wal_replay_resume()');
    },
    stopReplica: () => stopServer(replicaDir),
    startReplica: () => startServer(replicaDir, replicaPort),
    stop,
  };
}
