import { Platform } from '../../../common/enums.js';
import {
  PlatformRejectedError,
  type ChannelApi,
  type StockClient,
  type StockClientOptions,
  type StockSet,
} from '../platform-api.js';
import { absoluteClient, needsItemId } from './absolute.js';
import {
  defaultThrottleWaitMs,
  describe,
  formRequest,
  isRecord,
  platformText,
  requestJson,
  requireCredentials,
  unexpectedReply,
  type Outcome,
} from './common.js';
import { gmt8Timestamp, topSign, type TopSignMethod } from './signing.js';

/**
 * Taobao / Tmall (TOP): `taobao.skus.quantity.update` sets up to 20 SKUs of one item (num_iid) outright,
 * one SKU or many, so every write is the same call.
 */

const LABEL = 'Taobao';
const SIGN_METHODS: TopSignMethod[] = ['md5', 'hmac', 'hmac-sha256'];
/** Code 7: the app's call quota; `sub_msg` says how long the ban lasts. */
const THROTTLED = '7';
/** Code 15 carries the item's own refusal in sub_code (isv.…); 40 and up are a parameter refused. */
const isAboutTheListings = (code: number) => code === 15 || code >= 40;

function signMethodOf(api: ChannelApi): TopSignMethod {
  const method = api.signMethod ?? 'hmac-sha256';
  if (!(SIGN_METHODS as string[]).includes(method)) {
    throw new PlatformRejectedError(
      'BAD_SIGN_METHOD',
      `${LABEL} signs with md5, hmac or hmac-sha256, not "${method}".`,
    );
  }
  return method as TopSignMethod;
}

export function taobaoClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;

  function outcome(body: unknown, api: ChannelApi): Outcome {
    if (isRecord(body) && isRecord(body.skus_quantity_update_response)) return { kind: 'ok' };
    const error = isRecord(body) ? body.error_response : undefined;
    if (!isRecord(error)) throw unexpectedReply(LABEL);
    const code = String(error.code);
    const subMsg = platformText(error.sub_msg, api);
    const message = describe(
      LABEL,
      code,
      platformText(error.msg, api),
      platformText(error.sub_code, api),
      subMsg,
    );
    if (code === THROTTLED) {
      const seconds = /This ban will last for (\d+) more seconds/.exec(subMsg)?.[1];
      const waitMs = seconds === undefined ? defaultThrottleWaitMs(options) : Number(seconds) * 1_000;
      return { kind: 'throttled', waitMs, message };
    }
    return isAboutTheListings(Number(code))
      ? { kind: 'refused', code, message }
      : { kind: 'rejected', code, message };
  }

  async function send(api: ChannelApi, sets: StockSet[], signal: AbortSignal): Promise<Outcome> {
    const { appKey, appSecret, accessToken } = requireCredentials(api, LABEL, [
      'appKey',
      'appSecret',
      'accessToken',
    ]);
    const signMethod = signMethodOf(api);
    const params: Record<string, string> = {
      method: 'taobao.skus.quantity.update',
      app_key: appKey,
      session: accessToken,
      timestamp: gmt8Timestamp(now()),
      v: '2.0',
      format: 'json',
      sign_method: signMethod,
      num_iid: sets[0].platformItemId ?? '',
      skuid_quantities: sets.map((s) => `${s.platformSkuId}:${s.target}`).join(';'),
      type: '1',
    };
    params.sign = topSign(params, appSecret, signMethod);
    return outcome(await requestJson(options, api, LABEL, formRequest(api.baseUrl, params), signal), api);
  }

  return absoluteClient({
    platform: Platform.TAOBAO,
    batchKey: (listing) => listing.platformItemId ?? '',
    maxBatch: 20,
    // Quotas depend on the app and are not published (guess).
    defaultRequestsPerSecond: 10,
    listingProblem: needsItemId('item id (num_iid)'),
    send,
  });
}
