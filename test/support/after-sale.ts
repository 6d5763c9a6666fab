import { readFileSync } from 'node:fs';
import type { TestHub } from './hub.js';
import { deliver } from './webhooks.js';

/** A platform's refund sample as its bytes: the big ids in it survive only as text. */
export function refundSampleText(platform: string): string {
  return readFileSync(new URL(`../fixtures/channels/refunds/${platform}.json`, import.meta.url), 'utf8');
}

/** A storefront order (connectors/storefront.ts), paid unless told. */
export function storefrontOrder(
  externalId: string,
  lines: { productCode: string; quantity: number; unitPrice: string }[],
  status = 'PAID',
) {
  return {
    externalId,
    status,
    customerName: 'Grace Hopper',
    shippingAddress: { name: 'Grace Hopper', line1: '1 Navy Way', city: 'Arlington', country: 'US' },
    lines,
    currencyCode: 'CNY',
    placedAt: '2026-11-20T09:00:00+08:00',
    ...(status === 'PENDING_PAYMENT' ? {} : { paidAt: '2026-11-20T09:01:00+08:00' }),
  };
}

/** A storefront after-sale record (connectors/refunds.ts storefrontRefund); `minute` orders its updates. */
export function storefrontRefund(
  refundId: string,
  externalId: string,
  options: {
    kind?: 'REFUND_ONLY' | 'RETURN_AND_REFUND';
    status: string;
    lines: { productCode: string; quantity: number }[];
    amount: string;
    minute?: number;
  },
) {
  return {
    refundId,
    externalId,
    kind: options.kind ?? 'RETURN_AND_REFUND',
    status: options.status,
    lines: options.lines,
    refundAmount: options.amount,
    currencyCode: 'CNY',
    reasonCode: 'DEFECTIVE',
    requestedAt: '2026-11-21T10:00:00+08:00',
    updatedAt: `2026-11-21T10:${String(options.minute ?? 0).padStart(2, '0')}:00+08:00`,
  };
}

/** Plain SQL on the hub's database. */
export function sqlOf(hub: TestHub) {
  return <T = any>(query: string, params: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(query, params);
}

/** A webhook to the hub's door for a channel with its secret. */
export function webhookDoor(hub: TestHub, channelCode: string, secret: string) {
  const base = hub.url.replace(/\/graphql$/, '');
  return (body: unknown, options: { shopify?: boolean; headers?: Record<string, string> } = {}) =>
    deliver(base, channelCode, body, { secret, ...options });
}

export const RETURN_FIELDS = `id refundId externalId kind status platformStatus goodsReturned reasonClass responsible
  refundAmount { amount currencyCode } order { id externalId status refundedAmount { amount } }
  lines { quantity restocked quarantined orderLine { productCode refundedQuantity } }
  timeline { fromStatus toStatus platformStatus source }`;
