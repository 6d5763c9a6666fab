import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Channel } from '../entities/index.js';
import { IngestSource, Platform } from '../common/enums.js';
import type { HubServices } from '../services/context.js';
import { BadUserInputError, HubError, IngestBusyError } from '../common/errors.js';
import { ChannelCache } from '../services/channel-cache.js';
import { IngestBatcher } from '../services/ingest-batcher.js';
import { RequestContext } from '../services/context.js';
import { deliveredBefore } from '../services/ingest-log.js';
import { ingestRefundRaw, isRefundBody } from '../services/returns.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';
import { decodeBody } from './webhook-body.js';
import { HUB_SIGNATURE, SHOPIFY_SIGNATURE, signatureValid } from './webhook-signature.js';

/** Bodies a platform may send; a larger one is refused with 413 before it is read. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * The header in which a platform names each delivery, the same on its retries. The other
 * platforms' pushes (see test/fixtures/channels) carry no such id: the same bytes again are
 * recognised by the ingest log instead.
 */
const DELIVERY_ID_HEADER: Partial<Record<Platform, string>> = {
  [Platform.SHOPIFY]: 'x-shopify-webhook-id',
};
const MAX_DELIVERY_ID = 255;

type Deps = {
  orm: MikroORM;
  logger: Logger;
  hub: HubServices;
  config: Pick<HubConfig, 'webhookMaxPending' | 'webhookMaxPendingBytes'>;
};

/**
 * `POST /webhooks/:channelCode`: the hub's one door for pushed orders and after-sale records. The
 * signature is checked over the raw bytes, the body is logged before it is
 * processed, and 200 is sent only after the order is committed. A delivery
 * seen before is answered with its order and no work.
 */
export async function registerWebhooks(app: FastifyInstance, deps: Deps) {
  const batcher = new IngestBatcher({
    em: deps.orm.em,
    logger: deps.logger,
    hub: deps.hub,
    maxPending: deps.config.webhookMaxPending,
    maxPendingBytes: deps.config.webhookMaxPendingBytes,
  });
  const channels = new ChannelCache(deps.orm.em);
  // The channel a request was for, once known to exist: a code from the URL alone would make a label per guess.
  const channelOf = new WeakMap<FastifyRequest, string>();
  await app.register(async (scope) => {
    // Every answer, those of the body parser (413, 415) included, timed from the request's arrival.
    scope.addHook('onResponse', async (request, reply) => {
      deps.hub.metrics.webhookAnswered(
        channelOf.get(request) ?? 'unknown',
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_WEBHOOK_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<{ Params: { channelCode: string }; Body: Buffer }>(
      '/webhooks/:channelCode',
      async (request, reply) =>
        handle(
          { orm: deps.orm, logger: deps.logger, batcher, channels, hub: deps.hub, channelOf },
          request,
          reply,
        ),
    );
  });
}

async function handle(
  deps: {
    orm: MikroORM;
    logger: Logger;
    batcher: IngestBatcher;
    channels: ChannelCache;
    hub: HubServices;
    channelOf: WeakMap<FastifyRequest, string>;
  },
  request: FastifyRequest<{ Params: { channelCode: string }; Body: Buffer }>,
  reply: FastifyReply,
) {
  const logger = deps.logger.child({ requestId: request.id });
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  try {
    const channel = await deps.channels.get(request.params.channelCode);
    if (!channel) return reply.code(404).send({ error: `Unknown channel "${request.params.channelCode}".` });
    deps.channelOf.set(request, channel.code);
    if (!signedBy(channel, rawBody, request.headers)) {
      return reply.code(401).send({ error: 'Missing or wrong webhook signature.' });
    }
    const deliveryId = deliveryIdOf(channel, request.headers);
    if (deliveryId) {
      const orderId = await deliveredBefore(deps.orm.em.fork(), channel.id, deliveryId);
      if (orderId) {
        // Answered at the door, the gateway never sees it: counted as the gateway counts its duplicates.
        deps.hub.metrics.ingested(channel.code, IngestSource.WEBHOOK, 'duplicate');
        return reply.code(200).send({ orderId });
      }
    }
    const body = decodeBody(rawBody, request.headers['content-type']);
    if (isRefundBody(channel, body, request.headers)) {
      // After-sale records are few beside orders: each in its own transaction, beside the batches but held
      // under the door's limits with them.
      const ctx = RequestContext.system(deps.orm.em.fork(), logger, deps.hub, 'webhook-refund');
      const { returnId } = await deps.batcher.alongside(body, () =>
        ingestRefundRaw(ctx, channel, IngestSource.WEBHOOK, body),
      );
      return reply.code(200).send({ returnId });
    }
    const { orderId } = await deps.batcher.submit(channel, IngestSource.WEBHOOK, body, deliveryId);
    return reply.code(200).send({ orderId });
  } catch (err) {
    if (err instanceof IngestBusyError) {
      return reply
        .code(503)
        .header('retry-after', String(err.retryAfterSeconds))
        .send({ error: err.message });
    }
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

function signedBy(channel: Channel, rawBody: Buffer, headers: FastifyRequest['headers']): boolean {
  if (!channel.webhookSecret) return false;
  const scheme = channel.platform === Platform.SHOPIFY ? SHOPIFY_SIGNATURE : HUB_SIGNATURE;
  return signatureValid(scheme, channel.webhookSecret, rawBody, headers);
}

/** The platform's id of this delivery, when it sends one. */
function deliveryIdOf(channel: Channel, headers: FastifyRequest['headers']): string | null {
  const name = DELIVERY_ID_HEADER[channel.platform];
  const value = name ? headers[name] : undefined;
  if (typeof value !== 'string' || !value) return null;
  if (value.length > MAX_DELIVERY_ID)
    throw new BadUserInputError(`${name} must be at most ${MAX_DELIVERY_ID} characters.`, name);
  return value;
}
