import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * Keys the hub processes share through their database, made at random by the first process
 * that needs one (`pubsub`: signs the PUBSUB=redis messages), so nothing has to be configured.
 */
@Entity({ tableName: 'hub_secret' })
export class HubSecret {
  @PrimaryKey({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'string', length: 255 })
  value!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Opt<Date> = new Date();
}
