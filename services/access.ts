import { Role } from '../common/enums.js';
import type { Principal, RequestContext } from './context.js';
import { ForbiddenError, UnauthenticatedError } from '../common/errors.js';

/** Roles whose keys act for one channel only. */
const CHANNEL_BOUND: ReadonlySet<Role> = new Set([Role.STOREFRONT, Role.CONNECTOR]);

export function requirePrincipal(ctx: RequestContext): Principal {
  if (!ctx.principal) throw new UnauthenticatedError(ctx.authFailure ?? undefined);
  return ctx.principal;
}

/** The role check behind every `@Authorized`: ADMIN may do everything. */
export function assertRole(ctx: RequestContext, allowed: readonly Role[]): void {
  const principal = requirePrincipal(ctx);
  boundChannel(principal);
  if (principal.role === Role.ADMIN || allowed.length === 0 || allowed.includes(principal.role)) return;
  throw new ForbiddenError(
    `A ${principal.role} key may not do this; it needs one of: ${allowed.join(', ')}.`,
  );
}

/** The one channel a channel-bound key is limited to, or null when the key sees every channel. */
export function channelScope(ctx: RequestContext): string | null {
  return boundChannel(requirePrincipal(ctx));
}

/**
 * Fails closed: a channel-bound key without a channel (a row written by hand, or one whose
 * channel went away) is refused everything rather than read as "every channel".
 */
function boundChannel(principal: Principal): string | null {
  if (!CHANNEL_BOUND.has(principal.role)) return null;
  if (principal.channelCode === null) {
    throw new ForbiddenError(
      `This ${principal.role} key is bound to no channel, so it may do nothing; issue a new key for a channel.`,
    );
  }
  return principal.channelCode;
}

export function canSeeChannel(ctx: RequestContext, channelCode: string): boolean {
  const scope = channelScope(ctx);
  return scope === null || scope === channelCode;
}

export function assertChannelAccess(ctx: RequestContext, channelCode: string): void {
  if (!canSeeChannel(ctx, channelCode)) {
    throw new ForbiddenError(`This key acts for channel "${channelScope(ctx)}" only, not "${channelCode}".`);
  }
}

export function isChannelBound(role: Role): boolean {
  return CHANNEL_BOUND.has(role);
}
