import 'reflect-metadata';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import { RequestContext } from '../services/context.js';
import { hubServices } from './app.js';
import { ConfigError, loadConfig, type HubConfig } from './config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createLogger, type Logger } from './logger.js';
import { migrate, openOrm } from './orm.js';

/**
 * Runs a command-line tool against the hub's database: the configured one, or the
 * embedded one (shared with a hub already running on the same data folder).
 */
export async function runCli(
  task: (tools: { ctx: RequestContext; orm: MikroORM; config: HubConfig; logger: Logger }) => Promise<number>,
): Promise<never> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPostgresPort,
        logger,
        shareRunning: true,
      });
  const orm = await openOrm(config.databaseUrl ?? embedded!.url, logger);
  // The tool's own services: it serves no websockets, so no streams.
  const hub = hubServices(config, orm);
  let code = 1;
  try {
    await migrate(orm);
    const ctx = RequestContext.system(orm.em.fork(), logger, hub, 'cli');
    code = await task({ ctx, orm, config, logger });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
  } finally {
    hub.platformClients.close();
    hub.liveTracking.close();
    await orm.close();
    await embedded?.stop();
  }
  process.exit(code);
}

/** A wrong command line: its message goes above the usage (an empty one, as for --help, prints just the usage). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Whether the module at `moduleUrl` is the program node was started with, not one a test imported. */
export function isMain(moduleUrl: string): boolean {
  try {
    return !!process.argv[1] && moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

/** The parsed command line; otherwise the usage is printed and the process ends (0 for --help, 2 for a mistake). */
export function argsOrExit<T>(parse: (argv: string[]) => T, usage: string): T {
  try {
    return parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(err.message);
    console.error(usage);
    process.exit(err.message ? 2 : 0);
  }
}
