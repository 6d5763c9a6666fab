import { Arg, Authorized, Ctx, Float, Int, Query, Resolver } from 'type-graphql';
import { ReturnsGroupBy, SalesGroupBy } from '../common/enums.js';
import {
  OrderFlowBucketType,
  ReturnsRowType,
  SalesRowType,
  StageDurationType,
  VolumeAnomalyType,
} from '../schema/report.js';
import { DateTimeScalar } from '../schema/scalars.js';
import type { RequestContext } from '../services/context.js';
import {
  DEFAULT_MIN_BASELINE,
  DEFAULT_REPORT_TIME_ZONE,
  DEFAULT_TOLERANCE_PERCENT,
  fulfillmentReport,
  orderFlow,
  returnsReport,
  salesReport,
  volumeAnomalies,
} from '../services/reports.js';
import { READ_OPERATIONS } from './roles.js';

@Resolver()
export class ReportResolver {
  @Authorized(READ_OPERATIONS)
  @Query(() => [SalesRowType], {
    description:
      'Sales (a split sale counts once) placed in [from, to), per group and currency. CANCELLED and REFUNDED ' +
      "orders count only when grouped by STATUS. Revenue is the orders' totals, or the lines' totals by " +
      'PRODUCT. Refunds are those paid out in [from, to), whenever their sale was placed; netRevenue is ' +
      'grossRevenue - refunds. DAY lists every day of the range in the time zone, oldest first; STATUS in ' +
      'lifecycle order; the others by revenue, highest first.',
  })
  salesReport(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('groupBy', () => SalesGroupBy) groupBy: SalesGroupBy,
    @Arg('timeZone', () => String, { nullable: true, defaultValue: DEFAULT_REPORT_TIME_ZONE })
    timeZone: string,
  ) {
    return salesReport(ctx, { from, to, groupBy, timeZone });
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [ReturnsRowType], {
    description:
      'After-sale cases asked for in [from, to) (by requestedAt; REJECTED and CANCELLED left out), per group: ' +
      'cases, units returned, refund amounts per currency, and the return rate against the units sold in ' +
      '[from, to), or on that day by DAY (days in the time zone). Most units first; DAY by day, oldest first, ' +
      'the days with cases.',
  })
  returnsReport(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('groupBy', () => ReturnsGroupBy) groupBy: ReturnsGroupBy,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('timeZone', () => String, { nullable: true, defaultValue: DEFAULT_REPORT_TIME_ZONE })
    timeZone: string,
  ) {
    return returnsReport(ctx, { from, to, groupBy, channelCode, timeZone });
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [StageDurationType], {
    description:
      'Per fulfillment stage, the orders whose stage ended in [from, to) and how long it took. Paying counts ' +
      'sales; packing, shipping and delivery count parcels (sub-orders of a split sale).',
  })
  fulfillmentReport(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
  ) {
    return fulfillmentReport(ctx, { from, to, channelCode });
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [VolumeAnomalyType], {
    description:
      "Per channel and hour of [from, to) that is over, the orders placed where they differ from the channel's " +
      'baseline (the mean of the same hour on the 7 days before) by more than the tolerance.',
  })
  volumeAnomalies(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('tolerancePercent', () => Float, { nullable: true, defaultValue: DEFAULT_TOLERANCE_PERCENT })
    tolerancePercent: number,
    @Arg('timeZone', () => String, { nullable: true, defaultValue: DEFAULT_REPORT_TIME_ZONE })
    timeZone: string,
    @Arg('minBaseline', () => Float, {
      nullable: true,
      defaultValue: DEFAULT_MIN_BASELINE,
      description:
        'Hours whose baseline is below this many orders are not judged (quiet hours swing widely).',
    })
    minBaseline: number,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
  ) {
    return volumeAnomalies(ctx, { from, to, tolerancePercent, timeZone, minBaseline, channelCode });
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [OrderFlowBucketType], {
    description:
      'Sales (a split sale counts once) placed per channel and bucket of [from, to), by placedAt, for at most ' +
      '1,440 buckets. Buckets start at whole multiples of bucketMinutes since the Unix epoch; empty ones are ' +
      'left out. Oldest first.',
  })
  orderFlow(
    @Ctx() ctx: RequestContext,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('bucketMinutes', () => Int, { nullable: true, defaultValue: 1 }) bucketMinutes: number | null,
  ) {
    return orderFlow(ctx, { from, to, channelCode, bucketMinutes });
  }
}
