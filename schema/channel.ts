import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { ConnectorHealth, IngestionMode, Platform } from '../common/enums.js';
import { DateTimeScalar } from './scalars.js';

// simpleResolvers, on the types a page of orders shows: their plain fields have no middleware and no per-field
// auth, so graphql-js reads them itself rather than through a type-graphql wrapper per field of every row.
@ObjectType('Channel', { simpleResolvers: true })
@Directive('@key(fields: "id")')
export class ChannelType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'Unique slug, e.g. "douyin-live".' }) code!: string;
  @Field(() => Platform) platform!: Platform;
  @Field(() => String) name!: string;
  @Field(() => Boolean, { description: 'Core channels stay open below safety stock.' }) isCore!: boolean;
  @Field(() => Boolean, { description: 'False while closed by safety stock or by hand.' })
  salesOpen!: boolean;
  @Field(() => [IngestionMode]) ingestionModes!: IngestionMode[];
  @Field(() => ConnectorHealth) health!: ConnectorHealth;
  @Field(() => DateTimeScalar, { nullable: true }) lastHeartbeatAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) lastOrderAt!: Date | null;
}
