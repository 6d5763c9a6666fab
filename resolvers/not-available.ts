import { Arg, Authorized, Float, Query, Resolver } from 'type-graphql';
import { SalesGroupBy } from '../common/enums.js';
import { SalesRowType, StageDurationType, VolumeAnomalyType } from '../schema/report.js';
import { DateTimeScalar } from '../schema/scalars.js';
import { NotAvailableError } from '../common/errors.js';
import { READ_OPERATIONS } from './roles.js';

/**
 * Contract operations whose services are still being built (the reports). They are
 * served so the schema keeps the contract, and answer NOT_AVAILABLE; each moves to its
 * own resolver when its service lands.
 */
@Resolver()
export class NotAvailableResolver {
  @Authorized(READ_OPERATIONS)
  @Query(() => [SalesRowType])
  salesReport(
    @Arg('from', () => DateTimeScalar) _from: Date,
    @Arg('to', () => DateTimeScalar) _to: Date,
    @Arg('groupBy', () => SalesGroupBy) _groupBy: SalesGroupBy,
    @Arg('timeZone', () => String, { nullable: true, defaultValue: 'Asia/Shanghai' }) _timeZone: string,
  ): SalesRowType[] {
    throw new NotAvailableError('salesReport');
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [StageDurationType])
  fulfillmentReport(
    @Arg('from', () => DateTimeScalar) _from: Date,
    @Arg('to', () => DateTimeScalar) _to: Date,
    @Arg('channelCode', () => String, { nullable: true }) _channelCode: string,
  ): StageDurationType[] {
    throw new NotAvailableError('fulfillmentReport');
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [VolumeAnomalyType])
  volumeAnomalies(
    @Arg('from', () => DateTimeScalar) _from: Date,
    @Arg('to', () => DateTimeScalar) _to: Date,
    @Arg('tolerancePercent', () => Float, { nullable: true, defaultValue: 30 }) _tolerancePercent: number,
    @Arg('timeZone', () => String, { nullable: true, defaultValue: 'Asia/Shanghai' }) _timeZone: string,
  ): VolumeAnomalyType[] {
    throw new NotAvailableError('volumeAnomalies');
  }
}
