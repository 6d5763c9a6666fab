import { Directive, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { StockAlertKind } from '../common/enums.js';
import { DateTimeScalar, DecimalScalar } from './scalars.js';

// simpleResolvers, on the types a page of orders shows: their plain fields have no middleware and no per-field
// auth, so graphql-js reads them itself rather than through a type-graphql wrapper per field of every row.
@ObjectType('InventoryItem', { simpleResolvers: true })
export class InventoryItemType {
  @Field(() => String) productCode!: string;
  @Field(() => Int, { description: 'Physical units in the central pool.' }) onHand!: number;
  @Field(() => Int, { description: 'Units held by unpaid orders.' }) reserved!: number;
  @Field(() => Int, { description: 'onHand - reserved, never below zero.' }) available!: number;
  @Field(() => Int, { description: 'At or below this, non-core channels close.' }) safetyStock!: number;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType('Product', { simpleResolvers: true })
@Directive('@key(fields: "id")')
@Directive('@key(fields: "productCode")')
export class ProductType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'The canonical SKU every channel maps to.' }) productCode!: string;
  @Field(() => String) name!: string;
  @Field(() => Boolean) coldChain!: boolean;
  @Field(() => Boolean, {
    description: 'Returned units wait in quarantine for inspection (setInspectReturns).',
  })
  inspectReturns!: boolean;
  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'What the MISMATCH risk rule compares lines with.',
  })
  listPrice!: string | null;
  @Field(() => InventoryItemType) inventory!: InventoryItemType;
  @Field(() => [String], { description: 'Channel codes where safety stock has closed this product.' })
  closedOnChannels!: string[];
}

@ObjectType('StockAlert')
export class StockAlertType {
  @Field(() => ID) id!: string;
  @Field(() => StockAlertKind) kind!: StockAlertKind;
  @Field(() => String, { description: 'Empty for VOLUME_ANOMALY, which is about a channel.' })
  productCode!: string;
  @Field(() => Int) available!: number;
  @Field(() => Int, { nullable: true }) threshold!: number | null;
  @Field(() => String) message!: string;
  @Field(() => [String]) channelsClosed!: string[];
  @Field(() => [String]) channelsReopened!: string[];
  @Field(() => String, { nullable: true, description: 'VOLUME_ANOMALY: the channel.' })
  channelCode!: string | null;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'VOLUME_ANOMALY: the start of the hour (UTC).',
  })
  bucketStart!: Date | null;
  @Field(() => Float, {
    nullable: true,
    description: 'VOLUME_ANOMALY: the orders expected, the mean of the same hour on the 7 days before.',
  })
  expectedOrders!: number | null;
  @Field(() => Int, { nullable: true, description: 'VOLUME_ANOMALY: the orders placed in the hour.' })
  actualOrders!: number | null;
  @Field(() => ID, { nullable: true, description: 'RISK (and an oversold or unknown line): the order.' })
  orderId!: string | null;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType('ReconciliationLine')
export class ReconciliationLineType {
  @Field(() => String) productCode!: string;
  @Field(() => Int) systemOnHand!: number;
  @Field(() => Int) physicalCount!: number;
  @Field(() => Float) differencePercent!: number;
  @Field(() => Boolean, { description: '|difference| above the tolerance.' }) mismatch!: boolean;
}

@ObjectType('ReconciliationReport')
export class ReconciliationReportType {
  @Field(() => ID) id!: string;
  @Field(() => Float) tolerancePercent!: number;
  @Field(() => [ReconciliationLineType]) lines!: ReconciliationLineType[];
  @Field(() => Int) mismatches!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
}
