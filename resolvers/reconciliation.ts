import { Arg, Authorized, Ctx, Float, Mutation, Resolver } from 'type-graphql';
import { StockCountInput } from '../schema/inputs.js';
import { ReconciliationReportType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import { DEFAULT_TOLERANCE_PERCENT, reconcileInventory } from '../services/reconciliation.js';
import { RECONCILE_INVENTORY } from './roles.js';

@Resolver(() => ReconciliationReportType)
export class ReconciliationResolver {
  /** The report comes back with its lines, in the order of the counts: no field resolver, no N+1. */
  @Authorized(RECONCILE_INVENTORY)
  @Mutation(() => ReconciliationReportType)
  reconcileInventory(
    @Ctx() ctx: RequestContext,
    @Arg('counts', () => [StockCountInput]) counts: StockCountInput[],
    @Arg('tolerancePercent', () => Float, { nullable: true, defaultValue: DEFAULT_TOLERANCE_PERCENT })
    tolerancePercent: number | null,
  ) {
    return reconcileInventory(ctx, counts, tolerancePercent ?? DEFAULT_TOLERANCE_PERCENT);
  }
}
