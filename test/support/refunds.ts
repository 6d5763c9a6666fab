import { readFileSync } from 'node:fs';

/**
 * Refund JSON as the hub must read it: an integer beyond 2^53 (Taobao tid/oid, Shopify order_id) kept as its
 * source text, since plain JSON.parse would change it and the mapper refuses such a number.
 */
export function parseKeepingBigIds(text: string): any {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
      ? context?.source
      : value,
  );
}

/** A file under test/fixtures, read with parseKeepingBigIds. */
export function refundFixture(path: string): any {
  return parseKeepingBigIds(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));
}
