import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { RateLimitedError } from '../common/errors.js';
import type { Principal } from '../services/context.js';
import { effectiveLimits, type KeyLimits, type RateLimitSettings } from '../services/key-limits.js';
import type { Sql } from '../subscriptions/order-events.js';
import type { Logger } from './logger.js';

/** Who sent a request: the key behind its bearer secret, or why a secret that was sent was refused. */
export interface Caller {
  principal: Principal | null;
  authFailure: string | null;
}

export interface HttpLimits {
  /** Adds the limits to the GraphQL route's scope (webhooks and health routes are outside it). */
  register(scope: FastifyInstance): Promise<void>;
  /** The caller found when the request came in; throws what finding it threw (the database away). */
  callerOf(request: FastifyRequest): Caller;
  close(): Promise<void>;
}

/**
 * Per-key limits on GraphQL over HTTP. The bearer secret is authenticated once per request, first
 * (onRequest); then @fastify/rate-limit counts the key's requests per window (by key id, or by
 * IP address without a valid key), in Redis when `redisUrl` is set so every hub process shares
 * the count, in this process's memory otherwise. Requests in flight are counted per process.
 */
export async function httpLimits(deps: {
  settings: RateLimitSettings;
  redisUrl: string | undefined;
  /** Names this hub's counters in a Redis other hubs (on other databases) may share. */
  sql: Sql;
  logger: Logger;
  identify(authorization: string | undefined): Promise<Caller>;
}): Promise<HttpLimits> {
  const { settings, logger } = deps;
  const redis = deps.redisUrl ? await connectRedis(deps.redisUrl, logger) : null;
  const [{ name }] = await deps.sql<{ name: string }>('select current_database() as name');
  type Identified = Caller & { limits: KeyLimits | null };
  const callers = new WeakMap<FastifyRequest, Identified>();
  const inFlight = new Map<string, number>();
  const windowMs = settings.windowSeconds * 1000;

  const identified = (request: FastifyRequest) => {
    const caller = callers.get(request);
    if (!caller) throw new Error('the request was not identified (httpLimits not registered on its route)');
    return caller;
  };
  const perSecond = (request: FastifyRequest) => {
    const { limits } = identified(request);
    return limits ? limits.requestsPerSecond : settings.anonymousPerSecond;
  };
  const counterOf = (request: FastifyRequest) => {
    const { principal } = identified(request);
    return principal ? `key:${principal.keyId}` : `ip:${request.ip}`;
  };

  /** Counts the request in flight until its response closes; refuses it when its key has `max` already. */
  const holdSlot = (request: FastifyRequest, reply: FastifyReply, max: number) => {
    const counter = counterOf(request);
    const running = inFlight.get(counter) ?? 0;
    if (running >= max) {
      throw new RateLimitedError(
        `This API key has ${max} requests in flight already, the most it may; retry when one has answered.`,
        1,
      );
    }
    inFlight.set(counter, running + 1);
    reply.raw.once('close', () => {
      const left = inFlight.get(counter)! - 1;
      if (left === 0) inFlight.delete(counter);
      else inFlight.set(counter, left);
    });
  };

  return {
    callerOf(request) {
      const { principal, authFailure } = identified(request);
      return { principal, authFailure };
    },
    async register(scope) {
      await scope.register(rateLimit, {
        // Not on every route: the hook below counts only the callers that have a rate.
        global: false,
        timeWindow: windowMs,
        keyGenerator: counterOf,
        max: (request) => perSecond(request)! * settings.windowSeconds,
        redis: redis ?? undefined,
        nameSpace: `order-hub:${name}:rate-limit:`,
        // Redis out of reach: serve unlimited rather than refuse every request.
        skipOnError: true,
        errorResponseBuilder: (request, context) =>
          new RateLimitedError(
            identified(request).principal
              ? `This API key is over its limit of ${perSecond(request)} requests per second; retry in ${context.after}.`
              : `Too many requests without a valid API key from this address; retry in ${context.after}.`,
            Math.max(1, Math.ceil(context.ttl / 1000)),
          ),
      });
      const countRequest = scope.rateLimit();
      // One hook, before the body is read; an unlimited key (ADMIN, OPS) pays only for its look-up.
      scope.addHook('onRequest', async (request, reply) => {
        try {
          const caller = await deps.identify(request.headers.authorization);
          const { principal } = caller;
          const limits = principal
            ? effectiveLimits(settings.byRole[principal.role], principal.limits)
            : null;
          callers.set(request, { ...caller, limits });
        } catch (err) {
          // The key could not be read (the database away): nothing to serve without knowing who asks.
          logger.error({ err, requestId: request.id }, 'could not read the API key of a request');
          return reply
            .code(503)
            .header('retry-after', '1')
            .send({
              errors: [
                {
                  message: `The hub could not check the API key; retry shortly (quote request id ${request.id}).`,
                  extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: request.id },
                },
              ],
            });
        }
        if (perSecond(request) !== null) await countRequest.call(scope, request, reply);
        const max = identified(request).limits?.maxConcurrentRequests ?? null;
        if (max !== null) holdSlot(request, reply, max);
      });
      scope.setErrorHandler((error, _request, reply) => {
        if (!(error instanceof RateLimitedError)) throw error;
        return reply
          .code(error.httpStatus)
          .header('retry-after', String(error.retryAfterSeconds))
          .send({ errors: [{ message: error.message, extensions: error.extensions }] });
      });
    },
    async close() {
      // quit() is refused while Redis is away (no offline queue): then just drop the connection.
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}

async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  // No offline queue: while Redis is away a request is not held up, it goes unlimited (skipOnError).
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', (err: unknown) => logger.warn({ err }, 'rate limits: Redis connection problem'));
  // Not awaited: a Redis away at start leaves requests unlimited (skipOnError) rather than the hub down.
  redis.connect().catch(() => undefined);
  return redis;
}
