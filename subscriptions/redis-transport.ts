import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { FeedTransport } from './order-feed.js';
import type { OrderEventMessage } from './order-events.js';

function connectTo(url: string) {
  return createClient({ url });
}
type Client = ReturnType<typeof connectTo>;

/**
 * PUBSUB=redis: the process that numbers events publishes them once to a Redis channel
 * and every process receives them from there, so N processes do not each read them
 * from PostgreSQL. Redis pub/sub may drop a message (a reconnect, a slow link): the
 * feed sees the gap in the seqs and reads the missing events from the table.
 */
export class RedisTransport implements FeedTransport {
  private publisher: Client | null = null;
  private subscriber: Client | null = null;

  constructor(
    private readonly url: string,
    /** One channel per hub database, so hubs on other databases sharing the Redis are not heard. */
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(receive: (events: OrderEventMessage[]) => void): Promise<void> {
    const publisher = connectTo(this.url);
    const subscriber = publisher.duplicate();
    for (const client of [publisher, subscriber])
      client.on('error', (err: unknown) =>
        this.logger.warn({ err }, 'subscriptions: Redis connection problem'),
      );
    this.publisher = publisher;
    this.subscriber = subscriber;
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe(this.channel, (message) => {
      let events: OrderEventMessage[];
      try {
        events = (JSON.parse(message) as (OrderEventMessage & { at: string })[]).map((e) => ({
          ...e,
          at: new Date(e.at),
        }));
      } catch (err) {
        this.logger.warn({ err }, 'subscriptions: unreadable message on the Redis channel, ignored');
        return;
      }
      receive(events);
    });
  }

  async announce(events: OrderEventMessage[]): Promise<void> {
    try {
      await this.publisher?.publish(this.channel, JSON.stringify(events));
    } catch (err) {
      // The other processes read these from the table on their next safety tick.
      this.logger.warn({ err }, 'subscriptions: could not publish to Redis');
    }
  }

  async stop(): Promise<void> {
    const clients = [this.subscriber, this.publisher];
    this.subscriber = null;
    this.publisher = null;
    await Promise.all(clients.map((c) => (c?.isOpen ? c.close() : undefined)));
  }
}
