import { Field, ID, Int, ObjectType } from 'type-graphql';
import { RefundKind, RefundReasonClass, RefundResponsible, RefundStatus } from '../common/enums.js';
import { ChannelType } from './channel.js';
import { MoneyType, OrderLineType, OrderType, PageInfoType } from './order.js';
import { DateTimeScalar } from './scalars.js';

// The after-sale API: one `Return` per platform case (a refund, a return or an exchange).

@ObjectType('ReturnLine', { simpleResolvers: true })
export class ReturnLineType {
  @Field(() => OrderLineType, {
    nullable: true,
    description:
      "The order line it covers; null until the order is in the hub or when the platform's line matched none.",
  })
  orderLine!: OrderLineType | null;
  @Field(() => String, { nullable: true }) productCode!: string | null;
  @Field(() => String, { nullable: true, description: "The platform's SKU id." }) platformSkuId!:
    string | null;
  @Field(() => String, { nullable: true, description: "The platform's id of the order line." })
  platformLineId!: string | null;
  @Field(() => Int, {
    nullable: true,
    description: 'Units covered; null when the platform does not say (then the whole line).',
  })
  quantity!: number | null;
  @Field(() => Int, { description: 'Units of this line put back on hand.' }) restocked!: number;
  @Field(() => Int, { description: 'Units received into quarantine, not yet accepted back into stock.' })
  quarantined!: number;
}

@ObjectType('ReturnEvent', { simpleResolvers: true })
export class ReturnEventType {
  @Field(() => RefundStatus, { nullable: true }) fromStatus!: RefundStatus | null;
  @Field(() => RefundStatus) toStatus!: RefundStatus;
  @Field(() => String, { description: "The platform's own status word or code." }) platformStatus!: string;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { description: 'Channel code, "api" or "system".' }) source!: string;
}

@ObjectType('Return', {
  description: 'One after-sale case of a platform: a refund, a return or an exchange.',
})
export class ReturnType {
  @Field(() => ID) id!: string;
  @Field(() => ChannelType) channel!: ChannelType;
  @Field(() => String, { description: "The platform's id of the after-sale record." }) refundId!: string;
  @Field(() => String, { description: "The order's externalId on the channel." }) externalId!: string;
  @Field(() => OrderType, { nullable: true, description: 'Null while the hub has not seen the order yet.' })
  order!: OrderType | null;
  @Field(() => RefundKind) kind!: RefundKind;
  @Field(() => RefundStatus) status!: RefundStatus;
  @Field(() => String, { description: "The platform's own status word or code, as last sent." })
  platformStatus!: string;
  @Field(() => Boolean, { nullable: true, description: 'Whether goods come back; null when not told.' })
  goodsReturned!: boolean | null;
  @Field(() => [ReturnLineType]) lines!: ReturnLineType[];
  @Field(() => MoneyType) refundAmount!: MoneyType;
  @Field(() => String, { nullable: true }) reasonText!: string | null;
  @Field(() => String, { nullable: true, description: "The platform's reason code." }) reasonCode!:
    string | null;
  @Field(() => RefundReasonClass) reasonClass!: RefundReasonClass;
  @Field(() => RefundResponsible) responsible!: RefundResponsible;
  @Field(() => String, { nullable: true }) returnTrackingNumber!: string | null;
  @Field(() => String, { nullable: true }) returnCarrier!: string | null;
  @Field(() => DateTimeScalar) requestedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) receivedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) refundedAt!: Date | null;
  @Field(() => DateTimeScalar) updatedAt!: Date;
  @Field(() => ID, {
    nullable: true,
    description:
      "The seq of the case's latest RETURN_UPDATED entry on its order's timeline (in a returnUpdated message, " +
      "of the entry that sent it): returnUpdated's `after` to resume from. Null while the case waits for its order.",
  })
  updateSeq!: string | null;
  @Field(() => [ReturnEventType], { description: 'Every status the case moved through, oldest first.' })
  timeline!: ReturnEventType[];
}

@ObjectType('ReturnEdge', { simpleResolvers: true })
export class ReturnEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => ReturnType) node!: ReturnType;
}

@ObjectType('ReturnConnection', { simpleResolvers: true })
export class ReturnConnectionType {
  @Field(() => [ReturnEdgeType]) edges!: ReturnEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
}
