import { ChannelSku, InventoryItem, Product } from '../entities/index.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, NotFoundError } from '../common/errors.js';
import { requireChannel } from './channels.js';
import { pageSize } from './ids.js';

export interface ProductInput {
  productCode: string;
  name: string;
  coldChain?: boolean | null;
}

const PRODUCT_CODE = /^[\w.\-/]{1,128}$/;

export async function findProduct(ctx: RequestContext, productCode: string): Promise<Product | null> {
  return ctx.loaders.productByCode.load(productCode);
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
  return ctx.em.transactional(async (tx) => {
    const product = await tx.upsert(
      Product,
      {
        productCode: input.productCode,
        name,
        ...(input.coldChain != null ? { coldChain: input.coldChain } : {}),
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

/** Maps a platform's SKU id on one channel to a product; mapping again moves it. */
export async function mapChannelSku(
  ctx: RequestContext,
  channelCode: string,
  platformSkuId: string,
  productCode: string,
): Promise<boolean> {
  const skuId = platformSkuId.trim();
  if (!skuId) throw new BadUserInputError('platformSkuId must not be empty.', 'platformSkuId');
  const channel = await requireChannel(ctx, channelCode);
  const product = await requireProduct(ctx, productCode);
  await ctx.em.upsert(
    ChannelSku,
    { channel, platformSkuId: skuId, product },
    { onConflictFields: ['channel', 'platformSkuId'], onConflictExcludeFields: ['id', 'createdAt'] },
  );
  return true;
}
