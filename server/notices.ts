import {
  startNoticeSender,
  type NoticeSender,
  type NoticeSenderSettings,
} from '../services/notices/sender.js';
import type { HubMetrics } from '../services/metrics.js';
import type { Sealer } from '../services/secret-box.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';

/** The customer notices as the hub sends them, from its configuration. */
export async function startHubNotices(deps: {
  config: HubConfig;
  databaseUrl: string;
  logger: Logger;
  sealer: Pick<Sealer, 'open' | 'seal'>;
  /** The hub's metrics (`hub.services.metrics`), where its pool is shown. */
  metrics: HubMetrics;
  /** Over the configuration's (tests: a clock of their own, short waits). */
  settings?: Partial<NoticeSenderSettings>;
}): Promise<NoticeSender> {
  const { notices } = deps.config;
  return startNoticeSender({
    databaseUrl: deps.databaseUrl,
    logger: deps.logger.child({ component: 'notices' }),
    sealer: deps.sealer,
    metrics: deps.metrics,
    settings: {
      concurrency: notices.concurrency,
      timeoutMs: notices.timeoutMs,
      pollIntervalMs: notices.pollIntervalMs,
      sweepIntervalMs: 30_000,
      throttleWaitMs: notices.throttleWaitMs,
      numberLimitWaitMs: notices.numberLimitWaitMs,
      retryBaseMs: notices.retryBaseMs,
      retryMaxMs: notices.retryMaxMs,
      maxAttempts: notices.maxAttempts,
      now: () => new Date(),
      ...deps.settings,
    },
  });
}
