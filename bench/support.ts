/**
 * What only the benchmarks need. The scratch database, the hub as a process, freePort and graphql
 * are shared with the tests: test/support/scratch-database.ts and test/support/hub-process.ts.
 */

/** The PostgreSQL server the benchmarks make their scratch databases on. */
export const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
