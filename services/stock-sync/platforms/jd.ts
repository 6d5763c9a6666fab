import { Platform } from '../../../common/enums.js';
import type { ChannelApi, StockClient, StockClientOptions, StockSet } from '../platform-api.js';
import { absoluteClient } from './absolute.js';
import {
  defaultThrottleWaitMs,
  describe,
  formRequest,
  isRecord,
  jsonText,
  platformText,
  requestJson,
  requireCredentials,
  unexpectedReply,
  type Outcome,
} from './common.js';
import { gmt8Timestamp, topSign } from './signing.js';

/** JD (JOS): `jingdong.stock.write.updateSkuStock` sets one SKU outright; the SKU id is all JD needs. */

const LABEL = 'JD';
const METHOD = 'jingdong.stock.write.updateSkuStock';
const REPLY = 'jingdong_stock_write_updateSkuStock_responce';
/** Gateway code 2: "App Call Limited", with no wait given. */
const THROTTLED = '2';
/** 14 invalid signature, 19 invalid token: the channel's credentials, not the SKU. */
const CREDENTIAL_CODES = new Set(['14', '19']);

export function jdClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;

  function outcome(body: unknown, api: ChannelApi): Outcome {
    const reply = isRecord(body) ? body[REPLY] : undefined;
    if (isRecord(reply)) {
      if (String(reply.code) === '0' && reply.success !== false) return { kind: 'ok' };
      const code = String(reply.code);
      return { kind: 'refused', code, message: describe(LABEL, code, platformText(reply.message, api)) };
    }
    const error = isRecord(body) ? body.error_response : undefined;
    if (!isRecord(error)) throw unexpectedReply(LABEL);
    const code = String(error.code);
    const message = describe(LABEL, code, platformText(error.en_desc, api), platformText(error.zh_desc, api));
    if (code === THROTTLED) return { kind: 'throttled', waitMs: defaultThrottleWaitMs(options), message };
    return CREDENTIAL_CODES.has(code)
      ? { kind: 'rejected', code, message }
      : { kind: 'refused', code, message };
  }

  async function send(api: ChannelApi, [set]: StockSet[], signal: AbortSignal): Promise<Outcome> {
    const { appKey, appSecret, accessToken } = requireCredentials(api, LABEL, [
      'appKey',
      'appSecret',
      'accessToken',
    ]);
    const params: Record<string, string> = {
      method: METHOD,
      app_key: appKey,
      access_token: accessToken,
      timestamp: gmt8Timestamp(now()),
      v: '2.0',
      // JD's own order of the keys; the SKU id as a string.
      '360buy_param_json': jsonText({ skuId: set.platformSkuId, stockNum: set.target }),
    };
    params.sign = topSign(params, appSecret, 'md5');
    return outcome(await requestJson(options, api, LABEL, formRequest(api.baseUrl, params), signal), api);
  }

  return absoluteClient({
    platform: Platform.JD,
    batchKey: (listing) => listing.listingId,
    maxBatch: 1,
    // QPS limits are not published (guess).
    defaultRequestsPerSecond: 10,
    listingProblem: () => null,
    send,
  });
}
