import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from './context.js';

/** PostgreSQL aborts one side of a deadlock or a serialisation conflict: SQLSTATE 40P01 and 40001. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/**
 * Runs `work` in one transaction, and again from the start when PostgreSQL aborted it
 * for a deadlock or a serialisation conflict (a status move against the hold sweeper,
 * two webhook batches touching the same products): nothing of the aborted attempt was
 * kept, so running it again is safe.
 */
export async function inTransaction<T>(
  ctx: RequestContext,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.em.transactional(work);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw err;
      ctx.logger.debug({ attempt, code }, 'transaction conflicted; running it again');
    }
  }
}
