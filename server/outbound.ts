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
  return startWebhookDeliverer({
    databaseUrl: deps.databaseUrl,
    logger,
    sealer: deps.sealer,
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
          em: deps.orm.em.fork(),
          principal,
          requestId: 'webhooks',
          logger,
          hub: deps.hub,
        }),
    }),
  });
}
