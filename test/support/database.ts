import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { scratchDatabase } from './scratch-database.js';

/** A fresh database of its own for one test file, so files run in parallel without sharing rows. */
export function createTestDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  // Sanitised to [a-z0-9_] and at most 54 characters, within PostgreSQL's 63, so it needs no quoting.
  return scratchDatabase(inject('databaseUrl'), `test_${slug}_${randomBytes(4).toString('hex')}`);
}
