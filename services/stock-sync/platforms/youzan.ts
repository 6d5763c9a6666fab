import { createHash } from 'node:crypto';
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
  idValue,
  isRecord,
  jsonRequest,
  jsonText,
  platformText,
  requestJson,
  requireCredentials,
  unexpectedReply,
  urlOf,
  type Outcome,
} from './common.js';

/**
 * Youzan (有赞): `youzan.item.quantity.update` 3.0.0 sets one SKU outright. No signature: an access token,
 * fetched with the app's secret for the shop and kept in memory per channel until shortly before it expires.
 */

const LABEL = 'Youzan';
const TOKEN_EARLY_MS = 5 * 60_000;
/** 请求太频繁: "retry after 30–120 s". */
const THROTTLED = '4101';
const YOUZAN_THROTTLE_WAIT_MS = 30_000;
/** 4201 invalid token, 4203 expired: fetch a new one, once. */
const TOKEN_CODES = new Set(['4201', '4203']);

interface Token {
  value: string;
  expiresAt: number;
  /** The credentials it was fetched with: new ones (setChannelApi again) need a new token. */
  fingerprint: string;
}

export function youzanClient(options: StockClientOptions): StockClient {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, Token>();

  const fingerprintOf = (api: ChannelApi) =>
    createHash('sha256')
      .update(JSON.stringify([api.baseUrl, api.appKey, api.appSecret, api.shopId]))
      .digest('hex');

  async function fetchToken(api: ChannelApi, signal: AbortSignal): Promise<Token> {
    const { appKey, appSecret, shopId } = requireCredentials(api, LABEL, ['appKey', 'appSecret', 'shopId']);
    const body = jsonText({
      client_id: appKey,
      client_secret: appSecret,
      authorize_type: 'silent',
      grant_id: idValue(shopId),
    });
    const reply = await requestJson(
      options,
      api,
      LABEL,
      jsonRequest(urlOf(api, '/auth/token'), body),
      signal,
    );
    const data = isRecord(reply) ? reply.data : undefined;
    if (
      isRecord(reply) &&
      reply.success === true &&
      isRecord(data) &&
      typeof data.access_token === 'string'
    ) {
      const token = {
        value: data.access_token,
        expiresAt: Number(data.expires),
        fingerprint: fingerprintOf(api),
      };
      tokens.set(api.channelId, token);
      return token;
    }
    const error = isRecord(reply) && isRecord(reply.gw_err_resp) ? reply.gw_err_resp : reply;
    if (!isRecord(error)) throw unexpectedReply(LABEL);
    const code = String(error.err_code ?? error.code);
    throw new PlatformRejectedError(
      code,
      `${describe(LABEL, code, platformText(error.err_msg ?? error.message ?? error.msg, api))} (fetching an access token)`,
    );
  }

  async function tokenFor(api: ChannelApi, signal: AbortSignal): Promise<string> {
    const cached = tokens.get(api.channelId);
    const fresh =
      cached && cached.fingerprint === fingerprintOf(api) && now() < cached.expiresAt - TOKEN_EARLY_MS;
    return (fresh ? cached : await fetchToken(api, signal)).value;
  }

  /** `token`: the token was refused; a new one may do. */
  function outcome(
    body: unknown,
    api: ChannelApi,
  ): Outcome | { kind: 'token'; code: string; message: string } {
    if (!isRecord(body)) throw unexpectedReply(LABEL);
    const data = body.data;
    if (body.success === true && isRecord(data) && data.is_success === true) return { kind: 'ok' };
    const gateway = isRecord(body.gw_err_resp) ? body.gw_err_resp : null;
    const rawCode = gateway ? gateway.err_code : body.code;
    if (rawCode === undefined) throw unexpectedReply(LABEL);
    const code = String(rawCode);
    const text = gateway ? gateway.err_msg : (body.message ?? body.msg);
    const message = describe(LABEL, code, platformText(text, api));
    if (code === THROTTLED) {
      return { kind: 'throttled', waitMs: defaultThrottleWaitMs(options, YOUZAN_THROTTLE_WAIT_MS), message };
    }
    if (TOKEN_CODES.has(code)) return { kind: 'token', code, message };
    // The gateway's errors are about the call; the API's own (success: false) about the item.
    return gateway ? { kind: 'rejected', code, message } : { kind: 'refused', code, message };
  }

  async function update(api: ChannelApi, set: StockSet, token: string, signal: AbortSignal) {
    const url = urlOf(
      api,
      `/api/youzan.item.quantity.update/3.0.0?access_token=${encodeURIComponent(token)}`,
    );
    const body = jsonText({
      item_id: idValue(set.platformItemId ?? ''),
      sku_id: idValue(set.platformSkuId),
      quantity: set.target,
      type: 0,
    });
    return outcome(await requestJson(options, api, LABEL, jsonRequest(url, body), signal), api);
  }

  async function send(api: ChannelApi, [set]: StockSet[], signal: AbortSignal): Promise<Outcome> {
    const first = await update(api, set, await tokenFor(api, signal), signal);
    if (first.kind !== 'token') return first;
    const second = await update(api, set, (await fetchToken(api, signal)).value, signal);
    if (second.kind !== 'token') return second;
    tokens.delete(api.channelId);
    return {
      kind: 'rejected',
      code: second.code,
      message: `${second.message} (with a freshly fetched token)`,
    };
  }

  return absoluteClient({
    platform: Platform.YOUZAN,
    batchKey: (listing) => listing.listingId,
    maxBatch: 1,
    // Item writes: 20 requests/s per shop (official forum).
    defaultRequestsPerSecond: 20,
    listingProblem: needsItemId('item id (item_id)'),
    send,
  });
}
