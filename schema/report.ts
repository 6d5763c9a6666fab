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
  @Field(() => MoneyType, {
    description:
      'The sales of every status but CANCELLED (revenue plus the sales since refunded in full; 0 for the ' +
      "CANCELLED row by STATUS): what was sold, before any refund. The lines' totals by PRODUCT.",
  })
  grossRevenue!: MoneyType;
  @Field(() => MoneyType, {
    description:
      'The money that went back in [from, to) (by refundedAt, whenever the sale was placed), for sales of the ' +
      "group (the sale's channel, platform, status; by DAY the day the money went back); cancelled sales' " +
      "refunds left out, as their sales are. By PRODUCT a case's amount is shared among the lines it covers " +
      'by their value, in whole cents.',
  })
  refunds!: MoneyType;
  @Field(() => MoneyType, { description: 'grossRevenue - refunds.' })
  netRevenue!: MoneyType;
}

@ObjectType('ReturnsRow', { simpleResolvers: true })
export class ReturnsRowType {
  @Field(() => String, {
    description:
      "The group's value: a channel code, a product code, a reason class, who is responsible or a day (YYYY-MM-DD).",
  })
  key!: string;
  @Field(() => Int, { description: 'After-sale cases asked for in the range (not REJECTED or CANCELLED).' })
  cases!: number;
  @Field(() => Int, {
    description:
      "Units the cases return: each line's quantity, or the whole order line's when the case does not say; " +
      'none for a case whose goods stay with the buyer (money only).',
  })
  units!: number;
  @Field(() => Int, {
    description:
      'Units of the sales placed in the range (every status but CANCELLED) of the same channel or product; ' +
      'by REASON_CLASS and RESPONSIBLE, of all sales.',
  })
  unitsSold!: number;
  @Field(() => Float, {
    nullable: true,
    description:
      'units / unitsSold, rounded to 4 decimal places (0.0125 = 1.25 %); null when nothing was sold.',
  })
  returnRate!: number | null;
  @Field(() => [MoneyType], {
    description:
      "The cases' refund amounts (asked or paid), one per currency, by currency code. By PRODUCT a case's " +
      'amount is shared among the lines it covers by their value, in whole cents.',
  })
  refundAmounts!: MoneyType[];
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
