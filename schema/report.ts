import { Field, Float, Int, ObjectType } from 'type-graphql';
import { MoneyType } from './order.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType('SalesRow')
export class SalesRowType {
  @Field(() => String, { description: "The group's value: a channel code, a day (YYYY-MM-DD), ..." })
  key!: string;
  @Field(() => Int) orders!: number;
  @Field(() => Int) units!: number;
  @Field(() => MoneyType) revenue!: MoneyType;
}

@ObjectType('StageDuration')
export class StageDurationType {
  @Field(() => String, {
    description: 'PAID_TO_PACKED, PACKED_TO_SHIPPED, SHIPPED_TO_DELIVERED, PLACED_TO_PAID',
  })
  stage!: string;
  @Field(() => Int) orders!: number;
  @Field(() => Float) avgSeconds!: number;
  @Field(() => Float) p50Seconds!: number;
  @Field(() => Float) p90Seconds!: number;
}

@ObjectType('VolumeAnomaly')
export class VolumeAnomalyType {
  @Field(() => String) channelCode!: string;
  @Field(() => DateTimeScalar) bucketStart!: Date;
  @Field(() => Int) orders!: number;
  @Field(() => Float) baseline!: number;
  @Field(() => Float, { description: 'Flagged when beyond the tolerance (+/-30% by default).' })
  deviationPercent!: number;
}

@ObjectType('OrderFlowBucket', { simpleResolvers: true })
export class OrderFlowBucketType {
  @Field(() => DateTimeScalar) bucketStart!: Date;
  @Field(() => String) channelCode!: string;
  @Field(() => Int) orders!: number;
}
