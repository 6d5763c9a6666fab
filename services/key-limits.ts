import { Role } from '../common/enums.js';

/** What one API key may use; null: not limited. */
export interface KeyLimits {
  /** GraphQL requests over HTTP, per second (counted over the configured window). */
  requestsPerSecond: number | null;
  /** GraphQL requests over HTTP in flight at once (per hub process). */
  maxConcurrentRequests: number | null;
  /** Websockets open at once (per hub process). */
  maxWebsocketConnections: number | null;
  /** Operations open at once on one websocket. */
  maxSubscriptionsPerConnection: number | null;
  /** Messages one websocket may send per second (counted over the configured window). */
  websocketMessagesPerSecond: number | null;
}

export const LIMIT_NAMES = [
  'requestsPerSecond',
  'maxConcurrentRequests',
  'maxWebsocketConnections',
  'maxSubscriptionsPerConnection',
  'websocketMessagesPerSecond',
] as const satisfies readonly (keyof KeyLimits)[];

/** A key's own limits, stored on its row: null (or absent) follows its role's default. */
export type KeyLimitOverrides = { [K in keyof KeyLimits]?: number | null };

export const MAX_LIMIT = 1_000_000;

const UNLIMITED: KeyLimits = {
  requestsPerSecond: null,
  maxConcurrentRequests: null,
  maxWebsocketConnections: null,
  maxSubscriptionsPerConnection: null,
  websocketMessagesPerSecond: null,
};

/**
 * ADMIN and OPS keys run bulk jobs and the benchmarks: not limited unless configured. The others are
 * what a storefront backend, a connector or a reporting tool needs, with room for a sale's peak.
 */
export const DEFAULT_ROLE_LIMITS: Readonly<Record<Role, KeyLimits>> = {
  [Role.ADMIN]: UNLIMITED,
  [Role.OPS]: UNLIMITED,
  [Role.STOREFRONT]: {
    requestsPerSecond: 200,
    maxConcurrentRequests: 50,
    maxWebsocketConnections: 20,
    maxSubscriptionsPerConnection: 20,
    websocketMessagesPerSecond: 20,
  },
  [Role.CONNECTOR]: {
    requestsPerSecond: 100,
    maxConcurrentRequests: 20,
    maxWebsocketConnections: 10,
    maxSubscriptionsPerConnection: 20,
    websocketMessagesPerSecond: 20,
  },
  [Role.ANALYST]: {
    requestsPerSecond: 20,
    maxConcurrentRequests: 5,
    maxWebsocketConnections: 10,
    maxSubscriptionsPerConnection: 20,
    websocketMessagesPerSecond: 20,
  },
};

/**
 * `requestsPerSecond=50,maxConcurrentRequests=none` -> those limits over `base`; `none` lifts one.
 * Throws naming the bad entry.
 */
export function parseLimitList(value: string, base: KeyLimits): KeyLimits {
  const limits = { ...base };
  const seen = new Set<string>();
  for (const entry of value.split(',')) {
    if (!entry.trim()) continue;
    const [name, raw = '', ...rest] = entry.split('=').map((s) => s.trim());
    if (!(LIMIT_NAMES as readonly string[]).includes(name))
      throw new Error(`"${name}" is not a limit (one of ${LIMIT_NAMES.join(', ')})`);
    if (seen.has(name)) throw new Error(`"${name}" is given twice`);
    seen.add(name);
    const number = Number(raw);
    if (raw === 'none') limits[name as keyof KeyLimits] = null;
    else if (rest.length === 0 && Number.isInteger(number) && number >= 1 && number <= MAX_LIMIT)
      limits[name as keyof KeyLimits] = number;
    else throw new Error(`${name} must be a whole number from 1 to ${MAX_LIMIT}, or none (write ${name}=20)`);
  }
  return limits;
}

/** The limits a key works under: its own where it has them, its role's otherwise. */
export function effectiveLimits(roleDefaults: KeyLimits, overrides: KeyLimitOverrides = {}): KeyLimits {
  const limits = { ...roleDefaults };
  for (const name of LIMIT_NAMES) limits[name] = overrides[name] ?? roleDefaults[name];
  return limits;
}

/** The limits of the configuration (server/config.ts), for every key and for requests without one. */
export interface RateLimitSettings {
  /** Each role's limits; a key's own limits replace them one by one. */
  byRole: Readonly<Record<Role, KeyLimits>>;
  /** GraphQL requests per second from one IP address without a valid key; null: not limited. */
  anonymousPerSecond: number | null;
  /** Rates are counted over windows of this many seconds: a key may send rate × window at once. */
  windowSeconds: number;
}
