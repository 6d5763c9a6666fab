import type { IncomingHttpHeaders } from 'node:http';
import { mac, macValid } from '../common/hmac.js';

/** Where a webhook carries its HMAC-SHA256 of the raw body, and how it is written there. */
export interface SignatureScheme {
  header: 'x-hub-signature-256' | 'x-shopify-hmac-sha256';
  encoding: 'hex' | 'base64';
  prefix: string;
}

/** `X-Hub-Signature-256: sha256=<hex>`: every channel but Shopify's, and the carriers. */
export const HUB_SIGNATURE: SignatureScheme = {
  header: 'x-hub-signature-256',
  encoding: 'hex',
  prefix: 'sha256=',
};

/** Shopify's `X-Shopify-Hmac-Sha256: <base64>`. */
export const SHOPIFY_SIGNATURE: SignatureScheme = {
  header: 'x-shopify-hmac-sha256',
  encoding: 'base64',
  prefix: '',
};

/**
 * Whether the request's header holds the HMAC-SHA256 of `rawBody` (the bytes as received) with
 * `secret`, as `scheme` writes it.
 */
export function signatureValid(
  scheme: SignatureScheme,
  secret: string,
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
): boolean {
  const header = headers[scheme.header];
  const given = typeof header === 'string' ? header : '';
  return macValid(secret, rawBody, given, scheme.encoding, scheme.prefix);
}

/** The header that signs `body` with `secret` as `scheme` has it: what a platform or carrier sends. */
export function signatureHeader(scheme: SignatureScheme, secret: string, body: Buffer | string) {
  return { [scheme.header]: `${scheme.prefix}${mac(secret, body, scheme.encoding)}` };
}
