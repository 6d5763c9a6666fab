// `npm run migrate`: applies pending migrations to the configured database, then exits.
import 'reflect-metadata';
import { loadConfig } from './config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createLogger } from './logger.js';
import { migrate, openOrm } from './orm.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const embedded = config.databaseUrl
  ? undefined
  : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
const orm = await openOrm(config.databaseUrl ?? embedded!.url, logger);
try {
  const applied = await migrate(orm);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
} finally {
  await orm.close();
  await embedded?.stop();
}
