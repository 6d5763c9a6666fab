import { NoticeProvider, NoticeStep, Platform } from '../../common/enums.js';
import {
  BadUserInputError,
  NoticesNotForChannelError,
  NotFoundError,
  SecretKeyMissingError,
} from '../../common/errors.js';
import { Channel, NoticeProviderAccount, NoticeTemplate, Order } from '../../entities/index.js';
import { requireChannelByCode } from '../channels.js';
import type { RequestContext } from '../context.js';
import { parseId } from '../ids.js';
import { PLACEHOLDERS, unknownPlaceholders } from './render.js';

/**
 * Customer notices as the admin API sets them up: the providers' accounts (secrets sealed, write-only), the
 * templates per channel and step, a channel's time zone and steps, and a customer's opt-out. Sending is
 * services/notices/sender.ts's.
 */

/** Marketplaces mask the buyer's phone and send their own notices. */
export const NOTICE_PLATFORMS: readonly Platform[] = [Platform.STOREFRONT, Platform.YOUZAN, Platform.SHOPIFY];

/** What a provider's secret is bound to when sealed: its row and field. */
export function providerSecretAad(provider: NoticeProvider): string {
  return `notice-provider:${provider}:secret`;
}

export interface NoticeProviderInput {
  baseUrl?: string | null;
  accessKeyId?: string | null;
  accessKeySecret?: string | null;
  signName?: string | null;
  appId?: string | null;
  appSecret?: string | null;
}

function text(value: string | null | undefined, field: string, max: number): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed.length > max) throw new BadUserInputError(`${field} has at most ${max} characters.`, field);
  return trimmed || null;
}

function baseUrl(value: string | null | undefined): string | null {
  const given = text(value, 'baseUrl', 512);
  if (!given) return null;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new BadUserInputError(`baseUrl "${given}" is not a URL.`, 'baseUrl');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new BadUserInputError('baseUrl must be http or https.', 'baseUrl');
  return given.replace(/\/+$/, '');
}

/**
 * Stores a provider's account. SMS: accessKeyId, accessKeySecret, signName; WeChat: appId, appSecret. A secret
 * left out keeps the stored one; baseUrl left out is the real gateway.
 */
export async function setNoticeProvider(
  ctx: RequestContext,
  provider: NoticeProvider,
  input: NoticeProviderInput,
): Promise<NoticeProviderAccount> {
  const box = ctx.hub.secretBox;
  if (!box) throw new SecretKeyMissingError();
  const sms = provider === NoticeProvider.SMS;
  const [keyField, secretField] = sms ? ['accessKeyId', 'accessKeySecret'] : ['appId', 'appSecret'];
  const keyId = text(sms ? input.accessKeyId : input.appId, keyField, 128);
  const secret = text(sms ? input.accessKeySecret : input.appSecret, secretField, 512);
  const signName = sms ? text(input.signName, 'signName', 64) : null;
  const stray = Object.entries(input).find(
    ([name, value]) =>
      value !== null &&
      value !== undefined &&
      !['baseUrl', keyField, secretField, ...(sms ? ['signName'] : [])].includes(name),
  );
  if (stray) throw new BadUserInputError(`${stray[0]} is not a field of the ${provider} provider.`, stray[0]);
  if (!keyId) throw new BadUserInputError(`${keyField} is required.`, keyField);
  if (sms && !signName) throw new BadUserInputError('signName is required.', 'signName');
  const existing = await ctx.em.findOne(NoticeProviderAccount, { provider });
  if (!secret && !existing) throw new BadUserInputError(`${secretField} is required.`, secretField);
  const account = existing ?? ctx.em.create(NoticeProviderAccount, { provider, keyId, secretSealed: '' });
  account.keyId = keyId;
  account.baseUrl = baseUrl(input.baseUrl);
  account.signName = signName;
  if (secret) account.secretSealed = box.seal(secret, providerSecretAad(provider));
  await ctx.em.flush();
  return account;
}

export async function noticeProviders(ctx: RequestContext): Promise<NoticeProviderAccount[]> {
  return ctx.em.find(NoticeProviderAccount, {}, { orderBy: { provider: 'asc' } });
}

async function noticeChannel(ctx: RequestContext, channelCode: string): Promise<Channel> {
  const channel = await requireChannelByCode(ctx.em, channelCode);
  if (!NOTICE_PLATFORMS.includes(channel.platform))
    throw new NoticesNotForChannelError(channel.code, channel.platform);
  return channel;
}

const MAX_PARAMS = 20;

function checkedParams(params: unknown): Record<string, string> {
  if (!params || typeof params !== 'object' || Array.isArray(params))
    throw new BadUserInputError('params must be a JSON object of the template variables.', 'params');
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length > MAX_PARAMS)
    throw new BadUserInputError(`params has at most ${MAX_PARAMS} variables.`, 'params');
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      throw new BadUserInputError(`params: "${name}" is not a variable name.`, 'params');
    if (typeof value !== 'string' || value.length > 500)
      throw new BadUserInputError(`params.${name} must be a string of at most 500 characters.`, 'params');
    const unknown = unknownPlaceholders(value);
    if (unknown.length)
      throw new BadUserInputError(
        `params.${name}: {{${unknown[0]}}} is not a placeholder; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}.`,
        'params',
      );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Maps a step of a channel to a provider's template and its variables (made or replaced). */
export async function setNoticeTemplate(
  ctx: RequestContext,
  args: {
    channelCode: string;
    step: NoticeStep;
    provider: NoticeProvider;
    templateCode: string;
    params: unknown;
    urgent?: boolean | null;
    page?: string | null;
  },
): Promise<NoticeTemplate> {
  const channel = await noticeChannel(ctx, args.channelCode);
  const templateCode = text(args.templateCode, 'templateCode', 128);
  if (!templateCode) throw new BadUserInputError('templateCode is required.', 'templateCode');
  const params = checkedParams(args.params);
  const page = text(args.page, 'page', 512);
  if (page && args.provider !== NoticeProvider.WECHAT)
    throw new BadUserInputError('page is for WeChat templates only.', 'page');
  const template =
    (await ctx.em.findOne(NoticeTemplate, {
      channel: channel.id,
      step: args.step,
      provider: args.provider,
    })) ??
    ctx.em.create(NoticeTemplate, {
      channel: channel.id,
      step: args.step,
      provider: args.provider,
      templateCode,
      params,
    });
  template.templateCode = templateCode;
  template.params = params;
  template.urgent = args.urgent ?? false;
  template.page = page;
  await ctx.em.flush();
  return template;
}

export async function noticeTemplates(ctx: RequestContext, channelCode: string): Promise<NoticeTemplate[]> {
  const channel = await requireChannelByCode(ctx.em, channelCode);
  return ctx.em.find(
    NoticeTemplate,
    { channel: channel.id },
    { orderBy: { step: 'asc', provider: 'asc' }, populate: ['channel'] },
  );
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A channel's time zone (quiet hours, times in notices) and the steps its customers are told of. */
export async function setChannelNotices(
  ctx: RequestContext,
  channelCode: string,
  input: { timeZone?: string | null; steps?: NoticeStep[] | null },
): Promise<Channel> {
  const channel = await noticeChannel(ctx, channelCode);
  const row = await ctx.em.findOneOrFail(Channel, { id: channel.id });
  if (input.timeZone !== undefined && input.timeZone !== null) {
    if (!isTimeZone(input.timeZone))
      throw new BadUserInputError(`timeZone "${input.timeZone}" is not an IANA time zone.`, 'timeZone');
    row.timeZone = input.timeZone;
  }
  if (input.steps !== undefined) row.noticeSteps = input.steps ? [...new Set(input.steps)].sort() : null;
  await ctx.em.flush();
  return row;
}

/**
 * The customer wants no more notices of this order: those not sent yet are SKIPPED, and none is sent after.
 * A notice being sent at this moment may still go out.
 */
export async function optOutOfNotices(ctx: RequestContext, orderId: string): Promise<Order> {
  const id = parseId(orderId, 'orderId');
  await ctx.em.transactional(async (tx) => {
    const [row] = await tx.execute<{ id: string }[]>(
      `update "order" set notices_opted_out_at = coalesce(notices_opted_out_at, now()) where id = ? returning id`,
      [id],
    );
    if (!row) throw new NotFoundError('Order', orderId);
    await tx.execute(
      `update notice set status = 'SKIPPED', error = 'The customer opted out of notices.', next_attempt_at = null
        where order_id = ? and status in ('QUEUED', 'HELD') and sending_owner is null`,
      [id],
    );
  });
  return ctx.em.findOneOrFail(Order, { id }, { refresh: true });
}
