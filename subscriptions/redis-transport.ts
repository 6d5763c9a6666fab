import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import { z } from 'zod';
import { OrderStatus } from '../common/enums.js';
import { mac, macValid } from '../common/hmac.js';
import { ThrottledWarning } from '../common/log-throttle.js';
import type { FeedTransport } from './order-feed.js';
import type { OrderEventMessage, Sql } from './order-events.js';

function connectTo(url: string) {
  return createClient({ url });
}
type Client = ReturnType<typeof connectTo>;

/** What a hub process publishes: numbered order events, as `announce` writes them. */
const announced = z.array(
  z.object({
    seq: z.string().regex(/^[1-9]\d{0,18}$/),
    orderId: z.uuid(),
    channelCode: z.string().max(64),
    type: z.string().max(32),
    fromStatus: z.enum(OrderStatus).nullable(),
    toStatus: z.enum(OrderStatus).nullable(),
    at: z.iso.datetime({ offset: true }).transform((at) => new Date(at)),
    source: z.string().max(64),
    detail: z.record(z.string(), z.unknown()).nullable(),
  }),
);

const HEX_MAC = 64;

/**
 * The key the hub processes sign their Redis messages with: made at random by the first
 * process and kept in the database they share, so whoever can publish on the Redis but not
 * read the hub's database cannot speak for the hub, and nothing needs configuring.
 */
export async function pubsubKey(sql: Sql): Promise<string> {
  await sql(`insert into hub_secret (name, value) values ('pubsub', $1) on conflict (name) do nothing`, [
    randomBytes(32).toString('hex'),
  ]);
  const [row] = await sql<{ value: string }>(`select value from hub_secret where name = 'pubsub'`);
  return row.value;
}

/**
 * PUBSUB=redis: the process that numbers events publishes them once to a Redis channel
 * and every process receives them from there, so N processes do not each read them
 * from PostgreSQL. Redis pub/sub may drop a message (a reconnect, a slow link): the
 * feed sees the gap in the seqs and reads the missing events from the table. Each message
 * is `<hex HMAC of the JSON>.<JSON>` with the shared key; one unsigned or of another shape
 * is dropped, so a foreign publisher can neither inject events nor push the feed's seq ahead.
 */
export class RedisTransport implements FeedTransport {
  private publisher: Client | null = null;
  private subscriber: Client | null = null;
  private readonly dropped: ThrottledWarning;

  constructor(
    private readonly url: string,
    /** One channel per hub database, so hubs on other databases sharing the Redis are not heard. */
    private readonly channel: string,
    private readonly logger: Logger,
    /** From `pubsubKey`. */
    private readonly key: string,
  ) {
    this.dropped = new ThrottledWarning(
      logger,
      'subscriptions: unsigned or malformed message on the Redis channel, ignored',
    );
  }

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
      const events = this.read(message);
      if (events) receive(events);
    });
  }

  private read(message: string): OrderEventMessage[] | null {
    const body = message.slice(HEX_MAC + 1);
    if (message[HEX_MAC] !== '.' || !macValid(this.key, body, message.slice(0, HEX_MAC))) {
      this.dropped.warn({ reason: 'signature' });
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      this.dropped.warn({ reason: 'not JSON' });
      return null;
    }
    const parsed = announced.safeParse(json);
    if (!parsed.success) {
      this.dropped.warn({ reason: 'shape', issue: parsed.error.issues[0]?.path.join('.') });
      return null;
    }
    return parsed.data;
  }

  async announce(events: OrderEventMessage[]): Promise<void> {
    const body = JSON.stringify(events);
    try {
      await this.publisher?.publish(this.channel, `${mac(this.key, body)}.${body}`);
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
