import { randomBytes, randomUUID } from 'node:crypto';
import {
  BadUserInputError,
  NotFoundError,
  SecretKeyMissingError,
  UrlNotAllowedError,
} from '../../common/errors.js';
import { OutboundEventType, WebhookDeliveryStatus } from '../../common/enums.js';
import { OutboundAttempt } from '../../entities/outbound-attempt.js';
import { OutboundDelivery } from '../../entities/outbound-delivery.js';
import { WebhookEndpoint } from '../../entities/webhook-endpoint.js';
import type { RequestContext } from '../context.js';
import { pageSize, parseId } from '../ids.js';
import { assertPublicUrl, PrivateAddressError } from './address-guard.js';

/**
 * The merchants' webhook endpoints and their deliveries, as the admin API manages them. Sending is
 * services/outbound/deliverer.ts's; this module only makes deliveries due again (re-enabling, redelivering).
 */

/** After a rotation the previous secret signs too, this long, so the receiver can switch without a gap. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
const SECRET_BYTES = 32;
const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 500;

export interface EndpointInput {
  url: string;
  events: OutboundEventType[];
  channelCodes?: string[] | null;
  description?: string | null;
}

export interface EndpointChanges {
  url?: string | null;
  events?: OutboundEventType[] | null;
  channelCodes?: string[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

/** What the secret is bound to when sealed: this endpoint, the current or the previous one. */
export function secretAad(endpointId: string, which: 'secret' | 'previousSecret'): string {
  return `webhook-endpoint:${endpointId}:${which}`;
}

/** `whsec_` and the base64 of random bytes, as Standard Webhooks has it. */
function newSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function sealer(ctx: RequestContext) {
  const box = ctx.hub.secretBox;
  if (!box) throw new SecretKeyMissingError();
  return box;
}

async function checkedUrl(ctx: RequestContext, text: string): Promise<string> {
  const trimmed = text.trim();
  if (trimmed.length > MAX_URL_LENGTH) {
    throw new BadUserInputError(`url has at most ${MAX_URL_LENGTH} characters.`, 'url');
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new BadUserInputError(`url "${trimmed}" is not a URL.`, 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadUserInputError('url must be http or https.', 'url');
  }
  if (url.username || url.password) {
    throw new BadUserInputError(
      'url must not hold a user or password; the signature proves the sender.',
      'url',
    );
  }
  if (!ctx.hub.settings.webhookUrlsMayBePrivate) {
    try {
      await assertPublicUrl(url);
    } catch (err) {
      if (err instanceof PrivateAddressError) throw new UrlNotAllowedError(err.message);
      throw new BadUserInputError(`url's host "${url.hostname}" does not resolve.`, 'url');
    }
  }
  return url.toString();
}

function checkedEvents(events: OutboundEventType[]): string[] {
  if (!events.length) throw new BadUserInputError('events must name at least one event type.', 'events');
  return [...new Set(events)].sort();
}

async function checkedChannels(
  ctx: RequestContext,
  codes: string[] | null | undefined,
): Promise<string[] | null> {
  if (codes === null || codes === undefined) return null;
  if (!codes.length)
    throw new BadUserInputError('channelCodes is null (every channel) or names some.', 'channelCodes');
  const unique = [...new Set(codes)];
  const found = await ctx.em.execute<{ code: string }[]>(`select code from channel where code in (?)`, [
    unique,
  ]);
  const known = new Set(found.map((row) => row.code));
  const unknown = unique.find((code) => !known.has(code));
  if (unknown) throw new NotFoundError('Channel', unknown);
  return unique.sort();
}

function checkedDescription(text: string | null | undefined): string | null {
  const trimmed = text?.trim() ?? '';
  if (trimmed.length > MAX_DESCRIPTION_LENGTH) {
    throw new BadUserInputError(
      `description has at most ${MAX_DESCRIPTION_LENGTH} characters.`,
      'description',
    );
  }
  return trimmed || null;
}

export async function createWebhookEndpoint(
  ctx: RequestContext,
  input: EndpointInput,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const box = sealer(ctx);
  const id = randomUUID();
  const secret = newSecret();
  const endpoint = ctx.em.create(WebhookEndpoint, {
    id,
    url: await checkedUrl(ctx, input.url),
    events: checkedEvents(input.events),
    channelCodes: await checkedChannels(ctx, input.channelCodes),
    description: checkedDescription(input.description),
    secretSealed: box.seal(secret, secretAad(id, 'secret')),
  });
  await ctx.em.flush();
  return { endpoint, secret };
}

export async function listWebhookEndpoints(ctx: RequestContext): Promise<WebhookEndpoint[]> {
  return ctx.em.find(WebhookEndpoint, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

async function requireEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpoint> {
  const endpoint = await ctx.em.findOne(WebhookEndpoint, { id: parseId(id) });
  if (!endpoint) throw new NotFoundError('WebhookEndpoint', id);
  return endpoint;
}

export async function updateWebhookEndpoint(
  ctx: RequestContext,
  id: string,
  changes: EndpointChanges,
): Promise<WebhookEndpoint> {
  const endpoint = await requireEndpoint(ctx, id);
  if (changes.url !== undefined && changes.url !== null) endpoint.url = await checkedUrl(ctx, changes.url);
  if (changes.events !== undefined && changes.events !== null)
    endpoint.events = checkedEvents(changes.events);
  if (changes.channelCodes !== undefined)
    endpoint.channelCodes = await checkedChannels(ctx, changes.channelCodes);
  if (changes.description !== undefined) endpoint.description = checkedDescription(changes.description);
  const reopened = changes.enabled === true && !endpoint.enabled;
  if (changes.enabled !== undefined && changes.enabled !== null) {
    endpoint.enabled = changes.enabled;
    endpoint.disabledReason = null;
    if (changes.enabled) endpoint.failingSince = null;
  }
  await ctx.em.transactional(async (tx) => {
    await tx.flush();
    // What waited while it was off goes out now, each line from its head.
    if (reopened) await tx.execute(QUEUE_ENDPOINT_LINES, [endpoint.id]);
  });
  return endpoint;
}

/** The head of every line of one endpoint that still has a pending delivery. */
const QUEUE_ENDPOINT_LINES = `select hub_webhook_queue_heads(array(
  select min(id) from outbound_delivery where endpoint_id = ? and status = 'PENDING' group by ordering_key))`;

export async function rotateWebhookSecret(
  ctx: RequestContext,
  id: string,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const box = sealer(ctx);
  const endpoint = await requireEndpoint(ctx, id);
  const secret = newSecret();
  const current = box.open(endpoint.secretSealed, secretAad(endpoint.id, 'secret'));
  endpoint.previousSecretSealed = box.seal(current, secretAad(endpoint.id, 'previousSecret'));
  endpoint.previousSecretUntil = new Date(Date.now() + ROTATION_OVERLAP_MS);
  endpoint.secretSealed = box.seal(secret, secretAad(endpoint.id, 'secret'));
  await ctx.em.flush();
  return { endpoint, secret };
}

export async function deleteWebhookEndpoint(ctx: RequestContext, id: string): Promise<boolean> {
  const endpoint = await requireEndpoint(ctx, id);
  // Its deliveries go with it; a job left for one finds nothing and ends.
  await ctx.em.remove(endpoint).flush();
  return true;
}

export interface DeliveryPage {
  edges: { cursor: string; node: OutboundDelivery }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Newest first; `after` is the last cursor of the previous page. */
export async function listWebhookDeliveries(
  ctx: RequestContext,
  args: {
    endpointId: string;
    status?: WebhookDeliveryStatus | null;
    first?: number | null;
    after?: string | null;
  },
): Promise<DeliveryPage> {
  const endpoint = await requireEndpoint(ctx, args.endpointId);
  const limit = pageSize(args.first, 50, 500);
  if (args.after !== null && args.after !== undefined && !/^\d{1,19}$/.test(args.after)) {
    throw new BadUserInputError('after is not a cursor this query handed out.', 'after');
  }
  const rows = await ctx.em.find(
    OutboundDelivery,
    {
      endpoint: endpoint.id,
      ...(args.status ? { status: args.status } : {}),
      ...(args.after ? { id: { $lt: args.after } } : {}),
    },
    { orderBy: { id: 'desc' }, limit: limit + 1 },
  );
  const edges = rows.slice(0, limit).map((node) => ({ cursor: node.id, node }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}

export async function deliveryAttempts(ctx: RequestContext, deliveryId: string): Promise<OutboundAttempt[]> {
  return ctx.em.find(OutboundAttempt, { delivery: deliveryId }, { orderBy: { id: 'asc' } });
}

/**
 * Sends a delivery again, with the same `webhook-id` and body (a receiver that already has it can drop it),
 * once it is the oldest pending one of its line. A pending one is sent at once rather than at its next retry.
 */
export async function redeliverWebhook(ctx: RequestContext, deliveryId: string): Promise<OutboundDelivery> {
  if (!/^\d{1,19}$/.test(deliveryId))
    throw new BadUserInputError(`deliveryId "${deliveryId}" is not a delivery id.`, 'deliveryId');
  return ctx.em.transactional(async (tx) => {
    const [row] = await tx.execute<{ id: string }[]>(
      `update outbound_delivery set status = 'PENDING', next_attempt_at = now(), delivered_at = null
        where id = ? returning id`,
      [deliveryId],
    );
    if (!row) throw new NotFoundError('WebhookDelivery', deliveryId);
    await tx.execute(`select hub_webhook_queue_heads(array[?]::bigint[])`, [deliveryId]);
    return tx.findOneOrFail(OutboundDelivery, { id: deliveryId }, { refresh: true });
  });
}
