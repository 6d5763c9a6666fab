// Starts the hub: configuration, database (embedded unless DATABASE_URL), migrations, HTTP and websocket.
import 'reflect-metadata';
import { ensureFirstAdminKey } from '../services/api-keys.js';
import { createHub, GRAPHQL_PATH } from './app.js';
import { ConfigError, loadConfig, type HubConfig } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { createLogger } from './logger.js';
import { migrate, openOrm } from './orm.js';
import { startHubScheduler } from './scheduler.js';
import { secretBoxFor } from './secret-key.js';
import { startHubStockSync } from './stock-sync.js';
import { startHubWebhooks } from './outbound.js';
import { startHubNotices } from './notices.js';

function configOrExit(): HubConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
const config = configOrExit();
const logger = createLogger(config.logLevel);

let embedded: EmbeddedDatabase | undefined;
let stopping = false;

async function start() {
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPostgresPort,
      logger,
    });
    logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
  }
  const orm = await openOrm(config.databaseUrl ?? embedded!.url, logger);
  const applied = await migrate(orm);
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

  // With HUB_ADMIN_KEY set there is an ADMIN key already: none is made, so none lies in the logs.
  const firstAdminKey = config.adminKey ? null : await ensureFirstAdminKey(orm.em.fork());
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const secretBox = await secretBoxFor(config, logger);
  if (!secretBox) {
    logger.warn(
      'HUB_SECRET_KEY is not set: platform credentials cannot be stored, so no stock is pushed to the platforms',
    );
  }
  const hub = await createHub({ config, logger, orm, secretBox });
  try {
    await hub.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(
        `Port ${config.port} is already in use. Stop what runs there or set PORT to another port.`,
      );
    }
    throw err;
  }

  const scheduler = startHubScheduler({ config, logger, orm, hub: hub.services });
  // Without a key no credentials can be opened: the pushes would only fail.
  const stockSync = secretBox
    ? await startHubStockSync({
        config,
        databaseUrl,
        logger,
        sealer: secretBox,
        metrics: hub.services.metrics,
      })
    : null;
  // Endpoint secrets are sealed with the same key: without it there are no endpoints to send to.
  const webhooks =
    secretBox && config.outboundWebhooks.concurrency > 0
      ? await startHubWebhooks({ config, databaseUrl, orm, hub: hub.services, logger, sealer: secretBox })
      : null;
  // Provider secrets are sealed with the same key too.
  const notices =
    secretBox && config.notices.concurrency > 0
      ? await startHubNotices({
          config,
          databaseUrl,
          logger,
          sealer: secretBox,
          metrics: hub.services.metrics,
        })
      : null;

  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${config.port}${GRAPHQL_PATH}`;
  if (firstAdminKey) {
    console.log(
      `\nFirst start: an ADMIN API key was made. It is shown only this once (only its hash is stored):\n\n  ${firstAdminKey}\n\nSend it as "Authorization: Bearer <key>".`,
    );
  }
  // The last line of the start: whoever waits for it (a script, a test) has everything printed before it.
  console.log(`\nOrder hub ready at ${url}`);

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; stopping anyway');
      process.exit(1);
    }, config.shutdownGraceSeconds * 1000);
    deadline.unref();
    // The scheduler first: it uses the hub's platform clients, which the hub closes.
    await scheduler.stop();
    logger.debug('scheduler stopped');
    // Pushes under way finish and are recorded; the jobs not started stay in the queue for the next start.
    await stockSync?.stop();
    logger.debug('stock sync stopped');
    // Attempts under way finish and are recorded; the rest wait in the queue for the next start.
    await webhooks?.stop();
    logger.debug('webhooks stopped');
    // Sends under way finish and are recorded; the rest wait in the queue.
    await notices?.stop();
    logger.debug('notices stopped');
    await hub.close();
    logger.debug('http and websockets closed');
    await orm.close();
    logger.debug('database pool closed');
    await embedded?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

start().catch(async (err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else logger.fatal({ err }, 'the hub could not start');
  await embedded?.stop().catch(() => undefined);
  process.exit(1);
});
