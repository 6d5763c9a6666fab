import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Semaphore } from 'async-mutex';
import { SubscriberFellBehindError } from '../common/errors.js';
import type { Delivery, EventBus } from './bus.js';
import type { OrderEventFeed } from './order-feed.js';
import {
  loadOrderEvents,
  matchesEvent,
  type EventFilter,
  type OrderEventMessage,
  type ShipmentMessage,
  type Sql,
} from './order-events.js';

const REPLAY_PAGE = 500;
/**
 * Replayed events handed on between two turns of the event loop: a page is otherwise sent in one
 * go, and live events (and requests) would wait behind it.
 */
const REPLAY_SLICE = 25;

/**
 * How far one shared source stream may lag a burst. It feeds a fan-out group, whose
 * sockets each have their own, smaller limit (SUBSCRIBER_MAX_QUEUE).
 */
const SOURCE_QUEUE = 100_000;

export interface ShipmentFilter {
  orderId?: string | null;
  trackingNumber?: string | null;
  channelCode?: string | null;
}

/** The event streams a subscription resolver can open on its hub process. */
export class HubStreams {
  constructor(
    readonly bus: EventBus,
    private readonly feed: OrderEventFeed,
    /** Reads history for replays: its own small pool, never the feed's (see server/app.ts). */
    private readonly replaySql: Sql,
    /**
     * Replays reading or handing on a page at once (the replay pool's size); the others wait their
     * turn, page by page. However many clients replay, live events wait behind at most this many slices.
     */
    replaysAtOnce = 2,
    /**
     * Replayed events this process hands on per second, all replays together: what is left of the
     * CPU stays with live events however many clients replay at once.
     */
    replayEventsPerSecond = 5_000,
  ) {
    this.replayTurns = new Semaphore(replaysAtOnce);
    this.replayBudget = new EventBudget(replayEventsPerSecond);
  }

  private readonly replayTurns: Semaphore;
  private readonly replayBudget: EventBudget;

  /**
   * Order events that pass `filter`: with `after`, first every stored one after that
   * seq, then live ones, with no gap and no duplicate at the switch-over.
   */
  async *orderEvents(filter: EventFilter, after: bigint | null): AsyncGenerator<Delivery<OrderEventMessage>> {
    // Listening starts before the table is read. Everything up to `level` was published
    // before this line, everything after it will arrive live, so the table is read up to
    // `level` only and nothing is missed or sent twice.
    const live = this.bus.subscribe('orderEvent', (e) => matchesEvent(filter, e), SOURCE_QUEUE);
    const level = this.feed.lastSeq;
    try {
      let last = after;
      while (last !== null && last < level) {
        const [, release] = await this.replayTurns.acquire();
        try {
          const page = await loadOrderEvents(this.replaySql, last, REPLAY_PAGE, filter, level);
          for (const [i, event] of page.entries()) {
            if (i % REPLAY_SLICE === 0) await this.replayBudget.take(Math.min(REPLAY_SLICE, page.length - i));
            yield event;
          }
          last = page.length < REPLAY_PAGE ? level : BigInt(page[page.length - 1].seq);
        } finally {
          release();
        }
      }
      for await (const item of live) {
        if (item instanceof SubscriberFellBehindError) {
          yield item;
          return;
        }
        if (after !== null && BigInt(item.seq) <= after) continue;
        yield item;
      }
    } finally {
      await live.return?.();
    }
  }

  shipments(filter: ShipmentFilter): AsyncIterableIterator<Delivery<ShipmentMessage>> {
    return this.bus.subscribe(
      'shipmentUpdated',
      (s) =>
        (filter.orderId == null || s.orderId === filter.orderId) &&
        (filter.trackingNumber == null || s.trackingNumber === filter.trackingNumber) &&
        (filter.channelCode == null || s.channelCode === filter.channelCode),
      SOURCE_QUEUE,
    );
  }
}

/**
 * A token bucket: `take(n)` resolves once n events fit in `perSecond` (bursts up to a tenth
 * of a second's worth), always on a later turn of the event loop.
 */
class EventBudget {
  private tokens: number;
  private refilledAt = performance.now();
  private readonly burst: number;

  constructor(private readonly perSecond: number) {
    this.burst = Math.max(REPLAY_SLICE, perSecond / 10);
    this.tokens = this.burst;
  }

  async take(n: number): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
      this.refilledAt = now;
      if (this.tokens >= n) {
        this.tokens -= n;
        await nextTurn();
        return;
      }
      await sleep(Math.ceil(((n - this.tokens) * 1000) / this.perSecond));
    }
  }
}
