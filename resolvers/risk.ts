import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RiskKind } from '../common/enums.js';
import type { Order, Product, RiskFlag } from '../entities/index.js';
import { OrderType } from '../schema/order.js';
import { RiskFlagType, RiskRuleType } from '../schema/risk.js';
import { DecimalScalar, JSONScalar } from '../schema/scalars.js';
import { ProductType } from '../schema/stock.js';
import type { RequestContext } from '../services/context.js';
import { holdOrder, releaseOrder } from '../services/order-holds.js';
import type { OrderRow, ProductRow } from '../services/read-model.js';
import { listRiskFlags, listRiskRules, resolveRiskFlag, setRiskRule } from '../services/risk.js';
import { ADMIN_ONLY, READ_OPERATIONS, READ_ORDERS, SHIP_ORDERS } from './roles.js';

@Resolver(() => RiskFlagType)
export class RiskResolver {
  @Authorized(READ_ORDERS)
  @Query(() => [RiskFlagType], {
    description: 'Risk flags, newest first (a channel key: its own channel only), at most 500.',
  })
  riskFlags(
    @Ctx() ctx: RequestContext,
    @Arg('unresolvedOnly', () => Boolean, { nullable: true, defaultValue: true }) unresolvedOnly: boolean,
    @Arg('kind', () => RiskKind, { nullable: true }) kind: RiskKind | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
  ) {
    return listRiskFlags(ctx, { unresolvedOnly, kind, first });
  }

  @Authorized(READ_OPERATIONS)
  @Query(() => [RiskRuleType])
  riskRules(@Ctx() ctx: RequestContext) {
    return listRiskRules(ctx);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => RiskRuleType, {
    description:
      "Turns a rule on or off and sets the params given over the ones it has (each rule's are in the README).",
  })
  setRiskRule(
    @Ctx() ctx: RequestContext,
    @Arg('kind', () => RiskKind) kind: RiskKind,
    @Arg('enabled', () => Boolean) enabled: boolean,
    @Arg('params', () => JSONScalar, { nullable: true }) params: unknown,
  ) {
    return setRiskRule(ctx, kind, enabled, params);
  }

  @Authorized(SHIP_ORDERS)
  @Mutation(() => RiskFlagType)
  resolveRiskFlag(
    @Ctx() ctx: RequestContext,
    @Arg('flagId', () => ID) flagId: string,
    @Arg('note', () => String) note: string,
  ) {
    return resolveRiskFlag(ctx, flagId, note);
  }

  @Authorized(SHIP_ORDERS)
  @Mutation(() => OrderType, { description: 'Holds the order from shipping (shipOrder answers ORDER_HELD).' })
  holdOrder(
    @Ctx() ctx: RequestContext,
    @Arg('orderId', () => ID) orderId: string,
    @Arg('reason', () => String) reason: string,
  ) {
    return holdOrder(ctx, orderId, reason);
  }

  @Authorized(SHIP_ORDERS)
  @Mutation(() => OrderType, { description: 'Lifts a hold: the order may ship again.' })
  releaseOrder(@Ctx() ctx: RequestContext, @Arg('orderId', () => ID) orderId: string) {
    return releaseOrder(ctx, orderId);
  }

  @FieldResolver(() => ID)
  orderId(@Root() flag: RiskFlag) {
    return flag.order.id;
  }

  @FieldResolver(() => Boolean)
  resolved(@Root() flag: RiskFlag) {
    return flag.resolvedAt !== null;
  }
}

@Resolver(() => ProductType)
export class ProductRiskResolver {
  @FieldResolver(() => DecimalScalar, { nullable: true })
  listPrice(@Root() product: Product | ProductRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.listPriceByProductId.load(product.id);
  }
}

@Resolver(() => OrderType)
export class OrderRiskResolver {
  @FieldResolver(() => [RiskFlagType], {
    description: "The risk rules' findings on this order, oldest first.",
  })
  riskFlags(@Root() order: Order | OrderRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.riskFlagsByOrderId.load(order.id);
  }
}
