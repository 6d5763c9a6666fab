import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Role } from '../common/enums.js';
import type { Connection } from '../subscriptions/fanout.js';
import type { HubStreams } from '../subscriptions/streams.js';
import type { KeyLimitOverrides, RateLimitSettings } from './key-limits.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { LiveTracking } from './live-tracking.js';
import type { HubMetrics } from './metrics.js';
import type { PlatformClients } from './platform-client.js';
import type { ReadDatabase } from './read-db.js';
import type { ReserveCombiner } from './reserve-combiner.js';
import type { Sealer } from './secret-box.js';

/** Who is calling: the API key behind the request. */
export interface Principal {
  keyId: string;
  role: Role;
  /** STOREFRONT and CONNECTOR keys act for this channel only. */
  channelCode: string | null;
  label: string;
  /** The key's own rate limits, where it has any (services/key-limits.ts). */
  limits?: KeyLimitOverrides;
}

/** When safety stock closes and reopens a product, and what counts as a sudden drop. */
export interface StockLevelSettings {
  /** A closed product reopens only once `available` is above its safety stock by more than this many units. */
  restockMargin: number;
  /** A fall of more than this percent of `available` ... */
  suddenDropPercent: number;
  /** ... within this many seconds raises SUDDEN_DROP (once per window). */
  suddenDropWindowSeconds: number;
}

export const DEFAULT_STOCK_LEVELS: StockLevelSettings = {
  restockMargin: 5,
  suddenDropPercent: 50,
  suddenDropWindowSeconds: 600,
};

/** What one STOREFRONT key's holds outside orders (reserveStock) may take. */
export interface HoldLimits {
  maxUnits: number;
  maxOpenPerKey: number;
  maxTtlSeconds: number;
}

export const DEFAULT_HOLD_LIMITS: HoldLimits = { maxUnits: 100, maxOpenPerKey: 5000, maxTtlSeconds: 3600 };

/** The business settings services follow, read from the configuration once. */
export interface DomainSettings {
  /** How long a hold on stock lasts before the sweeper releases it. */
  reservationTtlSeconds: number;
  /** Safety-stock and alert thresholds; DEFAULT_STOCK_LEVELS when absent. */
  stockLevels?: StockLevelSettings;
  /** Regions (canonical names, see provinces.ts) whose addresses are remote; DEFAULT_REMOTE_PROVINCES when absent. */
  remoteProvinces?: readonly string[];
  /** Per-key limits, to show each key's (the limits themselves are applied in server/). */
  rateLimits?: RateLimitSettings;
  /** Caps on a STOREFRONT key's holds; DEFAULT_HOLD_LIMITS when absent. */
  holdLimits?: HoldLimits;
  /** WEBHOOK_ALLOW_PRIVATE: webhook URLs may point at private and loopback addresses; false when absent. */
  webhookUrlsMayBePrivate?: boolean;
}

/**
 * The long-lived services of one hub, made once from its configuration (server/app.ts
 * `hubServices`) and reached from every context it makes as `ctx.hub`: nothing of
 * the kind lives in module state, so one process can run two hubs.
 */
export interface HubServices {
  readonly settings: DomainSettings;
  /** Combines concurrent stock holds into shared transactions (reserveStock). */
  readonly reserveCombiner: ReserveCombiner;
  /** The platform order APIs' clients (a breaker per channel), shared by the scheduler and pollChannel. */
  readonly platformClients: PlatformClients;
  /** Shipment.liveTracking: the carrier tracking API's client, its breaker and the last minute's answers. */
  readonly liveTracking: LiveTracking;
  /** The event streams subscriptions read; null in a process that serves no websockets (a CLI tool). */
  readonly streams: HubStreams | null;
  /** When this hub last wrote each channel's lastOrderAt (ms, by channel id), so it moves at most once a second. */
  readonly lastOrderNoted: Map<string, number>;
  /** Seals platform credentials on write; null when the hub has no HUB_SECRET_KEY (an external database). */
  readonly secretBox: Sealer | null;
  /** This hub's Prometheus metrics: each service counts what it decides here. */
  readonly metrics: HubMetrics;
  /** Where reads that may lag a moment go (DATABASE_READ_URL's replicas); none: `readQuery` reads from the primary. */
  readonly reads?: ReadDatabase | null;
}

/**
 * Everything a service function needs about the request it serves: passed first to
 * every service function, whatever the transport (HTTP, websocket, webhook, CLI).
 */
export class RequestContext {
  readonly em: EntityManager;
  readonly principal: Principal | null;
  readonly requestId: string;
  readonly logger: Logger;
  readonly hub: HubServices;
  /** The websocket a subscription's context belongs to, which the fan-out writes to; null for anything else. */
  readonly connection: Connection | null;
  /** Why a key that was sent was refused (unknown or revoked), to say so rather than "no key". */
  readonly authFailure: string | null;
  private batches: Loaders;

  constructor(init: {
    em: EntityManager;
    principal: Principal | null;
    requestId: string;
    logger: Logger;
    hub: HubServices;
    connection?: Connection | null;
    authFailure?: string | null;
  }) {
    this.em = init.em;
    this.principal = init.principal;
    this.requestId = init.requestId;
    this.logger = init.logger;
    this.hub = init.hub;
    this.connection = init.connection ?? null;
    this.authFailure = init.authFailure ?? null;
    this.batches = createLoaders(init.em);
  }

  /** The request's DataLoaders: each reads a key once per request (or per subscription message, see below). */
  get loaders(): Loaders {
    return this.batches;
  }

  /**
   * A subscription's context lives as long as the subscription: before each message is resolved, what the last
   * one read (loaders' caches, the identity map) is forgotten, so the message shows rows as they are now.
   * Messages of one subscription are resolved one after another, so none is resolved half with old rows.
   */
  forgetReads(): void {
    this.em.clear();
    this.batches = createLoaders(this.em);
  }

  /** A context for work the hub does by itself (sweepers, pollers, CLI, start-up). */
  static system(em: EntityManager, logger: Logger, hub: HubServices, requestId = 'system'): RequestContext {
    return new RequestContext({ em, principal: null, requestId, logger, hub });
  }
}
