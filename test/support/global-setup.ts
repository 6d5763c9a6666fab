import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../server/embedded-postgres.js';
import { createLogger } from '../../server/logger.js';
import { freePort } from './hub-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A maintenance database URL on the server every test file makes its own database on. */
    databaseUrl: string;
  }
}

/** Uses DATABASE_URL when set; otherwise one embedded PostgreSQL for the whole run, in a folder of its own. */
export default async function setup(project: TestProject) {
  // Tests that run the hub or its tools as a process (as `npm start` does) need them compiled, once
  // for the run, by the same incremental build as `npm start`: nothing to do when nothing changed.
  const root = new URL('../..', import.meta.url).pathname;
  await promisify(execFile)(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '--build',
    join(root, 'tsconfig.build.json'),
  ]).catch((err: { stdout?: string }) => {
    // Type errors: the output is still written; `npm run typecheck` is where they fail the run.
    if (!/error TS\d+/.test(err.stdout ?? '')) throw err;
  });

  if (process.env.DATABASE_URL) {
    project.provide('databaseUrl', process.env.DATABASE_URL);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'order-hub-test-'));
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'warn'),
    databaseName: 'postgres',
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  project.provide('databaseUrl', embedded.url);
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
