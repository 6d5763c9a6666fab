import type { Platform } from '../common/enums.js';
import type { Connector } from './canonical.js';
import { douyin } from './douyin.js';
import { jd } from './jd.js';
import { kuaishou } from './kuaishou.js';
import { pinduoduo } from './pinduoduo.js';
import { shopify } from './shopify.js';
import { storefront } from './storefront.js';
import { taobao } from './taobao.js';
import { youzan } from './youzan.js';

export type {
  CanonicalAddress,
  CanonicalLine,
  CanonicalOrder,
  CanonicalRefund,
  CanonicalRefundLine,
  Connector,
  PullProtocol,
} from './canonical.js';

/** Every connector; a new platform is one file and one line here. */
export const connectors: readonly Connector[] = [
  taobao,
  jd,
  pinduoduo,
  douyin,
  kuaishou,
  youzan,
  shopify,
  storefront,
];

const byPlatform = new Map<Platform, Connector>();
for (const connector of connectors) {
  if (byPlatform.has(connector.platform))
    throw new Error(`Two connectors for platform ${connector.platform}.`);
  byPlatform.set(connector.platform, connector);
}

/** The connector for a platform. */
export function connectorFor(platform: Platform): Connector {
  const connector = byPlatform.get(platform);
  if (!connector) throw new Error(`No connector for platform ${platform}.`);
  return connector;
}
