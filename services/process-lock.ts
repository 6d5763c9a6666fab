import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The advisory lock class `hub_process_alive` (migration stock_sync) looks for. */
const PROCESS_LOCK_CLASS = 1752523;

/**
 * This process's name among the hub processes that push stock or send webhooks, held as an advisory lock on a
 * connection of its own: PostgreSQL drops the lock when the process dies, however it dies, so the others can
 * tell work that died with its process (a push to read back, a delivery to send again) from work under way.
 */
export interface ProcessLock {
  readonly processId: string;
  /** Called once if the connection, and with it the lock, is lost while held: others may now take over. */
  onLost(callback: (err: unknown) => void): void;
  release(): Promise<void>;
}

export async function holdProcessLock(databaseUrl: string): Promise<ProcessLock> {
  const processId = `hub-${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'order-hub-process-lock',
    // A host that vanishes without closing its socket must not keep its lock for the kernel's two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  let released = false;
  let lost: ((err: unknown) => void) | null = null;
  const lose = (err: unknown) => {
    if (released) return;
    released = true;
    lost?.(err);
  };
  client.on('error', lose);
  client.on('end', () => lose(new Error('the process lock connection ended')));
  await client.connect();
  await client.query('select pg_advisory_lock($1, hashtext($2))', [PROCESS_LOCK_CLASS, processId]);
  return {
    processId,
    onLost(callback) {
      lost = callback;
    },
    async release() {
      released = true;
      await client.end().catch(() => {});
    },
  };
}
