import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The key test hubs seal platform credentials with (HUB_SECRET_KEY). */
export const TEST_SECRET_KEY = '7e57'.repeat(16);

// Shared by the tests and the benchmarks (compiled to dist/bench, run with node): nothing here imports vitest.

/** `dist/server/main.js`, seen from test/support (vitest) or from dist/test/support (the compiled benchmarks). */
const MAIN = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.ts') ? '../../dist/server/main.js' : '../../server/main.js',
    import.meta.url,
  ),
);
const READY = 'Order hub ready';
/** How long a stopped hub may take to shut down gracefully before it is killed. */
const STOP_GRACE_MS = 15_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HubProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The HUB_ADMIN_KEY it was started with (startHubProcess sets one). */
  adminKey: string;
  /** Everything the process has written so far (stdout, and stderr unless passed through). */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once the hub says it is ready; rejects, with its output, if it exits first. */
  ready: Promise<void>;
  /** Sends `signal` (SIGTERM by default), SIGKILL after a grace period; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnHubOptions {
  port: number;
  /** Set on top of this process's environment; `undefined` removes a variable (DATABASE_URL: the embedded PostgreSQL). */
  env?: Record<string, string | undefined>;
  /** Passes the hub's stderr through to ours instead of collecting it (benchmarks). */
  passStderr?: boolean;
}

/** `node dist/server/main.js`, as `npm start` runs it; does not wait for it to be ready. Build first. */
export function spawnHub({ port, env = {}, passStderr = false }: SpawnHubOptions): HubProcess {
  // Not vitest's NODE_ENV=test: libraries behave differently under it (Apollo's signal handling did).
  const { NODE_ENV: _nodeEnv, ...inherited } = process.env;
  const merged: Record<string, string | undefined> = { ...inherited, PORT: String(port), ...env };
  const child = spawn(process.execPath, [...(process.env.HUB_NODE_OPTIONS?.split(' ') ?? []), MAIN], {
    env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
    stdio: ['ignore', 'pipe', passStderr ? 'inherit' : 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes(READY)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`the hub exited (${code}) before it was ready:\n${output}`)));
  });
  // Not every caller waits for ready (a hub expected to refuse to start): no unhandled rejection then.
  ready.catch(() => undefined);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.kill(signal);
    try {
      return await exited;
    } finally {
      clearTimeout(kill);
    }
  };
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    adminKey: merged.HUB_ADMIN_KEY ?? '',
    output: () => output,
    exited,
    ready,
    stop,
  };
}

/** A hub process on `databaseUrl` and a free port (unless `port` is given), with a known ADMIN key; resolves once it is ready. */
export async function startHubProcess(
  databaseUrl: string,
  env: Record<string, string | undefined> = {},
  options: Omit<SpawnHubOptions, 'env' | 'port'> & { port?: number; readyWithinMs?: number } = {},
): Promise<HubProcess> {
  const hub = spawnHub({
    ...options,
    port: options.port ?? (await freePort()),
    env: {
      DATABASE_URL: databaseUrl,
      HUB_ADMIN_KEY: 'hub-process-admin-key-0123456789',
      HUB_SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      hub.ready,
      new Promise<never>((_resolve, reject) => {
        const ms = options.readyWithinMs ?? 60_000;
        timer = setTimeout(
          () => reject(new Error(`the hub was not ready within ${ms} ms:\n${hub.output()}`)),
          ms,
        );
      }),
    ]);
    return hub;
  } catch (err) {
    // Whoever asked never gets a handle to stop it with.
    await hub.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends one GraphQL operation; answers its data, throws on errors. */
export async function graphql(base: string, key: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
