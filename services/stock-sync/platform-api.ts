import type { Platform } from '../../common/enums.js';
import type { PlatformClients } from '../platform-client.js';

/**
 * What the stock sync asks of a platform, whatever its dialect: make these listings show these numbers.
 * One implementation per platform in `platforms/`, built to docs/stock-sync.md.
 */

/** A channel's platform credentials, decrypted, as `setChannelApi` stored them. */
export interface ChannelApi {
  channelId: string;
  channelCode: string;
  platform: Platform;
  /** Already defaulted to the platform's real gateway when none was set. */
  baseUrl: string;
  appKey: string | null;
  appSecret: string | null;
  accessToken: string | null;
  shopId: string | null;
  signMethod: string | null;
}

/** Where a product lives on the platform (a row of the SKU map). */
export interface Listing {
  listingId: string;
  platformSkuId: string;
  /** Taobao num_iid, Pinduoduo goods_id, Douyin product_id, Kuaishou kwaiItemId, Youzan item_id, Shopify inventoryItemId. */
  platformItemId: string | null;
  /** Shopify's location; null elsewhere. */
  locationId: string | null;
}

export interface StockSet extends Listing {
  /** What the platform must show after the call. */
  target: number;
  /**
   * The value the platform last acknowledged for this listing, or null if unknown. Change-only (Kuaishou) and
   * compare-and-set (Shopify) platforms need it; absolute-set platforms ignore it.
   */
  confirmed: number | null;
  /**
   * True when an earlier call's outcome is unknown (a timeout, a lost reply, a crash mid-call): a client whose
   * write is not idempotent must read the platform's value before writing.
   */
  uncertain: boolean;
}

export type ListingResult =
  /** The platform now shows `quantity` (the target, as the platform acknowledged it). */
  | { kind: 'set'; quantity: number }
  /** The platform refused this listing for good (unknown SKU, reduction refused…): do not retry by itself. */
  | { kind: 'failed'; code: string; message: string };

export interface SetResult {
  /** One entry per listing of the call, keyed by listingId. */
  results: Map<string, ListingResult>;
  /** When the platform's budget says to wait before the next call (Shopify's throttleStatus), how long. */
  nextCallDelayMs?: number;
}

/** The platform said "too many calls": nothing in the call was applied. Wait `waitMs`, then try again. */
export class PlatformThrottledError extends Error {
  override name = 'PlatformThrottledError';
  constructor(
    readonly waitMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The platform refused the whole call for good (bad signature, bad or expired token that cannot be renewed,
 * a 4xx): every listing of the call fails with this message.
 */
export class PlatformRejectedError extends Error {
  override name = 'PlatformRejectedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StockClientOptions {
  /** The hub's platform HTTP client: deadline per attempt, retries with backoff and jitter, one breaker per key. */
  http: PlatformClients;
  /** Wait after a throttled reply that does not say how long. By default the platform's own (Youzan 30 s, others 1 s). */
  throttleWaitMs?: number;
  /** The wall clock (Date.now) for timestamps in signed requests; tests may pin it. */
  now?: () => number;
}

/**
 * One platform's stock calls. `set` may make several HTTP calls (a token, a read-back, a retry after a stale
 * compare-and-set) but never applies a change twice: a write that is not idempotent is not retried without
 * reading back first. It throws PlatformThrottledError, PlatformRejectedError, or PlatformRequestError (from
 * platform-client.ts: transient when `retryable`) for the whole call; per-listing refusals are results.
 */
export interface StockClient {
  readonly platform: Platform;
  /** Listings that may share one call; listings with different keys never do. */
  batchKey(listing: Listing): string;
  /** Most listings in one call. */
  readonly maxBatch: number;
  /** Calls per second when the channel sets none (Youzan 20, Shopify from its cost budget…). */
  readonly defaultRequestsPerSecond: number;
  /**
   * Calls to one channel a process may have under way at once, when fewer than the sync's setting: a platform
   * whose calls spend a shared budget takes one at a time, so what the last reply left is known before the next.
   */
  readonly maxParallelCalls?: number;
  /** Checks that a listing has what this platform needs (item id, location): a message when it does not. */
  listingProblem(listing: Listing): string | null;
  set(api: ChannelApi, sets: StockSet[], signal: AbortSignal): Promise<SetResult>;
}

export type StockClientFactory = (options: StockClientOptions) => StockClient;
