import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Channel } from '../entities/index.js';
import type { IngestSource } from '../common/enums.js';
import { IngestBusyError } from '../common/errors.js';
import { ThrottledWarning } from '../common/log-throttle.js';
import { RequestContext, type HubServices } from './context.js';
import { ingestRawMany, isRefusedData, type IngestResult } from './order-gateway.js';

interface Pending {
  rawBody: string;
  deliveryId: string | null;
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

/**
 * Gathers the payloads that arrive together (webhook deliveries) and stores them
 * in shared transactions: one commit and a handful of statements for a batch
 * instead of for each order. Under light load a batch is one payload and adds no
 * wait; under heavy load batches grow while the previous ones are being written.
 * Each caller still gets its own answer, only after its order is committed. It holds at
 * most `maxPending` payloads of `maxPendingBytes` in all, from arrival until answered; over
 * that a delivery is refused with IngestBusyError (503: the platform delivers it again).
 */
export class IngestBatcher {
  private readonly queues = new Map<string, { channel: Channel; source: IngestSource; items: Pending[] }>();
  private running = 0;
  private scheduled = false;
  private pending = 0;
  private pendingBytes = 0;
  private readonly refusals: ThrottledWarning;

  constructor(
    private readonly deps: {
      em: EntityManager;
      logger: Logger;
      hub: HubServices;
      /** Most payloads in one transaction. */
      maxBatch?: number;
      /** Most transactions writing at once. */
      maxConcurrent?: number;
      /** Most payloads held (waiting or being written). */
      maxPending: number;
      /** Most bytes of payloads held. */
      maxPendingBytes: number;
    },
  ) {
    this.refusals = new ThrottledWarning(
      deps.logger,
      'webhooks: too many deliveries waiting; answering 503 until some are stored',
    );
  }

  submit(
    channel: Channel,
    source: IngestSource,
    rawBody: string,
    deliveryId: string | null = null,
  ): Promise<IngestResult> {
    return this.held(
      rawBody,
      () =>
        new Promise<IngestResult>((resolve, reject) => {
          const key = `${channel.id}:${source}`;
          const queue = this.queues.get(key) ?? { channel, source, items: [] };
          queue.items.push({ rawBody, deliveryId, resolve, reject });
          this.queues.set(key, queue);
          this.schedule();
        }),
    );
  }

  /**
   * A delivery stored beside the batches (an after-sale record, in its own transaction), held under the same
   * limits as the orders: a flood of refunds is refused as a flood of orders is.
   */
  alongside<T>(rawBody: string, store: () => Promise<T>): Promise<T> {
    return this.held(rawBody, store);
  }

  /** Counts a payload as held from now until `work` settles, or refuses it with IngestBusyError when full. */
  private held<T>(rawBody: string, work: () => Promise<T>): Promise<T> {
    const bytes = Buffer.byteLength(rawBody);
    if (this.pending >= this.deps.maxPending || this.pendingBytes + bytes > this.deps.maxPendingBytes) {
      this.refusals.warn({ pending: this.pending, pendingBytes: this.pendingBytes });
      return Promise.reject(new IngestBusyError());
    }
    this.pending++;
    this.pendingBytes += bytes;
    const answered = work();
    const release = () => {
      this.pending--;
      this.pendingBytes -= bytes;
    };
    answered.then(release, release);
    return answered;
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain() {
    const maxBatch = this.deps.maxBatch ?? 100;
    const maxConcurrent = this.deps.maxConcurrent ?? 4;
    for (const [key, queue] of this.queues) {
      while (queue.items.length > 0 && this.running < maxConcurrent) {
        const batch = queue.items.splice(0, maxBatch);
        this.running++;
        void this.write(queue.channel, queue.source, batch).finally(() => {
          this.running--;
          if ([...this.queues.values()].some((q) => q.items.length > 0)) this.schedule();
        });
      }
      if (queue.items.length === 0) this.queues.delete(key);
    }
  }

  private async write(channel: Channel, source: IngestSource, batch: Pending[]) {
    const ctx = RequestContext.system(this.deps.em.fork(), this.deps.logger, this.deps.hub, 'ingest-batch');
    try {
      const results = await ingestRawMany(
        ctx,
        channel,
        source,
        batch.map((p) => p.rawBody),
        { deliveryIds: batch.map((p) => p.deliveryId) },
      );
      results.forEach((result, i) =>
        'error' in result ? batch[i].reject(result.error) : batch[i].resolve(result),
      );
    } catch (err) {
      // One payload the database refuses fails its whole transaction: the others go again alone, so
      // it does not turn up to maxBatch good deliveries into 503s (and their retries into more).
      if (batch.length > 1 && isRefusedData(err)) {
        for (const p of batch) await this.write(channel, source, [p]);
        return;
      }
      // Answered 503: the platform sends them again.
      this.deps.hub.metrics.ingested(channel.code, source, 'failed', batch.length);
      for (const p of batch) p.reject(err);
    }
  }
}
