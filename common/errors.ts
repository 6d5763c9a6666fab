import { GraphQLError } from 'graphql';

/**
 * Every error a client sees carries one of these in `extensions.code`: the contract's codes, and those
 * the hub adds (RATE_LIMITED, QUERY_TIMEOUT, NOT_AVAILABLE, SUBSCRIBER_FELL_BEHIND, INGEST_BUSY,
 * HOLD_LIMIT_EXCEEDED, SECRET_KEY_MISSING, STOCK_SYNC_DISABLED, CHANNEL_API_MISSING, URL_NOT_ALLOWED,
 * NOTICES_NOT_FOR_CHANNEL, NOT_ENOUGH_QUARANTINED, ORDER_HELD, REFUND_CURRENCY_MISMATCH). None but
 * INTERNAL_SERVER_ERROR is logged as unexpected.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'INSUFFICIENT_STOCK'
  | 'INVALID_TRANSITION'
  | 'CHANNEL_CLOSED'
  | 'CONFLICT'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'QUERY_TIMEOUT'
  | 'NOT_AVAILABLE'
  | 'SUBSCRIBER_FELL_BEHIND'
  | 'INGEST_BUSY'
  | 'HOLD_LIMIT_EXCEEDED'
  | 'SECRET_KEY_MISSING'
  | 'STOCK_SYNC_DISABLED'
  | 'CHANNEL_API_MISSING'
  | 'URL_NOT_ALLOWED'
  | 'NOTICES_NOT_FOR_CHANNEL'
  | 'NOT_ENOUGH_QUARANTINED'
  | 'ORDER_HELD'
  | 'REFUND_CURRENCY_MISMATCH'
  | 'INTERNAL_SERVER_ERROR';

/**
 * An error the client caused or can act on: its message is safe to show as it is. It is a GraphQLError
 * (of the graphql library, not of the hub's schema or resolvers) so that validation rules can report it
 * and graphql-js keeps its code; webhooks and CLI tools read `httpStatus` and the message.
 */
export abstract class HubError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    /** Status for HTTP routes outside GraphQL (webhooks). */
    readonly httpStatus: number,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...details } });
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends HubError {
  constructor(message = 'An API key is required: send "Authorization: Bearer <key>".') {
    super('UNAUTHENTICATED', 401, message);
  }
}

export class ForbiddenError extends HubError {
  constructor(message = 'This API key is not allowed to do that.') {
    super('FORBIDDEN', 403, message);
  }
}

export class NotFoundError extends HubError {
  constructor(what: string, key: string) {
    super('NOT_FOUND', 404, `${what} "${key}" does not exist.`, { resource: what, key });
  }
}

/** Several products named at once that do not exist: `keys` lists each (a client need not parse the message). */
export class ProductsNotFoundError extends HubError {
  constructor(productCodes: readonly string[]) {
    super('NOT_FOUND', 404, `No product has the code ${productCodes.map((c) => `"${c}"`).join(', ')}.`, {
      resource: 'Product',
      keys: [...productCodes],
    });
  }
}

export class BadUserInputError extends HubError {
  constructor(message: string, field?: string) {
    super('BAD_USER_INPUT', 400, message, field ? { field } : {});
  }
}

export class InsufficientStockError extends HubError {
  constructor(productCode: string, requested: number, available: number) {
    super(
      'INSUFFICIENT_STOCK',
      409,
      `Only ${available} of "${productCode}" available, ${requested} requested.`,
      { productCode, requested, available },
    );
  }
}

export class InvalidTransitionError extends HubError {
  constructor(orderId: string, from: string, to: string, message?: string) {
    super('INVALID_TRANSITION', 409, message ?? `Order ${orderId} cannot go from ${from} to ${to}.`, {
      orderId,
      from,
      to,
    });
  }
}

export class ChannelClosedError extends HubError {
  constructor(channelCode: string, productCode?: string) {
    super(
      'CHANNEL_CLOSED',
      409,
      productCode
        ? `"${productCode}" is closed on channel "${channelCode}" (stock at or below safety stock).`
        : `Channel "${channelCode}" is closed for sales.`,
      { channelCode, ...(productCode ? { productCode } : {}) },
    );
  }
}

export class ConflictError extends HubError {
  constructor(message: string) {
    super('CONFLICT', 409, message);
  }
}

export class QueryTooComplexError extends HubError {
  constructor(message: string) {
    super('QUERY_TOO_COMPLEX', 400, message);
  }
}

/** An API key (or, without one, an IP address) over one of its limits: try again after `retryAfterSeconds`. */
export class RateLimitedError extends HubError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', 429, message, { retryAfterSeconds });
  }
}

/** PostgreSQL cancelled a statement that ran past the statement_timeout of the caller's role. */
export class QueryTimeoutError extends HubError {
  constructor() {
    super(
      'QUERY_TIMEOUT',
      503,
      'The database took too long on this request and stopped it: ask for smaller pages or narrower filters.',
    );
  }
}

/**
 * Ends a subscription that missed events: they piled up faster than its reader took them (so it never holds
 * the others up), or the hub could not hear them for a while. `why` says which, `catchUp` how to get what it
 * missed.
 */
export class SubscriberFellBehindError extends HubError {
  constructor(why: string, catchUp: string) {
    super('SUBSCRIBER_FELL_BEHIND', 429, `This subscription ${why} and was ended; to catch up, ${catchUp}.`);
  }
}

/**
 * The webhook door holds as many payloads as it may: the platform is answered 503 with
 * Retry-After and delivers again, so a flood cannot fill the hub's memory.
 */
export class IngestBusyError extends HubError {
  readonly retryAfterSeconds = 5;
  constructor() {
    super('INGEST_BUSY', 503, 'Too many deliveries are waiting to be stored; retry later.');
  }
}

/** A channel payload the connector cannot map: names the field that is missing or wrong. */
export class PayloadMappingError extends BadUserInputError {
  constructor(
    /** Where in the payload, e.g. `orders.order[1].num`. */
    readonly fieldPath: string,
    problem: string,
  ) {
    super(`Payload field "${fieldPath}" ${problem}.`, fieldPath);
  }
}

/** The storefront reads its stock from the hub: nothing is pushed to it, so it has no platform API or stock sync. */
export class StorefrontNotPushedError extends BadUserInputError {
  constructor(field: string) {
    super(
      'A STOREFRONT channel reads its stock from the hub: it has no platform API and no stock sync to set.',
      field,
    );
  }
}

/**
 * A STOREFRONT key's hold went over a configured cap (HOLD_MAX_*): `limit` says which, `max` the cap.
 * Not BAD_USER_INPUT: the open-holds cap refuses a well-formed request that succeeds once holds are
 * released, and one code lets a storefront handle every cap the same way.
 */
export class HoldLimitExceededError extends HubError {
  constructor(limit: 'quantity' | 'ttlSeconds' | 'openHolds', max: number, message: string) {
    super('HOLD_LIMIT_EXCEEDED', 429, message, { limit, max });
  }
}

/**
 * Platform credentials cannot be stored: this hub has no key to seal them with (an external database and no
 * HUB_SECRET_KEY). Each process would otherwise make up its own key, and the others could not open them.
 */
export class SecretKeyMissingError extends HubError {
  constructor() {
    super(
      'SECRET_KEY_MISSING',
      503,
      'This hub has no HUB_SECRET_KEY to seal platform credentials with: set it (64 hex digits) on every hub process, then try again.',
    );
  }
}

/** A push was asked for on a channel whose stock sync is off (setChannelStockSync turns it on). */
export class StockSyncDisabledError extends HubError {
  constructor(channelCode: string) {
    super(
      'STOCK_SYNC_DISABLED',
      409,
      `The stock sync of channel "${channelCode}" is off: an ADMIN turns it on with setChannelStockSync.`,
      { channelCode },
    );
  }
}

/** The stock sync of a channel with no platform credentials was to be turned on: every push would fail. */
export class ChannelApiMissingError extends HubError {
  constructor(channelCode: string) {
    super(
      'CHANNEL_API_MISSING',
      409,
      `Channel "${channelCode}" has no platform API credentials: an ADMIN sets them with setChannelApi, then turns the stock sync on.`,
      { channelCode },
    );
  }
}

/** A webhook URL that points at the hub's own network (private, loopback, link-local), without WEBHOOK_ALLOW_PRIVATE. */
export class UrlNotAllowedError extends HubError {
  constructor(reason: string) {
    super(
      'URL_NOT_ALLOWED',
      400,
      `This webhook URL is not allowed: ${reason}. Webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE=true lifts this on a closed network).`,
      { field: 'url' },
    );
  }
}

/** Customer notices asked for on a marketplace channel: marketplaces mask the buyer and send their own. */
export class NoticesNotForChannelError extends HubError {
  constructor(channelCode: string, platform: string) {
    super(
      'NOTICES_NOT_FOR_CHANNEL',
      409,
      `Channel "${channelCode}" is a ${platform} channel: marketplaces mask their buyers' phones and tell them themselves, so the hub sends them no notices.`,
      { channelCode },
    );
  }
}

/** acceptReturnedStock asked to release more returned units than a case holds in quarantine. */
export class NotEnoughQuarantinedError extends HubError {
  constructor(returnId: string, requested: number, quarantined: number) {
    super(
      'NOT_ENOUGH_QUARANTINED',
      409,
      `Return ${returnId} has ${quarantined} unit(s) in quarantine; ${requested} cannot be accepted into stock.`,
      { returnId, requested, quarantined },
    );
  }
}

/** The order is held from shipping (`holdOrder`, usually after a risk flag): `releaseOrder` lets it ship. */
export class OrderHeldError extends HubError {
  constructor(orderId: string, reason: string, heldOrderId: string = orderId) {
    super(
      'ORDER_HELD',
      409,
      heldOrderId === orderId
        ? `Order ${orderId} is held from shipping (${reason}): an operator releases it with releaseOrder.`
        : `Order ${orderId} belongs to order ${heldOrderId}, which is held from shipping (${reason}): an operator releases it with releaseOrder.`,
      { orderId: heldOrderId, reason },
    );
  }
}

/**
 * An after-sale record whose money is not in its order's currency: the hub sums a case's refund into the order's
 * refundedAmount, which has one currency, so such a record is refused rather than added up as if it were.
 */
export class RefundCurrencyMismatchError extends HubError {
  constructor(refundId: string, refundCurrency: string, orderCurrency: string) {
    super(
      'REFUND_CURRENCY_MISMATCH',
      400,
      `Refund "${refundId}" is in ${refundCurrency} but its order is in ${orderCurrency}: a refund must be in its order's currency.`,
      { refundId, refundCurrency, orderCurrency },
    );
  }
}
