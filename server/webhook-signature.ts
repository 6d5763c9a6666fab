import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

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
 * Whether the request's header holds the HMAC-SHA256 of `rawBody` with `secret`, as `scheme` writes it.
 * Compared in constant time, so how long a wrong signature takes to refuse tells nothing about the right one.
 */
export function signatureValid(
  scheme: SignatureScheme,
  secret: string,
  rawBody: string,
  headers: IncomingHttpHeaders,
): boolean {
  const header = headers[scheme.header];
  const given = Buffer.from(typeof header === 'string' ? header : '');
  const mac = createHmac('sha256', secret).update(rawBody, 'utf8').digest(scheme.encoding);
  const expected = Buffer.from(`${scheme.prefix}${mac}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
