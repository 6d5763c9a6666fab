/**
 * What may be said of an error PostgreSQL raised: its SQL state and the names of what it concerns.
 * The driver's message and detail are not: MikroORM inlines the statement's values into the SQL it
 * sends, the driver puts that SQL in the message, and PostgreSQL's detail quotes the failing row
 * ("Failing row contains (...)", "Key (x)=(...)") — customers' names, phones and addresses.
 */
export interface DatabaseErrorSummary {
  /** The SQL state, e.g. 23505 for a unique violation. */
  code: string;
  table?: string;
  constraint?: string;
  column?: string;
}

const SQL_STATE = /^[0-9A-Z]{5}$/;

/** The summary of an error PostgreSQL raised (pg's DatabaseError, or MikroORM's DriverException made from one); null for anything else. */
export function databaseErrorOf(error: unknown): DatabaseErrorSummary | null {
  if (!(error instanceof Error)) return null;
  const e = error as Error & Record<string, unknown>;
  // Both carry the server's fields; `severity` is set on every error PostgreSQL sends.
  if (typeof e.code !== 'string' || !SQL_STATE.test(e.code) || typeof e.severity !== 'string') return null;
  const name = (key: string) => (typeof e[key] === 'string' ? { [key]: e[key] as string } : {});
  return { code: e.code, ...name('table'), ...name('constraint'), ...name('column') };
}

/** One line for logs and the ingest log: the code and names, no values. */
export function describeDatabaseError(summary: DatabaseErrorSummary): string {
  const on = [
    summary.table && `table "${summary.table}"`,
    summary.column && `column "${summary.column}"`,
    summary.constraint && `constraint "${summary.constraint}"`,
  ].filter(Boolean);
  return `the database refused the statement (SQL state ${summary.code}${on.length ? `, ${on.join(', ')}` : ''})`;
}
