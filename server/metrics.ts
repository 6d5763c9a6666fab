import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthenticatedError } from '../common/errors.js';
import type { HubMetrics } from '../services/metrics.js';

export const METRICS_PATH = '/metrics';

/** The secret's digest: equal lengths whatever was sent, so the comparison takes the same time for any guess. */
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * `GET /metrics`: this process's metrics in Prometheus' text format. With METRICS_TOKEN set, only a scraper
 * that sends it as a bearer token is answered; the rest get 401 (the figures name channels and volumes).
 */
export function registerMetrics(
  app: FastifyInstance,
  deps: { metrics: HubMetrics; token: string | undefined },
): void {
  const expected = deps.token === undefined ? null : digest(deps.token);
  app.get(METRICS_PATH, async (request, reply) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization?.trim() ?? '');
      if (!match || !timingSafeEqual(digest(match[1]), expected)) {
        const error = new UnauthenticatedError(
          'The metrics need the scrape token: send "Authorization: Bearer <METRICS_TOKEN>".',
        );
        return reply
          .code(error.httpStatus)
          .header('www-authenticate', 'Bearer')
          .send({ error: error.message, code: error.code });
      }
    }
    const body = await deps.metrics.exposition();
    return reply.header('content-type', deps.metrics.contentType).send(body);
  });
}
