/**
 * JSON as the platforms' ids need it read: an integer beyond 2^53 (Taobao tid/oid/refund ids, Shopify order_id)
 * kept as its source text, which plain JSON.parse would silently change into another number. Every other value
 * is as JSON.parse gives it. Throws JSON.parse's SyntaxError; callers say what the body was.
 */
export function parseJsonKeepingBigIds(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
      ? context?.source
      : value,
  );
}
