import { fetchText, PlatformRequestError, type Attempt, type HttpRequest } from '../../platform-client.js';
import {
  PlatformRejectedError,
  PlatformThrottledError,
  type ChannelApi,
  type ListingResult,
  type SetResult,
  type StockClientOptions,
  type StockSet,
} from '../platform-api.js';

/** What the platforms' clients share: JSON with exact ids, one request through the channel's breaker, outcomes. */

// ---- JSON with ids written digit for digit ----

/** A JSON number written as exactly these digits: an id past 2^53 keeps every digit. */
export class JsonDigits {
  constructor(readonly digits: string) {}
}

export type JsonValue =
  string | number | boolean | null | JsonDigits | JsonValue[] | { [key: string]: JsonValue };

/** An id as a JSON number when it is all digits (as the platforms send them), else as a string. */
export function idValue(id: string): JsonDigits | string {
  return /^(0|[1-9]\d*)$/.test(id) ? new JsonDigits(id) : id;
}

/** JSON without spaces; `sortKeys` sorts the keys of every object (Douyin's param_json). */
export function jsonText(value: JsonValue, sortKeys = false): string {
  if (value instanceof JsonDigits) return value.digits;
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(v, sortKeys)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (sortKeys) keys.sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jsonText(value[k], sortKeys)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A value as it enters a signature: text as it is, a number as JSON writes it. */
export function paramText(value: string | number | JsonDigits): string {
  return value instanceof JsonDigits ? value.digits : String(value);
}

// ---- requests ----

/** A reply that is not JSON: a proxy's error page or a cut-off body, which the next attempt may not repeat. */
class UnreadableReply extends PlatformRequestError {
  constructor() {
    super('protocol', 'The platform answered with a body that is not JSON.');
  }
  override get retryable(): boolean {
    return true;
  }
}

/**
 * Integers past 2^53 (ids) come back as their digits, so they compare equal to the string ids the hub keeps.
 * The reviver's third argument is the value's source text (Node 22+).
 */
function keepBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source &&
    /^-?\d+$/.test(context.source)
    ? context.source
    : value;
}

/**
 * One HTTP request whose reply must be a 2xx with a JSON body, as the platform client's `fetchJson`, but a body
 * that is not JSON is worth another attempt (the doc's rule) and big integers keep their digits.
 */
export function jsonAttempt(request: HttpRequest): Attempt<unknown> {
  return async (signal) => {
    const text = await fetchText(request, signal);
    try {
      return JSON.parse(text, keepBigIntegers) as unknown;
    } catch {
      throw new UnreadableReply();
    }
  };
}

/** Every call of a channel's stock sync shares one breaker. */
export const breakerKey = (api: ChannelApi): string => `stock:${api.channelId}`;

/**
 * Sends `request` through the channel's breaker, with the platform client's retries (for idempotent calls and
 * reads), and returns the reply's JSON. A refused request (a 4xx but 408 and 429) is PlatformRejectedError.
 */
export async function requestJson(
  options: StockClientOptions,
  api: ChannelApi,
  label: string,
  request: HttpRequest,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    const { value } = await options.http.call(breakerKey(api), jsonAttempt(request), signal);
    return value;
  } catch (err) {
    throw rejectedIfRefused(err, label);
  }
}

export function rejectedIfRefused(err: unknown, label: string): unknown {
  if (err instanceof PlatformRequestError && err.kind === 'http' && !err.retryable) {
    return new PlatformRejectedError(
      `HTTP_${err.status}`,
      `${label} refused the request with HTTP ${err.status}.`,
    );
  }
  return err;
}

/** `path` under the channel's base URL, whether or not that ends with a slash. */
export function urlOf(api: ChannelApi, path: string): string {
  return api.baseUrl.replace(/\/+$/, '') + path;
}

export function formRequest(url: string, params: Record<string, string>): HttpRequest {
  return {
    url,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: new URLSearchParams(params).toString(),
    },
  };
}

export function jsonRequest(url: string, body: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    url,
    init: { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body },
  };
}

// ---- outcomes ----

/** How a platform answered one call, in the terms every client acts on. */
export type Outcome =
  | { kind: 'ok' }
  | { kind: 'throttled'; waitMs: number; message: string }
  /** A bad signature, token or clock: the whole call, whatever its listings. */
  | { kind: 'rejected'; code: string; message: string }
  /** Anything else the platform refused: about the listing when the call has one. */
  | { kind: 'refused'; code: string; message: string };

/** The wait after a throttled reply that names none. */
export function defaultThrottleWaitMs(options: StockClientOptions, platformDefaultMs = 1_000): number {
  return options.throttleWaitMs ?? platformDefaultMs;
}

/** The platform's text as the hub repeats it: a credential the platform echoes back is blanked. */
export function platformText(text: unknown, api: ChannelApi): string {
  let out = typeof text === 'string' ? text : text === undefined || text === null ? '' : JSON.stringify(text);
  for (const secret of [api.appSecret, api.accessToken]) {
    if (secret) out = out.split(secret).join('***');
  }
  return out.slice(0, 300);
}

/** "<Platform> refused the call: code 25 Invalid signature" and the like. */
export function describe(label: string, code: string, ...texts: unknown[]): string {
  const text = texts.filter((t) => t !== undefined && t !== null && t !== '').join(' / ');
  return `${label} answered code ${code}${text ? `: ${text}` : ''}`;
}

export type Refusal = Extract<Outcome, { kind: 'refused' }>;

/** Throws for an outcome that concerns the whole call; else the platform's refusal, or null when it accepted. */
export function refusalOf(outcome: Outcome): Refusal | null {
  if (outcome.kind === 'throttled') throw new PlatformThrottledError(outcome.waitMs, outcome.message);
  if (outcome.kind === 'rejected') throw new PlatformRejectedError(outcome.code, outcome.message);
  return outcome.kind === 'refused' ? outcome : null;
}

export function failedBy(refusal: Refusal): ListingResult {
  return { kind: 'failed', code: refusal.code, message: refusal.message };
}

export function setTo(set: StockSet): ListingResult {
  return { kind: 'set', quantity: set.target };
}

export function resultsOf(entries: Iterable<[string, ListingResult]>): SetResult {
  return { results: new Map(entries) };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The protocol error for a reply that is JSON but not what the platform's success or error looks like. */
export function unexpectedReply(label: string): PlatformRequestError {
  return new PlatformRequestError(
    'protocol',
    `${label}'s reply is neither a success nor an error it documents.`,
  );
}

/** Credentials the platform needs; a message naming the missing ones (never their values). */
export function requireCredentials<K extends keyof ChannelApi>(
  api: ChannelApi,
  label: string,
  keys: K[],
): { [P in K]: NonNullable<ChannelApi[P]> } {
  const missing = keys.filter((k) => !api[k]);
  if (missing.length > 0) {
    throw new PlatformRejectedError(
      'MISSING_CREDENTIALS',
      `${label} needs ${missing.join(', ')} in the channel's API settings.`,
    );
  }
  return api as unknown as { [P in K]: NonNullable<ChannelApi[P]> };
}
