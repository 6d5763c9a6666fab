import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Role, ShipmentStatus } from '../common/enums.js';
import { RequestContext, type HubServices } from '../services/context.js';
import { HubError } from '../common/errors.js';
import { recordShipmentEvent } from '../services/shipping.js';
import type { HubConfig } from './config.js';
import type { Logger } from './logger.js';
import { decodeBody } from './webhook-body.js';
import { HUB_SIGNATURE, signatureValid } from './webhook-signature.js';

/** A tracking event is a few hundred bytes; anything much larger is refused with 413 before it is read. */
const MAX_CARRIER_WEBHOOK_BYTES = 64 * 1024;

const trackingEvent = z.object({
  trackingNumber: z
    .string({ error: 'must be a non-empty string' })
    .trim()
    .min(1, 'must be a non-empty string')
    .max(128, 'must be at most 128 characters'),
  status: z.enum(ShipmentStatus, {
    error: `must be one of ${Object.values(ShipmentStatus).join(', ')}`,
  }),
  description: z
    .string({ error: 'must be a string or null' })
    .max(1000, 'must be at most 1000 characters')
    .nullish(),
  occurredAt: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2026-11-11T20:00:00+08:00' })
    .nullish(),
});

type Deps = {
  orm: MikroORM;
  logger: Logger;
  hub: HubServices;
  config: Pick<HubConfig, 'carrierWebhookSecrets'>;
};

/**
 * `POST /webhooks/carriers/:carrier`: carriers push tracking events here, signed like
 * channel webhooks (`X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`) with the
 * carrier's secret from CARRIER_WEBHOOK_SECRETS. 200 is sent only after the event is
 * committed, also for an event delivered again (it is applied once).
 */
export async function registerCarrierWebhooks(app: FastifyInstance, deps: Deps) {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_CARRIER_WEBHOOK_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post<{ Params: { carrier: string }; Body: Buffer }>(
      '/webhooks/carriers/:carrier',
      (request, reply) => handle(deps, request, reply),
    );
  });
}

async function handle(
  deps: Deps,
  request: FastifyRequest<{ Params: { carrier: string }; Body: Buffer }>,
  reply: FastifyReply,
) {
  const carrier = request.params.carrier.toLowerCase();
  const logger = deps.logger.child({ requestId: request.id, carrier });
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const secret = deps.config.carrierWebhookSecrets.get(carrier);
  // An unknown carrier is answered like a bad signature: the door does not say which carriers exist.
  if (!secret || !signatureValid(HUB_SIGNATURE, secret, rawBody, request.headers)) {
    return reply.code(401).send({ error: 'Missing or wrong webhook signature.' });
  }
  let text: string;
  try {
    text = decodeBody(rawBody, request.headers['content-type']);
  } catch (err) {
    return reply.code(400).send({ error: (err as Error).message });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return reply.code(400).send({ error: 'The body is not valid JSON.' });
  }
  const parsed = trackingEvent.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'body';
    const message = issue.path.length ? issue.message : 'must be a JSON object';
    return reply.code(400).send({ error: `Field "${field}" ${message}.`, field });
  }
  const event = parsed.data;
  const ctx = new RequestContext({
    em: deps.orm.em.fork(),
    principal: {
      keyId: `carrier:${carrier}`,
      role: Role.OPS,
      channelCode: null,
      label: `carrier ${carrier}`,
    },
    requestId: String(request.id),
    logger,
    hub: deps.hub,
  });
  try {
    const shipment = await recordShipmentEvent(
      ctx,
      event.trackingNumber,
      event.status,
      event.description,
      event.occurredAt ? new Date(event.occurredAt) : null,
      { carrier },
    );
    return reply.code(200).send({ shipmentId: shipment.id });
  } catch (err) {
    if (err instanceof HubError && err.httpStatus < 500) {
      const field = (err.extensions as { field?: unknown }).field;
      return reply.code(err.httpStatus).send({ error: err.message, ...(field ? { field } : {}) });
    }
    // The carrier retries on 5xx: a database outage loses nothing.
    logger.error({ err }, 'carrier webhook delivery failed');
    return reply
      .code(503)
      .header('retry-after', '5')
      .send({ error: 'Temporarily unavailable; retry later.' });
  }
}
