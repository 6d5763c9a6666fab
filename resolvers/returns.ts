import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RefundStatus } from '../common/enums.js';
import { BadUserInputError } from '../common/errors.js';
import { ImportReportType } from '../schema/ingestion.js';
import { MAX_CSV_BYTES } from './csv-import.js';
import type { Order, Product, Return, ReturnLine } from '../entities/index.js';
import { ChannelType } from '../schema/channel.js';
import { MoneyType, OrderLineType, OrderType } from '../schema/order.js';
import { ReturnConnectionType, ReturnEventType, ReturnLineType, ReturnType } from '../schema/returns.js';
import { JSONScalar } from '../schema/scalars.js';
import { ProductType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import { whenLoaded } from '../services/loaders.js';
import type { OrderRow, ProductRow } from '../services/read-model.js';
import {
  acceptReturnedStock,
  findReturn,
  importRefundsCsv,
  ingestChannelRefund,
  listReturns,
  setInspectReturns,
} from '../services/returns.js';
import { INGEST, READ_ORDERS, WRITE_CATALOG, WRITE_STOCK } from './roles.js';

@Resolver(() => ReturnType)
export class ReturnResolver {
  @Authorized(READ_ORDERS)
  @Query(() => ReturnType, { name: 'return', nullable: true, description: 'One after-sale case.' })
  returnCase(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return findReturn(ctx, id);
  }

  @Authorized(READ_ORDERS)
  @Query(() => ReturnConnectionType, { description: 'After-sale cases, newest request first.' })
  returns(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('status', () => RefundStatus, { nullable: true }) status: RefundStatus | null,
    @Arg('orderId', () => ID, { nullable: true }) orderId: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return listReturns(ctx, { channelCode, status, orderId, first, after });
  }

  @Authorized(INGEST)
  @Mutation(() => ReturnType, {
    description:
      "A platform's after-sale record, as its webhook sends it. Idempotent on (channel, refundId).",
  })
  ingestChannelRefund(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('payload', () => JSONScalar) payload: unknown,
  ) {
    return ingestChannelRefund(ctx, channelCode, payload);
  }

  @Authorized(INGEST)
  @Mutation(() => ImportReportType, {
    description:
      "Backfill of after-sale records in the hub's refund columns (docs/refunds-csv.md); idempotent on (channel, refundId).",
  })
  importRefundsCsv(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('csv', () => String) csv: string,
  ) {
    if (Buffer.byteLength(csv) > MAX_CSV_BYTES)
      throw new BadUserInputError(
        `The CSV is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB: split it.`,
        'csv',
      );
    return importRefundsCsv(ctx, channelCode, csv);
  }

  @Authorized(WRITE_STOCK)
  @Mutation(() => ReturnType, {
    description:
      'Inspected returned units of the case go from quarantine into stock; more than it holds is NOT_ENOUGH_QUARANTINED.',
  })
  acceptReturnedStock(
    @Ctx() ctx: RequestContext,
    @Arg('returnId', () => ID) returnId: string,
    @Arg('quantity', () => Int) quantity: number,
  ) {
    return acceptReturnedStock(ctx, returnId, quantity);
  }

  @Authorized(WRITE_CATALOG)
  @Mutation(() => ProductType, {
    description: "Whether the product's returned units wait in quarantine for inspection.",
  })
  setInspectReturns(
    @Ctx() ctx: RequestContext,
    @Arg('productCode', () => String) productCode: string,
    @Arg('inspect', () => Boolean) inspect: boolean,
  ) {
    return setInspectReturns(ctx, productCode, inspect);
  }

  @FieldResolver(() => ChannelType)
  channel(@Root() r: Return, @Ctx() ctx: RequestContext) {
    return ctx.loaders.channelById.load(r.channel.id);
  }

  @FieldResolver(() => OrderType, { nullable: true })
  order(@Root() r: Return, @Ctx() ctx: RequestContext) {
    return r.order ? ctx.loaders.orderById.load(r.order.id) : null;
  }

  @FieldResolver(() => [ReturnLineType])
  lines(@Root() r: Return, @Ctx() ctx: RequestContext) {
    return ctx.loaders.returnLinesByReturnId.load(r.id);
  }

  @FieldResolver(() => [ReturnEventType])
  timeline(@Root() r: Return, @Ctx() ctx: RequestContext) {
    return ctx.loaders.returnEventsByReturnId.load(r.id);
  }

  @FieldResolver(() => ID, { nullable: true })
  updateSeq(@Root() r: Return, @Ctx() ctx: RequestContext) {
    return r.deliveredSeq ?? ctx.loaders.returnUpdateSeqByReturnId.load(r.id);
  }

  @FieldResolver(() => MoneyType)
  refundAmount(@Root() r: Return): MoneyType {
    return { amount: r.refundAmount, currencyCode: r.currencyCode };
  }
}

@Resolver(() => ReturnLineType)
export class ReturnLineResolver {
  @FieldResolver(() => OrderLineType, { nullable: true })
  orderLine(@Root() line: ReturnLine, @Ctx() ctx: RequestContext) {
    return line.orderLine ? ctx.loaders.orderLineById.load(line.orderLine.id) : null;
  }
}

/** An order's after-sale side. */
@Resolver(() => OrderType)
export class OrderReturnsResolver {
  @FieldResolver(() => [ReturnType], { description: "The order's after-sale cases, oldest request first." })
  returns(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.returnsByOrderId.load(order.id);
  }

  @FieldResolver(() => MoneyType, {
    description: 'Refunded by its REFUNDED after-sale cases, at most the total.',
  })
  refundedAmount(@Root() order: Order | OrderRow): MoneyType {
    return { amount: order.refundedAmount, currencyCode: order.currencyCode };
  }
}

/** Where stock is shown: returned units waiting for inspection. */
@Resolver(() => ProductType)
export class ProductReturnsResolver {
  @FieldResolver(() => Int, {
    description: 'Returned units awaiting inspection (acceptReturnedStock): not on hand, not available.',
  })
  quarantined(@Root() product: Product | ProductRow, @Ctx() ctx: RequestContext) {
    return whenLoaded(ctx.loaders.inventoryByProductId.load(product.id), (item) => item?.quarantined ?? 0);
  }
}
