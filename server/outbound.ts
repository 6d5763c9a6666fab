import type { MikroORM } from '@mikro-orm/postgresql';
import { RequestContext, type HubServices } from '../services/context.js';
import {
  startWebhookDeliverer,
  type DelivererSettings,
  type WebhookDeliverer,
} from '../services/outbound/deliverer.js';
import { graphqlPayloads } from '../services/outbound/payloads.js';
import type { Sealer } from '../services/secret-box.js';
import type { HubConfig } from './config.js';
import { hubSchema } from './graphql-schema.js';
import { openRequestOrm } from './orm.js';
import type { Logger } from './logger.js';

/** The outbound webhooks as the hub runs them, from its configuration; bodies rendered through its schema. */
export async function startHubWebhooks(deps: {
  config: HubConfig;
  databaseUrl: string;
  orm: MikroORM;
  hub: HubServices;
  logger: Logger;
  sealer: Pick<Sealer, 'open'>;
  /** Over the configuration's (tests: a short sweep). */
  settings?: Partial<DelivererSettings>;
}): Promise<WebhookDeliverer> {
  const { outboundWebhooks } = deps.config;
  const logger = deps.logger.child({ component: 'webhooks' });
  const schema = await hubSchema();
  // Rendering reads orders on a small pool of its own: a backlog of webhooks never takes the connections
  // that orders come in on.
  const renderOrm = await openRequestOrm(deps.orm, logger, {
    name: 'webhooks-render',
    statementTimeoutMs: 30_000,
    size: 4,
  });
  const deliverer = await startWebhookDeliverer({
    databaseUrl: deps.databaseUrl,
    logger,
    sealer: deps.sealer,
    metrics: deps.hub.metrics,
    settings: {
      concurrency: outboundWebhooks.concurrency,
      perEndpoint: outboundWebhooks.perEndpoint,
      timeoutMs: outboundWebhooks.timeoutMs,
      retryScheduleMs: outboundWebhooks.retryScheduleMs,
      disableAfterMs: outboundWebhooks.disableAfterMs,
      allowPrivate: outboundWebhooks.allowPrivate,
      pollIntervalMs: outboundWebhooks.pollIntervalMs,
      sweepIntervalMs: 30_000,
      ...deps.settings,
    },
    render: graphqlPayloads({
      schema,
      context: (principal) =>
        new RequestContext({
          em: renderOrm.em.fork(),
          principal,
          requestId: 'webhooks',
          logger,
          hub: deps.hub,
        }),
    }),
  }).catch(async (err: unknown) => {
    await renderOrm.close();
    throw err;
  });
  return {
    ...deliverer,
    async stop() {
      await deliverer.stop();
      await renderOrm.close();
    },
  };
}
