import { Platform } from '../common/enums.js';
import { PlatformClients } from '../services/platform-client.js';
import type { Sealer } from '../services/secret-box.js';
import type { HubMetrics } from '../services/metrics.js';
import type { StockClient } from '../services/stock-sync/platform-api.js';
import { defaultBaseUrl, stockClientFor } from '../services/stock-sync/platforms/index.js';
import {
  DEFAULT_STOCK_SYNC_SETTINGS,
  startStockSync,
  type StockSync,
  type StockSyncSettings,
} from '../services/stock-sync/worker.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';

/**
 * The stock sync as the hub runs it, from its configuration: one HTTP client for the platforms' stock APIs
 * (its own deadline and retries, one breaker per channel) and one stock client per platform, shared by
 * every channel of that platform.
 */
export function startHubStockSync(deps: {
  config: HubConfig;
  databaseUrl: string;
  logger: Logger;
  sealer: Pick<Sealer, 'open'>;
  /** The hub's metrics (`hub.services.metrics`), where the pushes are counted. */
  metrics: HubMetrics;
  /** Over the configuration's (tests: a short sweep, a short retry). */
  settings?: Partial<StockSyncSettings>;
}): Promise<StockSync> {
  const { stockSync } = deps.config;
  const http = new PlatformClients({
    timeoutMs: stockSync.timeoutMs,
    retries: stockSync.retries,
    breaker: { resetTimeoutMs: stockSync.breakerResetMs },
  });
  const clients = new Map<Platform, StockClient | null>();
  return startStockSync({
    databaseUrl: deps.databaseUrl,
    logger: deps.logger.child({ component: 'stock-sync' }),
    settings: {
      ...DEFAULT_STOCK_SYNC_SETTINGS,
      concurrency: stockSync.concurrency,
      pollIntervalMs: stockSync.pollIntervalMs,
      sweepIntervalMs: stockSync.sweepSeconds * 1000,
      retryBaseMs: stockSync.retryBaseMs,
      retryMaxMs: stockSync.retryMaxMs,
      pushLogRetentionDays: stockSync.pushLogRetentionDays,
      // A request given up on after its deadline may still be worked on by the platform for a while; twice the
      // deadline is the hub's guess at how long, as no platform documents it.
      settleMs: 2 * stockSync.timeoutMs,
      // The longest a push may take: a read and a change (Kuaishou), each with its retries, and a margin.
      leaseMs: 2 * (stockSync.retries + 1) * stockSync.timeoutMs + 10_000,
      ...deps.settings,
    },
    clientFor(platform) {
      if (!clients.has(platform)) {
        clients.set(platform, stockClientFor(platform, { http, throttleWaitMs: stockSync.throttleWaitMs }));
      }
      return clients.get(platform)!;
    },
    defaultBaseUrl,
    sealer: deps.sealer,
    metrics: deps.metrics,
  }).then((sync) => ({
    ...sync,
    async stop() {
      await sync.stop();
      http.close();
    },
  }));
}
