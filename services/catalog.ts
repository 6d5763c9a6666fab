import { InventoryItem, Product } from '../entities/index.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { requireChannel } from './channels.js';
import { pageSize, parseId } from './ids.js';
import type { ProductRow } from './read-model.js';
import { listingProblem } from './stock-sync/platforms/index.js';

export interface ProductInput {
  productCode: string;
  name: string;
  coldChain?: boolean | null;
  listPrice?: string | null;
}

const PRODUCT_CODE = /^[\w.\-/]{1,128}$/;

export async function findProduct(ctx: RequestContext, productCode: string): Promise<Product | null> {
  return ctx.loaders.productByCode.load(productCode);
}

export async function findProductById(ctx: RequestContext, id: string): Promise<ProductRow | null> {
  return ctx.loaders.productById.load(parseId(id));
}

export async function requireProduct(ctx: RequestContext, productCode: string): Promise<Product> {
  const product = await findProduct(ctx, productCode);
  if (!product) throw new NotFoundError('Product', productCode);
  return product;
}

/** Products by productCode; `after` is the last productCode of the previous page. */
export async function listProducts(
  ctx: RequestContext,
  first: number | null | undefined,
  after?: string | null,
) {
  const limit = pageSize(first, 100, 1000);
  return ctx.em.find(Product, after ? { productCode: { $gt: after } } : {}, {
    orderBy: { productCode: 'asc' },
    limit,
  });
}

/** Creates or renames a product; a new product starts with an empty inventory item. */
export async function upsertProduct(ctx: RequestContext, input: ProductInput): Promise<Product> {
  if (!PRODUCT_CODE.test(input.productCode)) {
    throw new BadUserInputError(
      'productCode must be 1 to 128 letters, digits or . _ - / characters.',
      'productCode',
    );
  }
  const name = input.name.trim();
  if (!name) throw new BadUserInputError('name must not be empty.', 'name');
  if (input.listPrice != null && !/^\d{1,12}(\.\d{1,2})?$/.test(input.listPrice))
    throw new BadUserInputError(
      'listPrice must be an amount of at most two decimals, 0 or more.',
      'listPrice',
    );
  return ctx.em.transactional(async (tx) => {
    const product = await tx.upsert(
      Product,
      {
        productCode: input.productCode,
        name,
        ...(input.coldChain != null ? { coldChain: input.coldChain } : {}),
        ...(input.listPrice != null ? { listPrice: input.listPrice } : {}),
      },
      { onConflictFields: ['productCode'], onConflictExcludeFields: ['id', 'createdAt', 'closedOnChannels'] },
    );
    await tx
      .createQueryBuilder(InventoryItem)
      .insert({ product: product.id, productCode: product.productCode })
      .onConflict('product_id')
      .ignore()
      .execute();
    return product;
  });
}

/** In mapChannelSku's upsert: the listing now names another platform item or location (channel_sku: the stored row). */
const MOVED_PLACE = `(coalesce(excluded.platform_item_id, channel_sku.platform_item_id) is distinct from channel_sku.platform_item_id
  or coalesce(excluded.location_id, channel_sku.location_id) is distinct from channel_sku.location_id)`;
/** ... or another product. */
const MOVED = `(${MOVED_PLACE} or excluded.product_id <> channel_sku.product_id)`;

/**
 * Maps a platform's SKU id on one channel to a product; mapping again moves it. With an item id (and, for
 * Shopify, a location) it is a listing the stock sync keeps; an item id or location left out keeps the stored one.
 * A listing moved to another item or location forgets what the old one confirmed (the platform's value there is
 * not known: Shopify reads it before it compares and sets); moved to another product it keeps it (the same
 * platform SKU) but starts over as PENDING. The table's trigger queues the push.
 */
export async function mapChannelSku(
  ctx: RequestContext,
  channelCode: string,
  platformSkuId: string,
  productCode: string,
  where: { platformItemId?: string | null; locationId?: string | null } = {},
): Promise<boolean> {
  const skuId = platformSkuId.trim();
  if (!skuId) throw new BadUserInputError('platformSkuId must not be empty.', 'platformSkuId');
  const itemId = optionalId(where.platformItemId, 'platformItemId');
  const locationId = optionalId(where.locationId, 'locationId');
  const channel = await requireChannel(ctx, channelCode);
  const product = await requireProduct(ctx, productCode);
  if (channel.stockSync) {
    // A listing its platform cannot push would only fail: say so now (a channel not syncing yet may be mapped first).
    const [stored] = await ctx.em.execute<{ platform_item_id: string | null; location_id: string | null }[]>(
      `select platform_item_id, location_id from channel_sku where channel_id = ? and platform_sku_id = ?`,
      [channel.id, skuId],
    );
    const listing = {
      listingId: '',
      platformSkuId: skuId,
      platformItemId: itemId ?? stored?.platform_item_id ?? null,
      locationId: locationId ?? stored?.location_id ?? null,
    };
    const problem = listingProblem(channel.platform, listing);
    if (problem)
      throw new BadUserInputError(problem, listing.platformItemId ? 'locationId' : 'platformItemId');
  }
  await ctx.em.execute(
    `insert into channel_sku (id, channel_id, platform_sku_id, product_id, platform_item_id, location_id)
     values (gen_random_uuid(), ?, ?, ?, ?, ?)
     on conflict (channel_id, platform_sku_id) do update set
       product_id = excluded.product_id,
       platform_item_id = coalesce(excluded.platform_item_id, channel_sku.platform_item_id),
       location_id = coalesce(excluded.location_id, channel_sku.location_id),
       confirmed = case when ${MOVED_PLACE} then null else channel_sku.confirmed end,
       confirmed_at = case when ${MOVED_PLACE} then null else channel_sku.confirmed_at end,
       uncertain = case when ${MOVED_PLACE} then false else channel_sku.uncertain end,
       sync_state = case when ${MOVED} then 'PENDING' else channel_sku.sync_state end,
       last_error = case when ${MOVED} then null else channel_sku.last_error end,
       sync_attempts = case when ${MOVED} then 0 else channel_sku.sync_attempts end,
       updated_at = now()`,
    [channel.id, skuId, product.id, itemId, locationId],
  );
  return true;
}

function optionalId(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (!trimmed) throw new BadUserInputError(`${field} must not be empty; leave it out to keep it.`, field);
  if (trimmed.length > 128) throw new BadUserInputError(`${field} has at most 128 characters.`, field);
  return trimmed;
}
