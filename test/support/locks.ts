import pg from 'pg';

/**
 * Makes statements slow honestly: a connection of its own holds a table lock, as a long migration
 * or report would, so whatever reads the table waits for it.
 */
export async function tableLocker(databaseUrl: string) {
  const holder = new pg.Client({ connectionString: databaseUrl });
  // pg_stat_activity is read once per transaction: the holder's view would stay as it was at `lock`.
  const watcher = new pg.Client({ connectionString: databaseUrl });
  await Promise.all([holder.connect(), watcher.connect()]);
  let held = false;
  return {
    async lock(table: string) {
      await holder.query('begin');
      held = true;
      await holder.query(`lock table "${table}" in access exclusive mode`);
    },
    async release() {
      if (!held) return;
      held = false;
      await holder.query('rollback');
    },
    /** Statements of this database waiting on a lock now; of one application (pool) when named. */
    async waiting(applicationName?: string): Promise<number> {
      const { rows } = await watcher.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and ($1::text is null or application_name = $1)`,
        [applicationName ?? null],
      );
      return rows[0].n;
    },
    async end() {
      await Promise.all([holder.end(), watcher.end()]);
    },
  };
}
