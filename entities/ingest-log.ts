import { BigIntType, Entity, Enum, Index, PrimaryKey, Property, Unique, type Opt } from '@mikro-orm/core';
import { IngestOutcome, IngestSource } from '../common/enums.js';

/** Every body a channel sent, written before it is processed, so a failure can be read and replayed. */
@Entity({ tableName: 'ingest_log' })
@Index({ properties: ['outcome', 'receivedAt'] })
@Index({ properties: ['channelCode', 'receivedAt'] })
@Unique({ name: 'ingest_log_body_once', properties: ['channelCode', 'bodySha256'] })
export class IngestLog {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Property({ type: 'string', length: 64 })
  channelCode!: string;

  @Enum({ items: () => IngestSource, type: 'string' })
  source!: IngestSource;

  /** Kept as text, byte for byte: the body may not even be JSON. */
  @Property({ type: 'text' })
  rawBody!: string;

  /** SHA-256 (hex) of `rawBody`: the same body from the same channel is logged and processed once. */
  @Property({ type: 'string', length: 64, nullable: true })
  bodySha256: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receivedAt: Opt<Date> = new Date();

  @Enum({ items: () => IngestOutcome, type: 'string' })
  outcome: Opt<IngestOutcome> = IngestOutcome.RECEIVED;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  externalId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  orderId: string | null = null;

  /** The after-sale case a refund body came to (services/returns.ts); refunds leave `orderId` null. */
  @Property({ type: 'uuid', nullable: true })
  returnId: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  processedAt: Date | null = null;
}
