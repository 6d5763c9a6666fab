import { BigIntType, Entity, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * Each number the hub sent to a platform for a listing, and how the platform answered: what operators read to
 * see what a platform was told and when. The sync never reads it; the sweep prunes it.
 */
@Entity({ tableName: 'stock_push' })
@Index({ properties: ['listingId', 'createdAt'] })
// The sweep deletes rows past their retention by time.
@Index({ properties: ['createdAt'] })
export class StockPush {
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Property({ type: 'uuid' })
  listingId!: string;

  @Property({ type: 'string', length: 64 })
  channelCode!: string;

  @Property({ type: 'string', length: 128 })
  productCode!: string;

  @Property({ type: 'integer' })
  target!: number;

  /** SET, FAILED, THROTTLED or ERROR (no usable answer). */
  @Property({ type: 'string', length: 16 })
  outcome!: string;

  @Property({ type: 'text', nullable: true })
  detail: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
