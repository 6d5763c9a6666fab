import { createHmac, timingSafeEqual } from 'node:crypto';

/** Shortest webhook secret the hub accepts: an HMAC key short enough to guess would let anyone sign. */
export const MIN_SECRET_LENGTH = 32;

/** The HMAC-SHA256 of `body` (a string as UTF-8) with `secret`, as `encoding` writes it. */
export function mac(secret: string, body: Buffer | string, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac('sha256', secret).update(body).digest(encoding);
}

/**
 * Whether `given` is `prefix` + the HMAC of `body`. Compared in constant time, so how long a
 * wrong signature takes to refuse tells nothing about the right one.
 */
export function macValid(
  secret: string,
  body: Buffer | string,
  given: string,
  encoding: 'hex' | 'base64' = 'hex',
  prefix = '',
): boolean {
  const expected = Buffer.from(`${prefix}${mac(secret, body, encoding)}`);
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
