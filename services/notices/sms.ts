import { createHmac, randomUUID } from 'node:crypto';

/**
 * Alibaba Cloud SMS `SendSms`, RPC signature version 1.0 (docs: the SMS API's common parameters and its
 * signature method). Pure functions: the request is sent by services/notices/sender.ts.
 */

export const SMS_DEFAULT_BASE_URL = 'https://dysmsapi.aliyuncs.com';

/** RFC 3986: unreserved characters kept, everything else as %XX of its UTF-8 bytes (space %20, `*` %2A). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Parameters sorted by name, each name and value encoded, joined `name=value` with `&`. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name])}`)
    .join('&');
}

/** Base64(HMAC-SHA1(secret + "&", METHOD & encode("/") & encode(canonical))). */
export function rpcSignature(
  method: string,
  params: Record<string, string>,
  accessKeySecret: string,
): string {
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64');
}

export interface SmsAccount {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
}

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, as the common parameter `Timestamp` wants it. */
function timestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The signed query of one SendSms (sent as a POST form body). */
export function sendSmsParams(
  account: SmsAccount,
  message: { phone: string; templateCode: string; params: Record<string, string>; outId: string },
  at: Date,
  nonce: string = randomUUID(),
): Record<string, string> {
  const params: Record<string, string> = {
    AccessKeyId: account.accessKeyId,
    Action: 'SendSms',
    Format: 'JSON',
    RegionId: 'cn-hangzhou',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: nonce,
    SignatureVersion: '1.0',
    Timestamp: timestamp(at),
    Version: '2017-05-25',
    PhoneNumbers: message.phone,
    SignName: account.signName,
    TemplateCode: message.templateCode,
    TemplateParam: JSON.stringify(message.params),
    OutId: message.outId,
  };
  return { ...params, Signature: rpcSignature('POST', params, account.accessKeySecret) };
}

/** What a reply's `Code` means for the notice. */
export type SmsVerdict =
  | { kind: 'sent'; messageId: string | null }
  /** Wait and try again: the account's rate (`Throttling.User`) or the number's (`isv.BUSINESS_LIMIT_CONTROL`). */
  | { kind: 'throttled'; perNumber: boolean; message: string }
  | { kind: 'refused'; message: string };

export function smsVerdict(reply: { Code?: unknown; Message?: unknown; BizId?: unknown }): SmsVerdict {
  const code = typeof reply.Code === 'string' ? reply.Code : '(no Code)';
  const message = `${code}: ${typeof reply.Message === 'string' ? reply.Message : ''}`.trim();
  if (code === 'OK') return { kind: 'sent', messageId: typeof reply.BizId === 'string' ? reply.BizId : null };
  if (code === 'isv.BUSINESS_LIMIT_CONTROL') return { kind: 'throttled', perNumber: true, message };
  if (code.startsWith('Throttling')) return { kind: 'throttled', perNumber: false, message };
  return { kind: 'refused', message };
}
