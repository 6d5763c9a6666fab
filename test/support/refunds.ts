import { readFileSync } from 'node:fs';
import { parseJsonKeepingBigIds } from '../../common/json.js';

/**
 * A file under test/fixtures, read as the hub reads a platform's reply (common/json.ts): an integer beyond 2^53
 * (Taobao tid/oid, Shopify order_id) kept as its source text, which plain JSON.parse would change.
 */
export function refundFixture(path: string): any {
  return parseJsonKeepingBigIds(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'));
}
