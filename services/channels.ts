import type { EntityManager } from '@mikro-orm/postgresql';
import { Channel } from '../entities/index.js';
import { IngestionMode, Platform } from '../common/enums.js';
import { assertChannelAccess, channelScope } from './access.js';
import type { RequestContext } from './context.js';
import {
  BadUserInputError,
  ChannelApiMissingError,
  NotFoundError,
  SecretKeyMissingError,
  StorefrontNotPushedError,
} from '../common/errors.js';
import { MIN_SECRET_LENGTH } from '../common/hmac.js';
import { parseId } from './ids.js';
import type { ChannelRow } from './read-model.js';

const CODE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface ChannelInput {
  code: string;
  platform: Platform;
  name: string;
  isCore?: boolean | null;
  webhookSecret?: string | null;
  apiBaseUrl?: string | null;
  ingestionModes?: IngestionMode[] | null;
  stockSync?: boolean | null;
}

export async function listChannels(ctx: RequestContext): Promise<Channel[]> {
  const scope = channelScope(ctx);
  return ctx.em.find(Channel, scope ? { code: scope } : {}, { orderBy: { code: 'asc' } });
}

export async function findChannel(ctx: RequestContext, code: string): Promise<Channel | null> {
  assertChannelAccess(ctx, code);
  return ctx.em.findOne(Channel, { code });
}

/** A channel by id, seen as `findChannel` sees it by code: a channel-bound key only its own. */
export async function findChannelById(ctx: RequestContext, id: string): Promise<ChannelRow | null> {
  const channel = await ctx.loaders.channelById.load(parseId(id));
  if (channel) assertChannelAccess(ctx, channel.code);
  return channel;
}

export async function requireChannel(ctx: RequestContext, code: string): Promise<Channel> {
  const channel = await ctx.em.findOne(Channel, { code });
  if (!channel) throw new NotFoundError('Channel', code);
  return channel;
}

export async function upsertChannel(ctx: RequestContext, input: ChannelInput): Promise<Channel> {
  if (!CODE.test(input.code)) {
    throw new BadUserInputError(
      'code must be a slug of lower-case letters, digits and dashes (at most 63), such as "douyin-live".',
      'code',
    );
  }
  const name = input.name.trim();
  if (!name) throw new BadUserInputError('name must not be empty.', 'name');
  if (input.webhookSecret != null && input.webhookSecret.length < MIN_SECRET_LENGTH) {
    throw new BadUserInputError(
      `webhookSecret must be at least ${MIN_SECRET_LENGTH} characters: a shorter one could be guessed from one signed delivery.`,
      'webhookSecret',
    );
  }
  if (input.apiBaseUrl != null && !/^https?:\/\/[^\s]+$/.test(input.apiBaseUrl)) {
    throw new BadUserInputError('apiBaseUrl must be an http:// or https:// URL.', 'apiBaseUrl');
  }
  if (input.stockSync && input.platform === Platform.STOREFRONT)
    throw new StorefrontNotPushedError('stockSync');
  if (input.stockSync) {
    const existing = await ctx.em.findOne(Channel, { code: input.code });
    await assertCanSync(ctx, existing?.id ?? null, input.code);
  }
  return ctx.em.transactional(async (tx) => {
    await tx.upsert(
      Channel,
      {
        code: input.code,
        platform: input.platform,
        name,
        ...(input.isCore != null ? { isCore: input.isCore } : {}),
        ...(input.webhookSecret != null ? { webhookSecret: input.webhookSecret } : {}),
        ...(input.apiBaseUrl != null ? { apiBaseUrl: input.apiBaseUrl } : {}),
        ...(input.stockSync != null ? { stockSync: input.stockSync } : {}),
        ingestionModes: input.ingestionModes ?? defaultModes(input.platform),
      },
      {
        onConflictFields: ['code'],
        onConflictExcludeFields: [
          'id',
          'createdAt',
          'salesOpen',
          'health',
          ...(input.ingestionModes ? [] : (['ingestionModes'] as const)),
        ],
      },
    );
    return tx.findOneOrFail(Channel, { code: input.code }, { refresh: true });
  });
}

function defaultModes(platform: Platform): IngestionMode[] {
  return platform === Platform.STOREFRONT
    ? [IngestionMode.WEBHOOK]
    : [IngestionMode.WEBHOOK, IngestionMode.POLL, IngestionMode.CSV];
}

export async function setChannelCore(ctx: RequestContext, code: string, isCore: boolean): Promise<Channel> {
  const channel = await requireChannel(ctx, code);
  channel.isCore = isCore;
  await ctx.em.flush();
  return channel;
}

/** Turns pushing the pool's stock to the channel's listings on or off (the database queues the pushes). */
export async function setChannelStockSync(
  ctx: RequestContext,
  code: string,
  enabled: boolean,
): Promise<Channel> {
  const channel = await requireChannel(ctx, code);
  if (enabled && channel.platform === Platform.STOREFRONT) throw new StorefrontNotPushedError('enabled');
  if (enabled) await assertCanSync(ctx, channel.id, code);
  channel.stockSync = enabled;
  await ctx.em.flush();
  return channel;
}

/**
 * Turning a channel's stock sync on needs what every push needs: a key to open credentials with, and the
 * channel's credentials (`channelId` null: a channel not created yet, which has none).
 */
async function assertCanSync(ctx: RequestContext, channelId: string | null, code: string): Promise<void> {
  if (!ctx.hub.secretBox) throw new SecretKeyMissingError();
  const [api] = channelId
    ? await ctx.em.execute<unknown[]>(`select 1 from channel_api where channel_id = ?`, [channelId])
    : [];
  if (!api) throw new ChannelApiMissingError(code);
}

export async function setChannelSalesOpen(
  ctx: RequestContext,
  code: string,
  open: boolean,
): Promise<Channel> {
  const channel = await requireChannel(ctx, code);
  channel.salesOpen = open;
  await ctx.em.flush();
  return channel;
}

/** The channel by code, for internal doors (ingestion, polling, CSV) that have checked access already. */
export async function requireChannelByCode(em: EntityManager, code: string): Promise<Channel> {
  const channel = await em.findOne(Channel, { code }, { disableIdentityMap: true });
  if (!channel) throw new NotFoundError('Channel', code);
  return channel;
}
