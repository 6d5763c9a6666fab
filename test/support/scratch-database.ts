import pg from 'pg';

// Shared by the tests and the benchmarks: nothing here imports vitest.

/**
 * A new, empty database `name` on the server at `serverUrl` (one left by an earlier run is dropped
 * first). `name` must be a plain identifier ([a-z0-9_], at most 63 characters): it is not quoted.
 */
export async function scratchDatabase(
  serverUrl: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const drop = () => onServer(serverUrl, `drop database if exists ${name} with (force)`);
  await drop();
  await onServer(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

async function onServer(serverUrl: string, sql: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
