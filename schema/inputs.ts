import { Field, InputType, Int } from 'type-graphql';
import {
  IngestionMode,
  OrderLevel,
  OrderSortField,
  OrderStatus,
  Platform,
  SortDirection,
} from '../common/enums.js';
import { DateTimeScalar, DecimalScalar } from './scalars.js';

@InputType('OrderFilter')
export class OrderFilterInput {
  @Field(() => [String], { nullable: true }) channelCodes?: string[] | null;
  @Field(() => [Platform], { nullable: true }) platforms?: Platform[] | null;
  @Field(() => [OrderStatus], { nullable: true }) statuses?: OrderStatus[] | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive.' }) placedFrom?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive.' }) placedTo?: Date | null;
  @Field(() => String, { nullable: true, description: 'Any part of the name, case-insensitive.' })
  customerName?: string | null;
  @Field(() => String, { nullable: true, description: 'Orders with a line of this product.' })
  productCode?: string | null;
  @Field(() => String, { nullable: true }) externalId?: string | null;
  @Field(() => OrderLevel, { nullable: true, defaultValue: OrderLevel.SALES })
  level?: OrderLevel | null;
}

@InputType('OrderSort')
export class OrderSortInput {
  @Field(() => OrderSortField) field!: OrderSortField;
  @Field(() => SortDirection) direction!: SortDirection;
}

@InputType('OrderLineInput')
export class OrderLineInput {
  @Field(() => String) productCode!: string;
  @Field(() => Int) quantity!: number;
  @Field(() => DecimalScalar) unitPrice!: string;
}

@InputType('AddressInput')
export class AddressInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) province?: string | null;
  @Field(() => String, { nullable: true }) city?: string | null;
  @Field(() => String, { nullable: true }) district?: string | null;
  @Field(() => String) line1!: string;
  @Field(() => String, { nullable: true }) postalCode?: string | null;
  @Field(() => String, { defaultValue: 'CN' }) country!: string;
}

@InputType('PlaceOrderInput')
export class PlaceOrderInput {
  @Field(() => String) channelCode!: string;
  @Field(() => String) externalId!: string;
  @Field(() => String) customerName!: string;
  @Field(() => AddressInput) shippingAddress!: AddressInput;
  @Field(() => [OrderLineInput]) lines!: OrderLineInput[];
  @Field(() => String, { defaultValue: 'CNY' }) currencyCode!: string;
  @Field(() => String, {
    nullable: true,
    description: "The customer's mobile for notices by SMS (a masked one is stored and never used).",
  })
  contactPhone?: string | null;
  @Field(() => String, {
    nullable: true,
    description: "The customer's WeChat mini-program openid, for notices by subscribe message.",
  })
  wechatOpenId?: string | null;
}

@InputType('StockCountInput')
export class StockCountInput {
  @Field(() => String) productCode!: string;
  @Field(() => Int) physicalCount!: number;
}

@InputType('ProductInput')
export class ProductInput {
  @Field(() => String) productCode!: string;
  @Field(() => String) name!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) coldChain?: boolean | null;
  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'The list price the MISMATCH risk rule compares lines with; left out keeps it.',
  })
  listPrice?: string | null;
}

@InputType('ChannelInput')
export class ChannelInput {
  @Field(() => String) code!: string;
  @Field(() => Platform) platform!: Platform;
  @Field(() => String) name!: string;
  @Field(() => Boolean, { nullable: true, defaultValue: false }) isCore?: boolean | null;
  @Field(() => String, { nullable: true }) webhookSecret?: string | null;
  @Field(() => String, { nullable: true, description: "Base URL of the platform's order API, for polling." })
  apiBaseUrl?: string | null;
  @Field(() => [IngestionMode], { nullable: true, description: 'How orders arrive; default by platform.' })
  ingestionModes?: IngestionMode[] | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      "Push the pool's stock to the platform's listings; off for a new channel, left out keeps it.",
  })
  stockSync?: boolean | null;
}
