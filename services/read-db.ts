import type { RequestContext } from './context.js';

/**
 * Runs one read-only statement where the hub's analytical reads go (reports): the connection MikroORM
 * gives for reads.
 */
export async function readQuery<T extends object>(
  ctx: RequestContext,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return ctx.em.getConnection('read').execute<T[]>(sql, params, 'all');
}
