import { Platform } from '../../../common/enums.js';
import { PlatformRequestError, type Attempt, type HttpRequest } from '../../platform-client.js';
import {
  PlatformRejectedError,
  type ChannelApi,
  type ListingResult,
  type StockClient,
  type StockClientOptions,
  type StockSet,
} from '../platform-api.js';
import { needsItemId } from './absolute.js';
import {
  breakerKey,
  defaultThrottleWaitMs,
  describe,
  failedBy,
  formRequest,
  idValue,
  isRecord,
  jsonAttempt,
  jsonText,
  platformText,
  refusalOf,
  rejectedIfRefused,
  requestJson,
  requireCredentials,
  setTo,
  unexpectedReply,
  urlOf,
  type Outcome,
} from './common.js';
import { kuaishouSign, type KuaishouSignMethod } from './signing.js';

/**
 * Kuaishou (快手小店): `open.item.sku.stock.update` only adds or subtracts, with no idempotency key. So the
 * client reads what the platform holds (`open.item.get`) right before every change and sends the difference
 * to the target; a change whose outcome is unknown is never sent again as it was: the next round reads first.
 */

const LABEL = 'Kuaishou';
const SIGN_METHODS: KuaishouSignMethod[] = ['MD5', 'HMAC_SHA256'];
/** 401 bad signature, 402 bad token (guesses): the channel's credentials, not the SKU. */
const CREDENTIAL_CODES = new Set(['401', '402']);

/**
 * A change that failed in a way that leaves its outcome unknown: the platform client must not repeat it. The
 * breaker counts it as the failure it stands for (after a deadline, the attempt that sends nothing counts the
 * timeout a second time: opossum would count an error it may ignore as a success that never happened).
 */
class ChangeNotRepeated extends PlatformRequestError {
  constructor(readonly failure: PlatformRequestError) {
    super(failure.kind, failure.message, failure.status, { cause: failure });
  }
  override get retryable(): boolean {
    return false;
  }
  override get isCallerSide(): boolean {
    return this.failure.isCallerSide;
  }
}

/**
 * An attempt that sends its request at most once. A failure that would be retried becomes ChangeNotRepeated.
 * A deadline is the platform client's own error, which it retries: the second call of the attempt is that
 * retry, and it sends nothing.
 */
function changeOnce(request: HttpRequest): Attempt<unknown> {
  const send = jsonAttempt(request);
  let sent = false;
  return async (signal) => {
    if (sent)
      throw new ChangeNotRepeated(new PlatformRequestError('timeout', 'The change got no reply in time.'));
    sent = true;
    try {
      return await send(signal);
    } catch (err) {
      if (err instanceof PlatformRequestError && err.retryable) throw new ChangeNotRepeated(err);
      throw err;
    }
  };
}

export function kuaishouClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;

  function signedRequest(api: ChannelApi, method: string, param: string): HttpRequest {
    const { appKey, appSecret, accessToken } = requireCredentials(api, LABEL, [
      'appKey',
      'appSecret',
      'accessToken',
    ]);
    const signMethod = api.signMethod ?? 'HMAC_SHA256';
    if (!(SIGN_METHODS as string[]).includes(signMethod)) {
      throw new PlatformRejectedError(
        'BAD_SIGN_METHOD',
        `${LABEL} signs with MD5 or HMAC_SHA256, not "${signMethod}".`,
      );
    }
    const params: Record<string, string> = {
      appkey: appKey,
      method,
      version: '1',
      param,
      access_token: accessToken,
      timestamp: String(now()),
      signMethod,
    };
    params.sign = kuaishouSign(params, appSecret, signMethod as KuaishouSignMethod);
    return formRequest(urlOf(api, `/${method.replace(/\./g, '/')}`), params);
  }

  function outcome(body: unknown, api: ChannelApi): Outcome {
    if (!isRecord(body) || body.result === undefined) throw unexpectedReply(LABEL);
    const code = String(body.result);
    if (code === '1') return { kind: 'ok' };
    const msg = platformText(body.msg, api);
    const message = describe(LABEL, code, msg, platformText(body.error_msg, api));
    if (code === '429' || msg.startsWith('Exceed qps limit') || msg.includes('[1017] exceed quota limit')) {
      return { kind: 'throttled', waitMs: defaultThrottleWaitMs(options), message };
    }
    return CREDENTIAL_CODES.has(code)
      ? { kind: 'rejected', code, message }
      : { kind: 'refused', code, message };
  }

  /** What the platform holds for the SKU now, or the platform's refusal (unknown item or SKU). */
  async function readStock(
    api: ChannelApi,
    set: StockSet,
    signal: AbortSignal,
  ): Promise<number | ListingResult> {
    const request = signedRequest(
      api,
      'open.item.get',
      jsonText({ kwaiItemId: idValue(set.platformItemId ?? '') }),
    );
    const body = await requestJson(options, api, LABEL, request, signal);
    const refusal = refusalOf(outcome(body, api));
    if (refusal) return failedBy(refusal);
    const data = isRecord(body) ? body.data : undefined;
    const skus = isRecord(data) && Array.isArray(data.skuList) ? data.skuList : null;
    if (!skus) throw unexpectedReply(LABEL);
    const sku: unknown = skus.find((s) => isRecord(s) && String(s.skuId) === set.platformSkuId);
    if (!isRecord(sku)) {
      return {
        kind: 'failed',
        code: 'SKU_NOT_FOUND',
        message: `${LABEL} item ${set.platformItemId} has no SKU ${set.platformSkuId}.`,
      };
    }
    const stock = Number(sku.skuStock);
    if (!Number.isInteger(stock)) throw unexpectedReply(LABEL);
    return stock;
  }

  /**
   * Reads the platform's number and sends the difference, once. A change without an answer is not followed by
   * another read here: the platform may still apply it, so the listing is left uncertain and read again only
   * after the settle time (the pusher's), never changed twice.
   */
  async function setOne(api: ChannelApi, set: StockSet, signal: AbortSignal): Promise<ListingResult> {
    const current = await readStock(api, set, signal);
    if (typeof current !== 'number') return current;
    const change = set.target - current;
    if (change === 0) return setTo(set);
    const param = jsonText({
      kwaiItemId: idValue(set.platformItemId ?? ''),
      skuId: idValue(set.platformSkuId),
      skuChangeStock: Math.abs(change),
      changeType: change > 0 ? 1 : 2,
    });
    const request = signedRequest(api, 'open.item.sku.stock.update', param);
    try {
      const { value } = await options.http.call(breakerKey(api), changeOnce(request), signal);
      const refusal = refusalOf(outcome(value, api));
      return refusal ? failedBy(refusal) : setTo(set);
    } catch (err) {
      if (err instanceof ChangeNotRepeated) throw err.failure;
      throw rejectedIfRefused(err, LABEL);
    }
  }

  return {
    platform: Platform.KUAISHOU,
    batchKey: (listing) => listing.listingId,
    maxBatch: 1,
    // A read and a change per SKU; the QPS cap is per app and API (MAX_QPS in the throttle text), so a guess.
    defaultRequestsPerSecond: 10,
    listingProblem: needsItemId('item id (kwaiItemId)'),
    async set(api, sets, signal) {
      const results = new Map<string, ListingResult>();
      for (const set of sets) results.set(set.listingId, await setOne(api, set, signal));
      return { results };
    },
  };
}
