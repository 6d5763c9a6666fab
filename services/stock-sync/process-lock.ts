import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The advisory lock class `hub_process_alive` (migration stock_sync) looks for. */
const PROCESS_LOCK_CLASS = 1752523;

/**
 * This process's name among the hub processes that push stock, held as an advisory lock on a connection of
 * its own: PostgreSQL drops the lock when the process dies, however it dies, so the others can tell a push
 * that died (its listing must be read back) from one still under way.
 */
export interface ProcessLock {
  readonly processId: string;
  release(): Promise<void>;
}

export async function holdProcessLock(databaseUrl: string): Promise<ProcessLock> {
  const processId = `hub-${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'order-hub-process-lock' });
  await client.connect();
  // A lost connection loses the lock: other processes then treat this one's pushes as dead, which is safe
  // (they read the platform back before writing), so an error here is only logged by the caller's pool.
  client.on('error', () => {});
  await client.query('select pg_advisory_lock($1, hashtext($2))', [PROCESS_LOCK_CLASS, processId]);
  return {
    processId,
    async release() {
      await client.end().catch(() => {});
    },
  };
}
