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
    private readonly sql: Sql,
  ) {}

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
        const page = await loadOrderEvents(this.sql, last, REPLAY_PAGE, filter, level);
        for (const event of page) yield event;
        last = page.length < REPLAY_PAGE ? level : BigInt(page[page.length - 1].seq);
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
