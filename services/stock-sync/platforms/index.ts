import { Platform } from '../../../common/enums.js';
import { BadUserInputError } from '../../../common/errors.js';
import { PlatformClients } from '../../platform-client.js';
import type { Listing, StockClient, StockClientFactory, StockClientOptions } from '../platform-api.js';
import { douyinClient } from './douyin.js';
import { jdClient } from './jd.js';
import { kuaishouClient } from './kuaishou.js';
import { pinduoduoClient } from './pinduoduo.js';
import { shopifyClient } from './shopify.js';
import { taobaoClient } from './taobao.js';
import { youzanClient } from './youzan.js';

/** The stock clients by platform (docs/stock-sync.md); the storefront reads stock from the hub instead. */

const FACTORIES: Record<Exclude<Platform, Platform.STOREFRONT>, StockClientFactory> = {
  [Platform.TAOBAO]: taobaoClient,
  [Platform.JD]: jdClient,
  [Platform.PINDUODUO]: pinduoduoClient,
  [Platform.DOUYIN]: douyinClient,
  [Platform.KUAISHOU]: kuaishouClient,
  [Platform.YOUZAN]: youzanClient,
  [Platform.SHOPIFY]: shopifyClient,
};

/** A new client (Youzan's keeps its tokens, so keep one per hub); null for the storefront, which is not pushed to. */
export function stockClientFor(platform: Platform, options: StockClientOptions): StockClient | null {
  return platform === Platform.STOREFRONT ? null : FACTORIES[platform](options);
}

/** One client per platform that is only asked what a listing lacks: it makes no calls. */
const checkers = new Map<Platform, StockClient>();

/**
 * What the platform's client needs of a listing that it lacks (its item id, Shopify's location), as the
 * pushes check it: null when the listing can be pushed (and for the storefront, which is not pushed to).
 */
export function listingProblem(platform: Platform, listing: Listing): string | null {
  if (platform === Platform.STOREFRONT) return null;
  let client = checkers.get(platform);
  if (!client) {
    client = FACTORIES[platform]({ http: new PlatformClients() });
    checkers.set(platform, client);
  }
  return client.listingProblem(listing);
}

const GATEWAYS: Record<Exclude<Platform, Platform.STOREFRONT | Platform.SHOPIFY>, string> = {
  [Platform.TAOBAO]: 'https://eco.taobao.com/router/rest',
  [Platform.JD]: 'https://api.jd.com/routerjson',
  [Platform.PINDUODUO]: 'https://gw-api.pinduoduo.com/api/router',
  [Platform.DOUYIN]: 'https://openapi-fxg.jinritemai.com',
  [Platform.KUAISHOU]: 'https://openapi.kwaixiaodian.com',
  [Platform.YOUZAN]: 'https://open.youzanyun.com',
};

/** The platform's real gateway, for a channel whose API settings name none. */
export function defaultBaseUrl(platform: Platform, shopId: string | null): string {
  if (platform === Platform.STOREFRONT) {
    throw new BadUserInputError(
      'A storefront reads its stock from the hub: it has no platform API to push to.',
    );
  }
  if (platform !== Platform.SHOPIFY) return GATEWAYS[platform];
  const shop = shopId?.trim().replace(/\.myshopify\.com$/i, '');
  if (!shop || !/^[a-z0-9][a-z0-9-]*$/i.test(shop)) {
    throw new BadUserInputError(
      'A Shopify channel needs its shop name (shopId, as in <shop>.myshopify.com) or a baseUrl.',
    );
  }
  return `https://${shop}.myshopify.com`;
}
