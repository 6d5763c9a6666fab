import { Field, Float, ID, ObjectType } from 'type-graphql';
import { RiskKind } from '../common/enums.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType('RiskFlag', { description: "A risk rule's finding on an order: one per order and kind." })
export class RiskFlagType {
  @Field(() => ID) id!: string;
  @Field(() => ID) orderId!: string;
  @Field(() => RiskKind) kind!: RiskKind;
  @Field(() => Float, {
    description:
      'How far past its threshold: 1 at the threshold, more beyond (see the README for each rule).',
  })
  score!: number;
  @Field(() => String) reason!: string;
  @Field(() => JSONScalar, { nullable: true, description: 'The figures behind the finding.' })
  detail!: unknown;
  @Field(() => DateTimeScalar, { description: 'When the rule flagged the order.' }) at!: Date;
  @Field(() => Boolean) resolved!: boolean;
  @Field(() => DateTimeScalar, { nullable: true }) resolvedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The id of the key that resolved it.' })
  resolvedBy!: string | null;
  @Field(() => String, { nullable: true }) resolutionNote!: string | null;
}

@ObjectType('RiskRule', { description: "A risk rule's switch and thresholds (setRiskRule)." })
export class RiskRuleType {
  @Field(() => RiskKind) kind!: RiskKind;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => JSONScalar, { description: "The rule's thresholds and windows, each named." })
  params!: unknown;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Null while the rule runs on its defaults.' })
  updatedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The id of the key that set it.' })
  updatedBy!: string | null;
}
