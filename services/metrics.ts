import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The hub's Prometheus metrics: one registry per hub (never prom-client's global one), made with the hub's
 * services and reached as `ctx.hub.metrics`, so two hubs in one process count apart. Each fact is counted
 * where it is decided, by the method named for it; gauges of state others own are read at scrape time
 * through the `watch…` sources. Labels are bounded: channel codes, platforms, kinds, outcomes — never ids.
 */

export type IngestOutcomeLabel = 'created' | 'updated' | 'duplicate' | 'rejected' | 'failed';
export type HoldSource = 'reservation' | 'order';
export type HoldOutcome = 'taken' | 'refused' | 'expired';
export type PushOutcomeLabel = 'set' | 'failed' | 'throttled' | 'error';
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';
export type EventTopic = 'orderEvent' | 'stockAlert';
/**
 * A parcel's live tracking: answered from the last minute's answer (cached), asked of the carrier API
 * (fetched), or the stored events because the API failed, its breaker was open, the request had used its
 * share of calls, or no API is configured.
 */
export type TrackingLookupOutcome =
  'cached' | 'fetched' | 'failed' | 'breaker_open' | 'over_limit' | 'not_configured';

/** A connection pool's figures at scrape time. */
export interface PoolFigures {
  used: number;
  free: number;
  pending: number;
}

/** Lag buckets from a few milliseconds (same process) to a minute (a feed that fell far behind). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `2xx` … `5xx`: the class of an HTTP status, a label with five values. */
export function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

export class HubMetrics {
  readonly registry = new Registry();
  private readonly pools = new Map<string, () => PoolFigures>();
  private subscriptions: (() => { groups: number; subscribers: number }) | null = null;
  private stockSyncQueue: (() => Promise<number | null>) | null = null;

  private readonly ordersIngested = new Counter({
    name: 'hub_orders_ingested_total',
    help: 'Orders through the order gateway, by channel, door (webhook, poll, api, csv) and outcome (created, updated, duplicate, rejected, failed).',
    labelNames: ['channel', 'source', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly refundsIngested = new Counter({
    name: 'hub_refunds_ingested_total',
    help: 'After-sale records through services/returns.ts, by channel, door (webhook, poll, api, csv) and outcome (created, updated, duplicate, rejected, failed).',
    labelNames: ['channel', 'source', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly webhookDuration = new Histogram({
    name: 'hub_webhook_request_duration_seconds',
    help: 'Time to answer POST /webhooks/:channelCode, by channel (unknown: no such channel, or refused before it was read) and status class.',
    labelNames: ['channel', 'status_class'] as const,
    buckets: WEBHOOK_BUCKETS,
    registers: [this.registry],
  });
  private readonly webhookResponses = new Counter({
    name: 'hub_webhook_responses_total',
    help: 'Answers to POST /webhooks/:channelCode, by channel and status class.',
    labelNames: ['channel', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly holds = new Counter({
    name: 'hub_stock_holds_total',
    help: 'Stock holds taken, refused and expired: reservation (reserveStock) or order (an unpaid order).',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly alerts = new Counter({
    name: 'hub_stock_alerts_total',
    help: 'Stock alerts committed, by kind, as this process heard them (every process hears every alert).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly pushes = new Counter({
    name: 'hub_stock_sync_pushes_total',
    help: "Listings pushed to the platforms' stock APIs by this process, by platform and outcome.",
    labelNames: ['platform', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'hub_outbound_webhook_attempts_total',
    help: 'Outbound webhook attempts recorded by this process: delivered, retrying (failed, tried again later) or failed (given up).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly trackingLookups = new Counter({
    name: 'hub_live_tracking_lookups_total',
    help: 'Shipment.liveTracking lookups by outcome: cached, fetched (a carrier API call), or the stored events answered stale (failed, breaker_open, over_limit, not_configured).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly eventLag = new Histogram({
    name: 'hub_event_delivery_lag_seconds',
    help: "Seconds from an event's time in the database to its hand-over to this process's subscribers.",
    labelNames: ['topic'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // The gauges' collect() gets the gauge as `this`: the sources are reached through these.
    const subscriptionStats = () => this.subscriptions?.();
    const pools = this.pools;
    const oldestPush = () => this.stockSyncQueue?.();
    new Gauge({
      name: 'hub_subscriptions_open',
      help: 'GraphQL subscriptions (graphql-ws) open on this process.',
      registers: [this.registry],
      collect() {
        const stats = subscriptionStats();
        if (stats) this.set(stats.subscribers);
      },
    });
    new Gauge({
      name: 'hub_subscription_streams',
      help: 'Source streams serving them (identical subscriptions share one).',
      registers: [this.registry],
      collect() {
        const stats = subscriptionStats();
        if (stats) this.set(stats.groups);
      },
    });
    new Gauge({
      name: 'hub_db_pool_connections',
      help: "Connections of this process's database pools, by pool and state (used, free, pending: requests waiting for one).",
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [pool, figures] of pools) {
          const f = figures();
          this.set({ pool, state: 'used' }, f.used);
          this.set({ pool, state: 'free' }, f.free);
          this.set({ pool, state: 'pending' }, f.pending);
        }
      },
    });
    new Gauge({
      name: 'hub_stock_sync_oldest_pending_seconds',
      help: 'Age of the oldest stock push that is due and not yet taken (0: none), read from the queue at scrape time.',
      registers: [this.registry],
      async collect() {
        const age = await oldestPush();
        if (age !== null && age !== undefined) this.set(age);
      },
    });
  }

  /** Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  ingested(channel: string, source: string, outcome: IngestOutcomeLabel, count = 1): void {
    if (count > 0) this.ordersIngested.inc({ channel, source: source.toLowerCase(), outcome }, count);
  }

  refundIngested(channel: string, source: string, outcome: IngestOutcomeLabel, count = 1): void {
    if (count > 0) this.refundsIngested.inc({ channel, source: source.toLowerCase(), outcome }, count);
  }

  webhookAnswered(channel: string, statusCode: number, seconds: number): void {
    const labels = { channel, status_class: statusClass(statusCode) };
    this.webhookDuration.observe(labels, seconds);
    this.webhookResponses.inc(labels);
  }

  held(source: HoldSource, outcome: HoldOutcome, count = 1): void {
    if (count > 0) this.holds.inc({ source, outcome }, count);
  }

  alerted(kind: string): void {
    this.alerts.inc({ kind });
  }

  pushed(platform: string, outcome: PushOutcomeLabel, count = 1): void {
    if (count > 0) this.pushes.inc({ platform, outcome }, count);
  }

  delivered(outcome: DeliveryOutcome, count = 1): void {
    if (count > 0) this.deliveries.inc({ outcome }, count);
  }

  trackingLookedUp(outcome: TrackingLookupOutcome, count = 1): void {
    if (count > 0) this.trackingLookups.inc({ outcome }, count);
  }

  /** An event whose time is `at` handed to the subscribers now. */
  eventDelivered(topic: EventTopic, at: Date): void {
    this.eventLag.observe({ topic }, Math.max(0, (Date.now() - at.getTime()) / 1000));
  }

  /** Reads a pool's figures at each scrape; the returned function stops (the pool is closed). */
  watchPool(name: string, figures: () => PoolFigures): () => void {
    this.pools.set(name, figures);
    return () => {
      if (this.pools.get(name) === figures) this.pools.delete(name);
    };
  }

  watchSubscriptions(stats: () => { groups: number; subscribers: number }): void {
    this.subscriptions = stats;
  }

  /** `oldest` answers the age in seconds, or null when it cannot be read (the scrape goes on without it). */
  watchStockSyncQueue(oldest: () => Promise<number | null>): void {
    this.stockSyncQueue = oldest;
  }
}

/** A pg.Pool's figures. */
export function pgPoolFigures(pool: { totalCount: number; idleCount: number; waitingCount: number }) {
  return (): PoolFigures => ({
    used: pool.totalCount - pool.idleCount,
    free: pool.idleCount,
    pending: pool.waitingCount,
  });
}

/** A knex (tarn) pool's figures, as MikroORM's PostgreSQL driver has it. */
export function tarnPoolFigures(pool: {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}) {
  return (): PoolFigures => ({
    used: pool.numUsed(),
    free: pool.numFree(),
    pending: pool.numPendingAcquires(),
  });
}
