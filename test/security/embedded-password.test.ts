import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { canConnect, startEmbeddedPostgres } from '../../server/embedded-postgres.js';
import { freePort, graphql, spawnHub } from '../support/hub-process.js';

/**
 * The embedded PostgreSQL gets a random password at first start, kept in the data folder with
 * mode 0600 and never printed; a data folder made by an earlier version (the fixed password
 * "postgres", no password file) gets one at its next start, and keeps working.
 */

const OLD_PASSWORD = 'postgres';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'order-hub-password-'));
  // Running as root, PostgreSQL runs as the postgres user, who must enter the folder.
  await chmod(dir, 0o755);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function passwordFile(dataDir: string): Promise<{ password: string; mode: number }> {
  const path = join(dataDir, 'pg.password');
  return { password: (await readFile(path, 'utf8')).trim(), mode: (await stat(path)).mode & 0o777 };
}

function connects(port: number, password: string): Promise<boolean> {
  return canConnect(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`);
}

describe('the embedded PostgreSQL’s password', () => {
  it('is random, made at first start, kept with mode 0600, and never printed by the hub', async () => {
    const dataDir = await freshDataDir();
    const pgPort = await freePort();
    const hub = spawnHub({
      port: await freePort(),
      env: {
        DATABASE_URL: undefined,
        HUB_DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(pgPort),
        HUB_ADMIN_KEY: 'password-test-admin-key-0123456789',
        // The most the hub ever says: the ORM's and PostgreSQL's own lines included.
        LOG_LEVEL: 'trace',
      },
    });
    cleanups.push(() => hub.stop());
    await hub.ready;
    await graphql(hub.base, hub.adminKey, '{ channels { code } }');
    // A refused login is what a wrong password in a URL would show up in.
    await graphql(hub.base, 'not-a-key', '{ channels { code } }').catch(() => undefined);

    const { password, mode } = await passwordFile(dataDir);
    expect(mode).toBe(0o600);
    expect(password).not.toBe(OLD_PASSWORD);
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(await connects(pgPort, password)).toBe(true);
    expect(await connects(pgPort, OLD_PASSWORD)).toBe(false);

    expect(await hub.stop()).toBe(0);
    expect(hub.output()).not.toContain(password);
    expect(hub.output()).not.toContain(encodeURIComponent(password));
  });

  it('replaces the old fixed password of a data folder made before, which keeps its data', async () => {
    const dataDir = await freshDataDir();
    const port = await freePort();
    const logged: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => logged.push(line) });

    // A folder as an earlier version left it: the fixed password and no password file.
    const first = await startEmbeddedPostgres({ dataDir, port, logger });
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query(`create table kept (note text); insert into kept values ('made before')`);
    await client.query(`alter role postgres password '${OLD_PASSWORD}'`);
    await client.end();
    await first.stop();
    await rm(join(dataDir, 'pg.password'));

    const second = await startEmbeddedPostgres({ dataDir, port, logger });
    cleanups.push(() => second.stop());
    const { password, mode } = await passwordFile(dataDir);
    expect(mode).toBe(0o600);
    expect(password).not.toBe(OLD_PASSWORD);
    expect(second.url).toContain(encodeURIComponent(password));
    expect(await connects(port, OLD_PASSWORD)).toBe(false);
    const reader = new pg.Client({ connectionString: second.url });
    await reader.connect();
    expect((await reader.query('select note from kept')).rows).toEqual([{ note: 'made before' }]);
    await reader.end();
    expect(logged.join('\n')).not.toContain(password);

    // The next start reads the file and changes nothing.
    await second.stop();
    const third = await startEmbeddedPostgres({ dataDir, port, logger });
    cleanups.push(() => third.stop());
    expect((await passwordFile(dataDir)).password).toBe(password);
    expect(third.url).toBe(second.url);
  });
});
