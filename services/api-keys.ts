import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKey, Channel } from '../entities/index.js';
import { Role } from '../common/enums.js';
import { isChannelBound } from './access.js';
import type { Principal, RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { parseId } from './ids.js';
import {
  DEFAULT_ROLE_LIMITS,
  effectiveLimits,
  LIMIT_NAMES,
  MAX_LIMIT,
  type KeyLimitOverrides,
  type KeyLimits,
} from './key-limits.js';

const ENV_ADMIN_KEY_ID = 'env-admin';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return `hub_${randomBytes(24).toString('base64url')}`;
}

/**
 * Resolves a bearer secret to the key behind it. `adminKey` is the HUB_ADMIN_KEY
 * from the configuration, accepted as an ADMIN key without a row.
 */
export async function authenticate(
  em: EntityManager,
  secret: string,
  adminKey: string | undefined,
): Promise<Principal | null> {
  if (adminKey && safeEqual(secret, adminKey)) {
    return { keyId: ENV_ADMIN_KEY_ID, role: Role.ADMIN, channelCode: null, label: 'HUB_ADMIN_KEY' };
  }
  const key = await em.findOne(
    ApiKey,
    { secretHash: hashSecret(secret), revokedAt: null },
    { populate: ['channel'], disableIdentityMap: true },
  );
  if (!key) return null;
  return {
    keyId: key.id,
    role: key.role,
    channelCode: key.channel?.code ?? null,
    label: key.label,
    limits: limitOverrides(key),
  };
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
