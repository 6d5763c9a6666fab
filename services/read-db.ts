import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from './context.js';

/**
 * A read replica's connection for statements that may see the database a moment behind (server/read-replicas.ts:
 * a replica that answers, else the primary).
 */
export interface ReadDatabase {
  execute<T extends object>(sql: string, params: unknown[]): Promise<T[]>;
}

/**
 * Runs one read-only statement where the hub's analytical reads go (reports): a read replica when the hub has
 * one (DATABASE_READ_URL), whoever asks; else the request's own connection for reads, the primary. A replica
 * that cannot be reached is a warning and the statement runs on the primary; an error in the statement is an
 * error. `sql` uses MikroORM's `?` placeholders.
 */
export async function readQuery<T extends object>(
  ctx: RequestContext,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (ctx.hub.reads) return ctx.hub.reads.execute<T>(sql, params);
  return ctx.em.getConnection('read').execute<T[]>(sql, params, 'all');
}

/**
 * A raw read on `em`'s connection for reads: a replica for an ANALYST key's query (server/app.ts), the primary
 * for every other request. `em.execute` would always take the primary; inside a transaction this does too.
 */
export async function readRows<T extends object>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (em.getTransactionContext()) return em.execute<T[]>(sql, params, 'all');
  return em.getConnection('read').execute<T[]>(sql, params, 'all');
}
