import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { OutboundDelivery } from './outbound-delivery.js';

/** One try at a webhook delivery: what came back, how long it took, and when the next try is. */
@Entity({ tableName: 'outbound_attempt' })
@Index({ properties: ['delivery', 'id'] })
export class OutboundAttempt {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => OutboundDelivery, deleteRule: 'cascade' })
  delivery!: OutboundDelivery;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'integer' })
  durationMs!: number;

  /** null: no HTTP answer (timeout, refused connection, a private address refused). */
  @Property({ type: 'integer', nullable: true })
  statusCode: number | null = null;

  /** The first kilobyte of the reply's body. */
  @Property({ type: 'text', nullable: true })
  response: string | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /** null: delivered, or given up. */
  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null = null;
}
