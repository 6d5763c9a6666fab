import type { Logger } from 'pino';
import { OrderEventType } from '../common/enums.js';
import type { HubMetrics } from '../services/metrics.js';
import type { EventBus } from './bus.js';
import {
  highestSeq,
  loadOrderEvents,
  loadShipmentUpdates,
  numberOrderEvents,
  type OrderEventMessage,
  type Sql,
} from './order-events.js';

/** How the events one process numbers reach every hub process (the PUBSUB setting). */
export interface FeedTransport {
  /** Starts handing what any process announces to `receive`. */
  start(receive: (events: OrderEventMessage[]) => void): Promise<void>;
  /** This process has just numbered `events` (in seq order): tell every process. */
  announce(events: OrderEventMessage[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * PostgreSQL only: numbering already sends NOTIFY `hub_order_event` on commit, and every
 * process's listener answers it by reading the new events (`OrderEventFeed.catchUp`).
 */
export class PostgresTransport implements FeedTransport {
  async start(): Promise<void> {}
  async announce(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** One process: what it numbers goes straight to its own subscribers. */
export class MemoryTransport implements FeedTransport {
  private receive: ((events: OrderEventMessage[]) => void) | null = null;
  async start(receive: (events: OrderEventMessage[]) => void): Promise<void> {
    this.receive = receive;
  }
  async announce(events: OrderEventMessage[]): Promise<void> {
    this.receive?.(events);
  }
  async stop(): Promise<void> {
    this.receive = null;
  }
}

const PAGE = 1000;

export interface OrderEventFeedOptions {
  sql: Sql;
  bus: EventBus;
  transport: FeedTransport;
  logger: Logger;
  /** Where the lag of each event published is observed. */
  metrics: HubMetrics;
  /** How often the feed looks for events whose wake-up was lost (a safety net, not the path). */
  safetyIntervalMs?: number;
}

/**
 * Publishes numbered order events to this process's bus in seq order, each exactly
 * once, whatever route they come by: a transport message, a notification, a reconnect
 * or the safety tick. The table is the truth: a gap in what arrives is filled from it.
 * Also numbers the events any process stores, whenever it is woken.
 */
export class OrderEventFeed {
  private last = 0n;
  private work: Promise<void> = Promise.resolve();
  private numbering = false;
  private numberAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: OrderEventFeedOptions) {}

  /** The highest seq published to this process's subscribers. */
  get lastSeq(): bigint {
    return this.last;
  }

  async start(): Promise<void> {
    this.last = await highestSeq(this.options.sql);
    await this.options.transport.start((events) => this.accept(events));
    this.timer = setInterval(() => {
      this.pending();
      this.catchUp();
    }, this.options.safetyIntervalMs ?? 1000);
    this.timer.unref();
    this.pending();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.work;
    await this.options.transport.stop();
  }

  /** Events were stored somewhere: number them; a wake-up during a run makes one more run. */
  pending(): void {
    if (this.stopped) return;
    if (this.numbering) {
      this.numberAgain = true;
      return;
    }
    this.numbering = true;
    void this.numberWhileWoken();
  }

  private async numberWhileWoken(): Promise<void> {
    try {
      do {
        this.numberAgain = false;
        const events = await numberOrderEvents(this.options.sql);
        if (events.length > 0) await this.options.transport.announce(events);
      } while (this.numberAgain && !this.stopped);
    } catch (err) {
      this.options.logger.error({ err }, 'order events: numbering failed; the next wake-up retries');
    } finally {
      this.numbering = false;
    }
  }

  /** Reads and publishes everything numbered after what was published. */
  catchUp(): void {
    this.enqueue(() => this.fill());
  }

  /** Events announced by a transport: published in order, a gap before them filled from the table. */
  accept(events: OrderEventMessage[]): void {
    this.enqueue(async () => {
      const sorted = [...events].sort((a, b) => compareSeq(a.seq, b.seq));
      const first = sorted.find((e) => BigInt(e.seq) > this.last);
      if (!first) return;
      if (BigInt(first.seq) > this.last + 1n) {
        await this.fill();
        return;
      }
      await this.publish(sorted.filter((e) => BigInt(e.seq) > this.last));
    });
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.stopped) return;
    this.work = this.work.then(task).catch((err: unknown) => {
      this.options.logger.error({ err }, 'order events: could not publish; the next wake-up retries');
    });
  }

  private async fill(): Promise<void> {
    for (;;) {
      const page = await loadOrderEvents(this.options.sql, this.last, PAGE);
      await this.publish(page);
      if (page.length < PAGE) return;
    }
  }

  private async publish(events: OrderEventMessage[]): Promise<void> {
    const { bus, sql } = this.options;
    const updates: OrderEventMessage[] = [];
    for (const event of events) {
      if (BigInt(event.seq) <= this.last) continue;
      this.last = BigInt(event.seq);
      bus.publish('orderEvent', event);
      this.options.metrics.eventDelivered('orderEvent', event.at);
      if (event.type === OrderEventType.SHIPMENT_UPDATED) updates.push(event);
    }
    if (updates.length === 0 || bus.listenerCount('shipmentUpdated') === 0) return;
    for (const shipment of await loadShipmentUpdates(sql, updates)) bus.publish('shipmentUpdated', shipment);
  }
}

function compareSeq(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
