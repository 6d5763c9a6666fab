import { Platform } from '../../../common/enums.js';
import type { ChannelApi, StockClient, StockClientOptions, StockSet } from '../platform-api.js';
import { absoluteClient, needsItemId } from './absolute.js';
import {
  defaultThrottleWaitMs,
  describe,
  idValue,
  isRecord,
  jsonRequest,
  jsonText,
  platformText,
  requestJson,
  requireCredentials,
  unexpectedReply,
  urlOf,
  type JsonValue,
  type Outcome,
} from './common.js';
import { douyinSign, gmt8Timestamp } from './signing.js';

/**
 * Douyin (抖店): `sku.syncStock` sets one SKU outright, `sku.syncStockBatch` several SKUs of one product;
 * the business parameters travel as `param_json`, keys sorted at every level, signed with the query.
 */

const LABEL = 'Douyin';
/** 调用频率超限 (guess). */
const THROTTLED = '40001';
/** 30001 bad signature, 30002 bad token (guesses): the channel's credentials, not the SKU. */
const CREDENTIAL_CODES = new Set(['30001', '30002']);

export function douyinClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;

  function outcome(body: unknown, api: ChannelApi): Outcome {
    if (!isRecord(body) || body.err_no === undefined) throw unexpectedReply(LABEL);
    const code = String(body.err_no);
    if (code === '0') return { kind: 'ok' };
    const message = describe(LABEL, code, platformText(body.message, api));
    if (code === THROTTLED) return { kind: 'throttled', waitMs: defaultThrottleWaitMs(options), message };
    return CREDENTIAL_CODES.has(code)
      ? { kind: 'rejected', code, message }
      : { kind: 'refused', code, message };
  }

  async function send(api: ChannelApi, sets: StockSet[], signal: AbortSignal): Promise<Outcome> {
    const { appKey, appSecret, accessToken } = requireCredentials(api, LABEL, [
      'appKey',
      'appSecret',
      'accessToken',
    ]);
    const productId = idValue(sets[0].platformItemId ?? '');
    const [method, param]: [string, JsonValue] =
      sets.length === 1
        ? [
            'sku.syncStock',
            {
              incremental: false,
              product_id: productId,
              sku_id: idValue(sets[0].platformSkuId),
              stock_num: sets[0].target,
            },
          ]
        : [
            'sku.syncStockBatch',
            {
              incremental: false,
              product_id: productId,
              sku_sync_list: sets.map((s) => ({ sku_id: idValue(s.platformSkuId), stock_num: s.target })),
            },
          ];
    const paramJson = jsonText(param, true);
    const timestamp = gmt8Timestamp(now());
    const query = new URLSearchParams({
      app_key: appKey,
      method,
      v: '2',
      timestamp,
      access_token: accessToken,
      sign: douyinSign({ appKey, method, paramJson, timestamp }, appSecret),
      sign_method: 'hmac-sha256',
    });
    const url = urlOf(api, `/${method.replace('.', '/')}?${query}`);
    return outcome(await requestJson(options, api, LABEL, jsonRequest(url, paramJson), signal), api);
  }

  return absoluteClient({
    platform: Platform.DOUYIN,
    batchKey: (listing) => listing.platformItemId ?? '',
    // The batch call's limit is not published (guess).
    maxBatch: 50,
    // QPS limits are not published (guess).
    defaultRequestsPerSecond: 10,
    listingProblem: needsItemId('product id (product_id)'),
    send,
  });
}
