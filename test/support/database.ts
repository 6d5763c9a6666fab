import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A fresh database of its own for one test file, so files run in parallel without sharing rows. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = new URL(inject('databaseUrl'));
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  // Sanitised to [a-z0-9_] and at most 54 characters, within PostgreSQL's 63, so it needs no quoting.
  const name = `test_${slug}_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

async function onServer(serverUrl: URL, sql: string) {
  const client = new pg.Client({ connectionString: serverUrl.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
