import { createHash, createHmac } from 'node:crypto';

/**
 * The signatures of the platforms' gateways, as docs/stock-sync.md gives them, and the text they are computed
 * over. Pure functions of their inputs, so a test can check them against values worked out by hand.
 */

export type TopSignMethod = 'md5' | 'hmac' | 'hmac-sha256';
export type KuaishouSignMethod = 'MD5' | 'HMAC_SHA256';

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

export function hmacHex(algorithm: 'md5' | 'sha256', key: string, text: string): string {
  return createHmac(algorithm, key).update(text, 'utf8').digest('hex');
}

/** Names in byte order (UTF-8, not UTF-16 code units: they differ past U+FFFF). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** TOP style: every parameter but `sign`, sorted by name, as `name1value1name2value2…`. */
export function topSortedConcat(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((name) => name !== 'sign')
    .sort(byteOrder)
    .map((name) => name + params[name])
    .join('');
}

/** Taobao, JD and Pinduoduo: upper-case hex over the sorted concatenation (JD and Pinduoduo: md5 only). */
export function topSign(params: Record<string, string>, secret: string, method: TopSignMethod): string {
  const sorted = topSortedConcat(params);
  const hex =
    method === 'md5'
      ? md5Hex(secret + sorted + secret)
      : hmacHex(method === 'hmac' ? 'md5' : 'sha256', secret, sorted);
  return hex.toUpperCase();
}

/**
 * Douyin: HMAC-SHA256 keyed with the secret over the secret, the four system parameters as name+value in
 * name order and `v` = 2, and the secret again; lower-case hex.
 */
export function douyinSign(
  p: { appKey: string; method: string; paramJson: string; timestamp: string },
  secret: string,
): string {
  const text = `${secret}app_key${p.appKey}method${p.method}param_json${p.paramJson}timestamp${p.timestamp}v2${secret}`;
  return hmacHex('sha256', secret, text);
}

/**
 * Kuaishou: the signed parameters sorted and joined as `k=v&k=v`, then `&signSecret=<secret>`; MD5 of that
 * as lower-case hex, or HMAC-SHA256 of it keyed with the secret as Base64.
 */
export function kuaishouSign(
  params: Record<string, string>,
  secret: string,
  method: KuaishouSignMethod,
): string {
  const text =
    Object.keys(params)
      .filter((name) => name !== 'sign')
      .sort(byteOrder)
      .map((name) => `${name}=${params[name]}`)
      .join('&') + `&signSecret=${secret}`;
  return method === 'MD5' ? md5Hex(text) : createHmac('sha256', secret).update(text, 'utf8').digest('base64');
}

const GMT8_MS = 8 * 3_600_000;

/** `yyyy-MM-dd HH:mm:ss` in GMT+8 (China has no daylight saving), whatever the server's zone. */
export function gmt8Timestamp(epochMs: number): string {
  const iso = new Date(epochMs + GMT8_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
