// Writes a new migration for the difference between the entities and the committed
// migrations: applies them to a scratch database, diffs, and registers the new file.
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { openOrm, migrate } from './orm.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const embedded = config.databaseUrl
  ? undefined
  : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
const serverUrl = new URL(config.databaseUrl ?? embedded!.url);
const scratch = `migration_scratch_${process.pid}`;
const admin = new pg.Client({ connectionString: serverUrl.toString() });
await admin.connect();
await admin.query(`create database ${scratch}`);
try {
  const scratchUrl = new URL(serverUrl);
  scratchUrl.pathname = `/${scratch}`;
  const orm = await openOrm(scratchUrl.toString(), logger);
  try {
    await migrate(orm);
    const result = await orm.getMigrator().createMigration('migrations', false, false, process.argv[2]);
    if (!result.fileName) {
      console.log('No changes: the entities match the migrations.');
    } else {
      const name = result.fileName.replace(/\.ts$/, '');
      const indexPath = 'migrations/index.ts';
      const index = readFileSync(indexPath, 'utf8');
      const className = /export class (\w+)/.exec(result.code)![1];
      const withImport = `import { ${className} } from './${name}.js';\n${index}`;
      const list = withImport.replace(
        /export const migrationsList = \[([\s\S]*?)\];/,
        (_m, items: string) => {
          const entries = items
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          entries.push(`{ name: '${name}', class: ${className} }`);
          return `export const migrationsList = [\n  ${entries.join(',\n  ')},\n];`;
        },
      );
      writeFileSync(indexPath, list);
      console.log(`Created migrations/${result.fileName}`);
    }
  } finally {
    await orm.close();
  }
} finally {
  await admin.query(`drop database ${scratch} with (force)`);
  await admin.end();
  await embedded?.stop();
}
