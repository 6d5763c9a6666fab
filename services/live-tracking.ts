import DataLoader from 'dataloader';
import { PayloadMappingError } from '../common/errors.js';
import {
  trackingQuery,
  trackingReply,
  type CarrierEvent,
  type TrackingApi,
} from '../connectors/kuaidi100.js';
import { ShipmentEvent, type Shipment } from '../entities/index.js';
import type { RequestContext } from './context.js';
import { fetchJson, PlatformClients, PlatformRequestError, type BreakerState } from './platform-client.js';
import { recordCarrierEvents } from './shipping.js';

/**
 * Shipment.liveTracking: a parcel's tracking asked of the carrier tracking API at query time. The shipments of
 * one request are asked together (a DataLoader per request), an answer is reused for a minute by this hub
 * process, and every request goes through the platform client's deadline and circuit breaker. Events the
 * carrier reports that the hub had not stored are recorded through shipping.ts's carrier-event path, so the
 * shipment, its order and the subscribers catch up even when the carrier's webhook never came. When the carrier
 * cannot be asked (not configured, down, slow, breaker open) the stored events are answered, marked stale.
 */

/** How long one carrier answer is reused, per hub process (the brief's "one minute"). */
const ANSWER_TTL_MS = 60_000;
/** Kuaidi100 answers one parcel per request: a batch sends its requests this many at a time. */
const CONCURRENT_REQUESTS = 4;
/** Answers kept at most; the oldest go first. */
const MAX_ANSWERS = 10_000;
/** One tracking API for every carrier: one failure record. */
const BREAKER_KEY = 'carrier-tracking';

export interface LiveTrackingSettings extends TrackingApi {
  timeoutMs: number;
  breakerResetMs: number;
  /** Carrier requests one GraphQL request (one context) may cause; further shipments are answered stale. */
  maxPerRequest: number;
}

/** Wall-clock milliseconds (Date by default): when an answer was fetched, and whether it is still fresh. */
export interface WallClock {
  now(): number;
}

/** A shipment as the resolver has it: an entity, or a subscription's message. */
export interface TrackedShipment {
  id: string;
  carrier: string;
  trackingNumber: string;
  orderId: string;
}

export interface LiveTrackingView {
  /** Every event the hub holds for the parcel, oldest first, those the carrier just reported included. */
  events: ShipmentEvent[];
  /** The carrier could not be asked: the events are those stored. */
  stale: boolean;
  /** When the carrier gave the answer shown; null when stale. */
  fetchedAt: Date | null;
}

interface Answer {
  events: CarrierEvent[];
  fetchedAt: number;
}

/** One per hub (`ctx.hub.liveTracking`): the carrier client, its breaker and the answers of the last minute. */
export class LiveTracking {
  private readonly api: { settings: LiveTrackingSettings; clients: PlatformClients } | null;
  private readonly answers = new Map<string, Answer>();
  private readonly perRequest = new WeakMap<
    RequestContext,
    { loader: DataLoader<TrackedShipment, LiveTrackingView>; requests: number }
  >();

  constructor(
    settings: LiveTrackingSettings | null,
    private readonly clock: WallClock = Date,
  ) {
    // No retries: a reader is waiting, and the next query (or the carrier's webhook) brings the news anyway.
    this.api = settings && {
      settings,
      clients: new PlatformClients({
        timeoutMs: settings.timeoutMs,
        retries: 0,
        breaker: { resetTimeoutMs: settings.breakerResetMs },
      }),
    };
  }

  /** The parcel's live tracking, batched with the other shipments of the same request. */
  load(ctx: RequestContext, shipment: TrackedShipment): Promise<LiveTrackingView> {
    let state = this.perRequest.get(ctx);
    if (!state) {
      // Batched, not cached: a subscription's context lives long, and each of its events should ask again.
      state = {
        loader: new DataLoader((shipments) => this.batch(ctx, shipments), { cache: false }),
        requests: 0,
      };
      this.perRequest.set(ctx, state);
    }
    return state.loader.load(shipment);
  }

  /** The breaker in front of the tracking API (CLOSED when it is not configured). */
  breakerState(): BreakerState {
    return this.api?.clients.breakerState(BREAKER_KEY) ?? 'CLOSED';
  }

  close(): void {
    this.api?.clients.close();
  }

  private async batch(
    ctx: RequestContext,
    requested: readonly TrackedShipment[],
  ): Promise<LiveTrackingView[]> {
    // The same shipment twice in a request (aliases, an order read twice) is asked once.
    const shipments = [...new Map(requested.map((s) => [s.id, s])).values()];
    const { api } = this;
    const { metrics } = ctx.hub;
    const answers = api
      ? await inTurns(shipments, CONCURRENT_REQUESTS, (shipment) =>
          this.answer(ctx, api, shipment).catch((err: unknown) => {
            if (!(err instanceof PlatformRequestError)) throw err;
            metrics.trackingLookedUp(err.kind === 'breaker-open' ? 'breaker_open' : 'failed');
            // While the breaker is open every query fails fast: the failures that opened it were logged.
            ctx.logger[err.kind === 'breaker-open' ? 'debug' : 'warn'](
              { err, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber },
              'live tracking: the carrier tracking API gave no answer; the stored events are answered',
            );
            return null;
          }),
        )
      : shipments.map(() => null);
    if (!api) metrics.trackingLookedUp('not_configured', shipments.length);
    const ids = shipments.map((s) => s.id);
    let stored = await storedEvents(ctx, ids);
    const reports = shipments.map((shipment, i) => ({
      shipmentId: shipment.id,
      events: (answers[i]?.events ?? []).filter((e) => !isStored(stored.get(shipment.id) ?? [], e)),
    }));
    if ((await recordCarrierEvents(ctx, reports)) > 0) stored = await storedEvents(ctx, ids);
    const views = new Map(
      shipments.map((shipment, i) => [
        shipment.id,
        {
          events: stored.get(shipment.id) ?? [],
          stale: answers[i] === null,
          fetchedAt: answers[i] ? new Date(answers[i].fetchedAt) : null,
        },
      ]),
    );
    return requested.map((s) => views.get(s.id)!);
  }

  /** The carrier's events for the parcel: from the last minute's answer, or asked now; null over the request's share. */
  private async answer(
    ctx: RequestContext,
    api: NonNullable<LiveTracking['api']>,
    shipment: TrackedShipment,
  ): Promise<Answer | null> {
    const key = `${shipment.carrier.toLowerCase()}\n${shipment.trackingNumber}`;
    const cached = this.answers.get(key);
    const { metrics } = ctx.hub;
    if (cached && this.clock.now() - cached.fetchedAt < ANSWER_TTL_MS) {
      metrics.trackingLookedUp('cached');
      return cached;
    }
    // Kuaidi100 asks that its real-time query not be used in bulk: a page of a thousand parcels asks for some.
    const state = this.perRequest.get(ctx)!;
    if (state.requests >= api.settings.maxPerRequest) {
      metrics.trackingLookedUp('over_limit');
      return null;
    }
    state.requests++;
    const order = await ctx.loaders.orderById.load(shipment.orderId);
    const request = trackingQuery(
      api.settings,
      shipment.carrier,
      shipment.trackingNumber,
      order?.shippingAddress.phone ?? null,
    );
    const { value: reply } = await api.clients.call(BREAKER_KEY, async (signal) => {
      try {
        const reply = trackingReply(await fetchJson(request, signal));
        if (reply.kind === 'unavailable') throw new PlatformRequestError('http', reply.message, 502);
        // A 4xx-like refusal: not retried, and no sign that the carrier is down (the breaker ignores it).
        if (reply.kind === 'refused') throw new PlatformRequestError('http', reply.message, 400);
        return reply;
      } catch (err) {
        if (err instanceof PayloadMappingError) throw new PlatformRequestError('protocol', err.message);
        throw err;
      }
    });
    if (reply.unmapped.length > 0) {
      ctx.logger.warn(
        { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, states: reply.unmapped },
        'live tracking: events in states the hub does not know were left out',
      );
    }
    metrics.trackingLookedUp('fetched');
    const answer = { events: reply.events, fetchedAt: this.clock.now() };
    this.answers.delete(key);
    this.answers.set(key, answer);
    if (this.answers.size > MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
    return answer;
  }
}

/** Shipment.liveTracking, for an entity or a subscription's message. */
export function liveTracking(
  ctx: RequestContext,
  shipment: Shipment | TrackedShipment,
): Promise<LiveTrackingView> {
  const { id, carrier, trackingNumber } = shipment;
  const orderId = 'orderId' in shipment ? shipment.orderId : shipment.order.id;
  return ctx.hub.liveTracking.load(ctx, { id, carrier, trackingNumber, orderId });
}

/**
 * The shipments' events as stored now, oldest first: read afresh (not through the request's loader: a
 * subscription's context outlives what it loaded), from the primary that just recorded them (a replica may lag).
 */
async function storedEvents(
  ctx: RequestContext,
  ids: readonly string[],
): Promise<Map<string, ShipmentEvent[]>> {
  const rows = await ctx.em.find(
    ShipmentEvent,
    { shipment: { $in: [...ids] } },
    { orderBy: { occurredAt: 'asc', id: 'asc' }, refresh: true, connectionType: 'write' },
  );
  const byShipment = new Map<string, ShipmentEvent[]>(ids.map((id) => [id, []]));
  for (const row of rows) byShipment.get(row.shipment.id)?.push(row);
  return byShipment;
}

/** The same event is stored once per (status, time): the unique key shipment_event_once. */
function isStored(stored: readonly ShipmentEvent[], event: CarrierEvent): boolean {
  return stored.some(
    (s) => s.status === event.status && s.occurredAt.getTime() === event.occurredAt.getTime(),
  );
}

/** `work` on every item, at most `limit` at once; the results in the items' order. */
async function inTurns<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
