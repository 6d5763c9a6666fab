import { SubscriberFellBehindError } from '../common/errors.js';
import type { StockAlertKind } from '../common/enums.js';
import type { ChannelStockView } from '../services/channel-stock.js';
import type { OrderEventMessage, ShipmentMessage } from './order-events.js';

/** A stored stock alert, shaped like the GraphQL `StockAlert`. */
export interface StockAlertEvent {
  id: string;
  kind: StockAlertKind;
  productCode: string;
  available: number;
  threshold: number | null;
  message: string;
  channelsClosed: string[];
  channelsReopened: string[];
  channelCode: string | null;
  bucketStart: Date | null;
  expectedOrders: number | null;
  actualOrders: number | null;
  /** The order it is about (RISK, an oversold or unknown line). */
  orderId: string | null;
  createdAt: Date;
}

/** An inventory item's committed figures, shaped like the GraphQL `InventoryItem`. */
export interface InventoryEvent {
  productCode: string;
  onHand: number;
  reserved: number;
  available: number;
  safetyStock: number;
  updatedAt: Date;
}

export interface HubEventMap {
  stockAlert: StockAlertEvent;
  inventoryChanged: InventoryEvent;
  orderEvent: OrderEventMessage;
  shipmentUpdated: ShipmentMessage;
  /** A listing's state, confirmed number or error changed (shaped like the GraphQL `ChannelStock`). */
  channelStockChanged: ChannelStockView;
}
export type HubTopic = keyof HubEventMap;

/** How many events may wait for one slow subscriber before it is ended. */
export const DEFAULT_MAX_QUEUE = 1000;

/** How a subscriber that fell behind gets what it missed: only order events can be replayed (`after`). */
const CATCH_UP: Record<HubTopic, string> = {
  orderEvent: 'subscribe to orderStatusChanged again with after: <the last seq received>',
  shipmentUpdated: "query the order's shipments for their current state, then subscribe again",
  stockAlert:
    "read the missed alerts with the stockAlerts query (since: the last alert's createdAt), then subscribe again",
  inventoryChanged: 'query the current stock with inventory(productCode), then subscribe again',
  channelStockChanged: 'query the listings with product(productCode) { channelStock }, then subscribe again',
};

// Re-exported with Delivery, the type it belongs to.

/** What a subscriber's iterator yields: an event, or the marker that it fell behind (its last item). */
export type Delivery<T> = T | SubscriberFellBehindError;

type Listener<T> = (event: T) => void;

/**
 * The in-process fan-out of one hub: topic → listeners. Publishing never waits for a
 * subscriber: each has its own bounded queue.
 */
export class EventBus {
  private readonly listeners = new Map<HubTopic, Set<Listener<never>>>();
  private readonly closers = new Set<() => void>();
  /** Per topic, what ends each subscriber with SubscriberFellBehindError (`why` it missed events). */
  private readonly droppers = new Map<HubTopic, Set<(why: string) => void>>();

  publish<K extends HubTopic>(topic: K, event: HubEventMap[K]): void {
    const set = this.listeners.get(topic) as Set<Listener<HubEventMap[K]>> | undefined;
    if (!set) return;
    for (const listener of [...set]) listener(event);
  }

  listenerCount(topic?: HubTopic): number {
    if (topic) return this.listeners.get(topic)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Events of `topic` that pass `filter`, until the consumer returns or falls `maxQueue` behind. */
  subscribe<K extends HubTopic>(
    topic: K,
    filter: (event: HubEventMap[K]) => boolean = () => true,
    maxQueue = DEFAULT_MAX_QUEUE,
  ): AsyncIterableIterator<Delivery<HubEventMap[K]>> {
    type T = Delivery<HubEventMap[K]>;
    const queue: T[] = [];
    let waiting: ((result: IteratorResult<T>) => void) | null = null;
    let ended = false;

    const set = (this.listeners.get(topic) ?? new Set()) as Set<Listener<HubEventMap[K]>>;
    this.listeners.set(topic, set as Set<Listener<never>>);
    const drops = this.droppers.get(topic) ?? new Set();
    this.droppers.set(topic, drops);

    const detach = () => {
      set.delete(listener);
      drops.delete(drop);
      this.closers.delete(end);
    };
    const deliver = (item: T) => {
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: item, done: false });
      } else {
        queue.push(item);
      }
    };
    const drop = (why: string) => {
      if (ended) return;
      queue.length = 0;
      ended = true;
      detach();
      deliver(new SubscriberFellBehindError(why, CATCH_UP[topic]));
    };
    const listener: Listener<HubEventMap[K]> = (event) => {
      if (ended || !filter(event)) return;
      if (queue.length >= maxQueue) return drop(`fell more than ${maxQueue} events behind`);
      deliver(event);
    };
    const end = () => {
      ended = true;
      detach();
      queue.length = 0;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: undefined, done: true });
      }
    };
    set.add(listener);
    drops.add(drop);
    this.closers.add(end);

    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: () => {
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (err?: unknown) => {
        end();
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Ends every subscriber of `topic` with SubscriberFellBehindError: it missed events (`why`) and must catch up. */
  dropSubscribers(topic: HubTopic, why: string): void {
    for (const drop of [...(this.droppers.get(topic) ?? [])]) drop(why);
  }

  /** Ends every subscriber (the hub is stopping). */
  close(): void {
    for (const end of [...this.closers]) end();
  }
}
