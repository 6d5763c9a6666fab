import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Channel } from '../entities/index.js';
import { IngestSource, Platform } from '../common/enums.js';
import type { HubServices } from '../services/context.js';
import { HubError } from '../common/errors.js';
import { ChannelCache } from '../services/channel-cache.js';
import { IngestBatcher } from '../services/ingest-batcher.js';
import type { Logger } from './logger.js';
import { HUB_SIGNATURE, SHOPIFY_SIGNATURE, signatureValid } from './webhook-signature.js';

/** Bodies a platform may send; a larger one is refused with 413 before it is read. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * `POST /webhooks/:channelCode`: the hub's one door for pushed orders. The
 * signature is checked over the raw bytes, the body is logged before it is
 * processed, and 200 is sent only after the order is committed.
 */
export async function registerWebhooks(
  app: FastifyInstance,
  deps: { orm: MikroORM; logger: Logger; hub: HubServices },
) {
  const batcher = new IngestBatcher({ em: deps.orm.em, logger: deps.logger, hub: deps.hub });
  const channels = new ChannelCache(deps.orm.em);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_WEBHOOK_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<{ Params: { channelCode: string }; Body: string }>(
      '/webhooks/:channelCode',
      async (request, reply) => handle({ logger: deps.logger, batcher, channels }, request, reply),
    );
  });
}

async function handle(
  deps: { logger: Logger; batcher: IngestBatcher; channels: ChannelCache },
  request: FastifyRequest<{ Params: { channelCode: string }; Body: string }>,
  reply: FastifyReply,
) {
  const logger = deps.logger.child({ requestId: request.id });
  const rawBody = typeof request.body === 'string' ? request.body : '';
  try {
    const channel = await deps.channels.get(request.params.channelCode);
    if (!channel) return reply.code(404).send({ error: `Unknown channel "${request.params.channelCode}".` });
    if (!signedBy(channel, rawBody, request.headers)) {
      return reply.code(401).send({ error: 'Missing or wrong webhook signature.' });
    }
    const { orderId } = await deps.batcher.submit(channel, IngestSource.WEBHOOK, rawBody);
    return reply.code(200).send({ orderId });
  } catch (err) {
    if (err instanceof HubError && err.httpStatus < 500) {
      return reply.code(err.httpStatus).send({ error: err.message });
    }
    // The platform retries on 5xx: a database outage or any other failure of ours loses nothing.
    logger.error({ err, channelCode: request.params.channelCode }, 'webhook delivery failed');
    return reply
      .code(503)
      .header('retry-after', '5')
      .send({ error: 'Temporarily unavailable; retry later.' });
  }
}

function signedBy(channel: Channel, rawBody: string, headers: FastifyRequest['headers']): boolean {
  if (!channel.webhookSecret) return false;
  const scheme = channel.platform === Platform.SHOPIFY ? SHOPIFY_SIGNATURE : HUB_SIGNATURE;
  return signatureValid(scheme, channel.webhookSecret, rawBody, headers);
}
