import { Platform } from '../../../common/enums.js';
import { PlatformRequestError } from '../../platform-client.js';
import {
  PlatformThrottledError,
  type ChannelApi,
  type StockClient,
  type StockClientOptions,
  type StockSet,
} from '../platform-api.js';
import { absoluteClient, needsItemId } from './absolute.js';
import {
  defaultThrottleWaitMs,
  describe,
  idValue,
  isRecord,
  jsonRequest,
  jsonText,
  paramText,
  platformText,
  requestJson,
  requireCredentials,
  unexpectedReply,
  type JsonDigits,
  type Outcome,
} from './common.js';
import { topSign } from './signing.js';

/** Pinduoduo: `pdd.goods.quantity.update` sets one SKU of a goods outright, as one flat JSON object. */

const LABEL = 'Pinduoduo';
/** "调用过于频繁": the code is not confirmed (guess, as the doc says). */
const THROTTLED = '70031';
/** 10016 bad signature, 10019 token expired: the channel's credentials, not the SKU. */
const CREDENTIAL_CODES = new Set(['10016', '10019']);

export function pinduoduoClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;

  function outcome(body: unknown, api: ChannelApi): Outcome {
    const reply = isRecord(body) ? body.goods_quantity_update_response : undefined;
    if (isRecord(reply)) {
      return reply.is_success === true
        ? { kind: 'ok' }
        : { kind: 'refused', code: 'NOT_SUCCESS', message: `${LABEL} answered is_success: false.` };
    }
    const error = isRecord(body) ? body.error_response : undefined;
    if (!isRecord(error)) throw unexpectedReply(LABEL);
    const code = String(error.error_code);
    const message = describe(
      LABEL,
      code,
      platformText(error.error_msg, api),
      platformText(error.sub_code, api),
      platformText(error.sub_msg, api),
    );
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
    const params: Record<string, string | number | JsonDigits> = {
      type: 'pdd.goods.quantity.update',
      client_id: appKey,
      access_token: accessToken,
      timestamp: String(Math.floor(now() / 1_000)),
      data_type: 'JSON',
      goods_id: idValue(set.platformItemId ?? ''),
      sku_id: idValue(set.platformSkuId),
      quantity: set.target,
      update_type: 1,
    };
    const texts = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, paramText(v)]));
    const body = jsonText({ ...params, sign: topSign(texts, appSecret, 'md5') });
    try {
      return outcome(await requestJson(options, api, LABEL, jsonRequest(api.baseUrl, body), signal), api);
    } catch (err) {
      // HTTP 429 is throttling too (guess): once the client's retries are spent, wait as for 70031.
      if (err instanceof PlatformRequestError && err.status === 429) {
        throw new PlatformThrottledError(defaultThrottleWaitMs(options), `${LABEL} answered HTTP 429.`);
      }
      throw err;
    }
  }

  return absoluteClient({
    platform: Platform.PINDUODUO,
    batchKey: (listing) => listing.listingId,
    maxBatch: 1,
    // QPS limits are not published (guess).
    defaultRequestsPerSecond: 10,
    listingProblem: needsItemId('goods id (goods_id)'),
    send,
  });
}
