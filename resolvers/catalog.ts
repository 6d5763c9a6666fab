import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Product } from '../entities/index.js';
import { ProductInput } from '../schema/inputs.js';
import { InventoryItemType, ProductType } from '../schema/stock.js';
import { ChannelStockType } from '../schema/stock-sync.js';
import { channelStockOf } from '../services/channel-stock.js';
import { findProduct, listProducts, mapChannelSku, upsertProduct } from '../services/catalog.js';
import type { RequestContext } from '../services/context.js';
import type { ProductRow } from '../services/read-model.js';
import { READ_CATALOG, WRITE_CATALOG } from './roles.js';

@Resolver(() => ProductType)
export class ProductResolver {
  @Authorized(READ_CATALOG)
  @Query(() => ProductType, { nullable: true })
  product(@Ctx() ctx: RequestContext, @Arg('productCode', () => String) productCode: string) {
    return findProduct(ctx, productCode);
  }

  @Authorized(READ_CATALOG)
  @Query(() => [ProductType])
  products(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The last productCode of the previous page.' })
    after: string | null,
  ) {
    return listProducts(ctx, first, after);
  }

  @Authorized(WRITE_CATALOG)
  @Mutation(() => ProductType)
  upsertProduct(@Ctx() ctx: RequestContext, @Arg('input', () => ProductInput) input: ProductInput) {
    return upsertProduct(ctx, input);
  }

  @Authorized(WRITE_CATALOG)
  @Mutation(() => Boolean)
  mapChannelSku(
    @Ctx() ctx: RequestContext,
    @Arg('channelCode', () => String) channelCode: string,
    @Arg('platformSkuId', () => String) platformSkuId: string,
    @Arg('productCode', () => String) productCode: string,
    @Arg('platformItemId', () => String, {
      nullable: true,
      description:
        'Where the product lives on the platform (Taobao num_iid, Shopify inventoryItemId…); left out keeps it.',
    })
    platformItemId: string | null,
    @Arg('locationId', () => String, {
      nullable: true,
      description: "Shopify's location; left out keeps it.",
    })
    locationId: string | null,
  ) {
    return mapChannelSku(ctx, channelCode, platformSkuId, productCode, { platformItemId, locationId });
  }

  @FieldResolver(() => InventoryItemType)
  async inventory(@Root() product: Product | ProductRow, @Ctx() ctx: RequestContext) {
    return ctx.loaders.inventoryByProductId.load(product.id);
  }

  @FieldResolver(() => [ChannelStockType], {
    description:
      "The product's platform listings, and where each stands (a channel's key: its own channel's).",
  })
  channelStock(@Root() product: Product | ProductRow, @Ctx() ctx: RequestContext) {
    return channelStockOf(ctx, product.id);
  }
}
