import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { ApiKey, Channel } from '../entities/index.js';
import { Role } from '../common/enums.js';
import { isChannelBound } from './access.js';
import type { Principal, RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { pageSize, parseId } from './ids.js';
import {
  DEFAULT_ROLE_LIMITS,
  effectiveLimits,
  LIMIT_NAMES,
  MAX_LIMIT,
  type KeyLimitOverrides,
  type KeyLimits,
} from './key-limits.js';

export const ENV_ADMIN_KEY_ID = 'env-admin';
/** How stale `lastUsedAt` may get: a busy key writes its row once a minute, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return `hub_${randomBytes(24).toString('base64url')}`;
}

/**
 * Resolves a bearer secret to the key behind it, reading the database every time: a
 * revoked key is refused by the next request on any process (keep it so, or make a cache
 * forget a key when `hub_api_key_revoked` arrives). `adminKey` is the HUB_ADMIN_KEY from
 * the configuration, accepted as an ADMIN key without a row.
 */
export async function authenticate(
  em: EntityManager,
  secret: string,
  options: { adminKey: string | undefined; logger: Logger },
): Promise<Principal | null> {
  if (options.adminKey && safeEqual(secret, options.adminKey)) {
    return { keyId: ENV_ADMIN_KEY_ID, role: Role.ADMIN, channelCode: null, label: 'HUB_ADMIN_KEY' };
  }
  const key = await em.findOne(
    ApiKey,
    { secretHash: hashSecret(secret), revokedAt: null },
    { populate: ['channel'], disableIdentityMap: true },
  );
  if (!key) return null;
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    noteKeyUsed(em, key.id, options.logger);
  }
  return {
    keyId: key.id,
    role: key.role,
    channelCode: key.channel?.code ?? null,
    label: key.label,
    limits: limitOverrides(key),
  };
}

/**
 * Not awaited: the request does not wait for bookkeeping. The condition makes concurrent
 * requests (on any process) write the row once a minute at most, whatever the clocks say.
 */
function noteKeyUsed(em: EntityManager, keyId: string, logger: Logger): void {
  em.execute(
    `update api_key set last_used_at = now() where id = ?
       and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
    [keyId],
  ).catch((err: unknown) => logger.warn({ err, keyId }, 'api keys: could not note when a key was last used'));
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export async function createApiKey(
  ctx: RequestContext,
  input: { role: Role; label: string; channelCode?: string | null },
): Promise<{ apiKey: ApiKey; secret: string }> {
  const label = input.label.trim();
  if (!label) throw new BadUserInputError('label must not be empty.', 'label');
  let channel: Channel | null = null;
  if (isChannelBound(input.role)) {
    if (!input.channelCode) {
      throw new BadUserInputError(`A ${input.role} key must name the channel it acts for.`, 'channelCode');
    }
    channel = await ctx.em.findOne(Channel, { code: input.channelCode });
    if (!channel) throw new NotFoundError('Channel', input.channelCode);
  } else if (input.channelCode) {
    throw new BadUserInputError(
      `A ${input.role} key is not bound to a channel; leave channelCode out.`,
      'channelCode',
    );
  }
  const secret = newSecret();
  const apiKey = ctx.em.create(ApiKey, { role: input.role, label, channel, secretHash: hashSecret(secret) });
  await ctx.em.flush();
  return { apiKey, secret };
}

export interface ApiKeyPage {
  edges: { cursor: string; node: ApiKey }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * Stored keys, newest first (never a secret or its hash), in pages: the cursor is the
 * last key's id, and the next page goes on from that key's place (created_at, id).
 */
export async function listApiKeys(
  ctx: RequestContext,
  args: {
    includeRevoked?: boolean | null;
    role?: Role | null;
    channelCode?: string | null;
    first?: number | null;
    after?: string | null;
  },
): Promise<ApiKeyPage> {
  const limit = pageSize(args.first, 50, 500);
  const where: string[] = [];
  const params: unknown[] = [];
  if (!args.includeRevoked) where.push('k.revoked_at is null');
  if (args.role) {
    where.push('k.role = ?');
    params.push(args.role);
  }
  if (args.channelCode) {
    where.push('k.channel_id = (select id from channel where code = ?)');
    params.push(args.channelCode);
  }
  const pageWhere = [...where];
  const pageParams = [...params];
  if (args.after) {
    const after = parseId(args.after, 'after');
    if (!(await ctx.em.findOne(ApiKey, { id: after }, { fields: ['id'] }))) {
      throw new BadUserInputError('after is not a cursor this query handed out.', 'after');
    }
    pageWhere.push('(k.created_at, k.id) < (select created_at, id from api_key where id = ?)');
    pageParams.push(after);
  }
  const whereSql = (clauses: string[]) => (clauses.length ? `where ${clauses.join(' and ')}` : '');
  const [rows, counted] = await Promise.all([
    limit === 0
      ? Promise.resolve([])
      : ctx.em.execute<Record<string, unknown>[]>(
          `select k.* from api_key k ${whereSql(pageWhere)} order by k.created_at desc, k.id desc limit ${limit + 1}`,
          pageParams,
        ),
    ctx.em.execute<{ n: string }[]>(`select count(*) as n from api_key k ${whereSql(where)}`, params),
  ]);
  const edges = rows.slice(0, limit).map((row) => {
    const node = ctx.em.map(ApiKey, row);
    return { cursor: node.id, node };
  });
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: Number(counted[0].n),
  };
}

/** Revoking twice is not an error; an unknown id is. */
export async function revokeApiKey(ctx: RequestContext, id: string): Promise<boolean> {
  const key = await ctx.em.findOne(ApiKey, { id: parseId(id) });
  if (!key) throw new NotFoundError('API key', id);
  key.revokedAt ??= new Date();
  await ctx.em.flush();
  return true;
}

function limitOverrides(key: ApiKey): KeyLimitOverrides {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, key[name]]));
}

/** The limits `key` works under now: its own, and its role's default for the rest. */
export function keyLimits(ctx: RequestContext, key: ApiKey): KeyLimits {
  const byRole = ctx.hub.settings.rateLimits?.byRole ?? DEFAULT_ROLE_LIMITS;
  return effectiveLimits(byRole[key.role], limitOverrides(key));
}

/**
 * Replaces a key's own limits, all five at once: one left out or null follows the key's role.
 * They apply from the key's next request (and next websocket).
 */
export async function setApiKeyLimits(
  ctx: RequestContext,
  id: string,
  input: KeyLimitOverrides,
): Promise<ApiKey> {
  for (const name of LIMIT_NAMES) {
    const value = input[name] ?? null;
    if (value !== null && !(Number.isInteger(value) && value >= 1 && value <= MAX_LIMIT)) {
      throw new BadUserInputError(
        `${name} must be a whole number from 1 to ${MAX_LIMIT}, or null for the role's default.`,
        name,
      );
    }
  }
  const key = await ctx.em.findOne(ApiKey, { id: parseId(id) });
  if (!key) throw new NotFoundError('API key', id);
  for (const name of LIMIT_NAMES) key[name] = input[name] ?? null;
  await ctx.em.flush();
  return key;
}

/**
 * On a database with no keys at all, makes the first ADMIN key and returns its
 * secret, to be shown once. A transaction-level advisory lock keeps two hub
 * processes starting together from both making one.
 */
export async function ensureFirstAdminKey(em: EntityManager): Promise<string | null> {
  return em.transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('order-hub:first-admin-key'))`);
    if ((await tx.count(ApiKey, {})) > 0) return null;
    const secret = newSecret();
    tx.create(ApiKey, {
      role: Role.ADMIN,
      label: 'first admin key',
      channel: null,
      secretHash: hashSecret(secret),
    });
    return secret;
  });
}
