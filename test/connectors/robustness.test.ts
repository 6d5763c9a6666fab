import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CanonicalOrder } from '../../connectors/canonical.js';
import { connectorFor } from '../../connectors/index.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { PayloadMappingError } from '../../common/errors.js';
import { mutate, paths } from '../support/payload-mutations.js';

// Whatever a payload holds, a connector answers with a well-formed canonical order or a PayloadMappingError:
// never a TypeError, never a malformed amount or an invalid date. Each sample is mutated at every path in turn.

const channelSample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/channels/${name}.json`, import.meta.url), 'utf8'));

const samples: Record<Platform, unknown> = {
  [Platform.TAOBAO]: channelSample('taobao'),
  [Platform.JD]: channelSample('jd'),
  [Platform.PINDUODUO]: channelSample('pinduoduo'),
  [Platform.DOUYIN]: channelSample('douyin'),
  [Platform.KUAISHOU]: channelSample('kuaishou'),
  [Platform.YOUZAN]: channelSample('youzan'),
  [Platform.SHOPIFY]: channelSample('shopify'),
  [Platform.STOREFRONT]: {
    externalId: 'SF-10001',
    status: 'PAID',
    customerName: 'Grace Hopper',
    shippingAddress: {
      name: 'Grace Hopper',
      phone: '+1 555 0100',
      city: 'Arlington',
      line1: '1 Navy Way',
      country: 'US',
    },
    lines: [{ productCode: 'MILK-1L', quantity: 2, unitPrice: '129.90' }],
    currencyCode: 'CNY',
    placedAt: '2026-01-05T20:15:02+08:00',
  },
};

/** What each value in turn is replaced with; `undefined` deletes the member. */
const replacements: unknown[] = [
  ...[undefined, null, true, {}, [], [1], [{}]],
  ...['', ' ', 'x', '-1', '1e3', '$x$1$'],
  ...[0, -1, 1.5, 2 ** 52, Number.MAX_SAFE_INTEGER, 2 ** 60, NaN, Infinity, -Infinity],
];

const MONEY = /^\d+\.\d{2}$/;

/** The canonical order's own invariants. */
function expectWellFormed(order: CanonicalOrder) {
  expect(order.externalId).toMatch(/\S/);
  expect([...Object.values(OrderStatus), null]).toContain(order.status);
  expect(typeof order.platformStatus).toBe('string');
  expect(order.customerName).toMatch(/\S/);
  expect(order.shippingAddress.line1).toMatch(/\S/);
  expect(order.shippingAddress.country).toMatch(/^[A-Z]{2}$/);
  expect(order.currencyCode).toMatch(/^[A-Z]{3}$/);
  expect(order.total).toMatch(MONEY);
  expect(order.lines.length).toBeGreaterThan(0);
  for (const line of order.lines) {
    expect(Number.isSafeInteger(line.quantity) && line.quantity > 0).toBe(true);
    expect(line.unitPrice).toMatch(MONEY);
    expect(line.lineTotal).toMatch(MONEY);
    expect(line.productCode === null || typeof line.productCode === 'string').toBe(true);
    expect(line.platformSkuId === null || typeof line.platformSkuId === 'string').toBe(true);
  }
  expect(Number.isNaN(order.placedAt.getTime())).toBe(false);
  expect(order.paidAt === null || !Number.isNaN(order.paidAt.getTime())).toBe(true);
}

describe('connectors never crash on a malformed payload', () => {
  it.each(Object.values(Platform))(
    '%s: every path of the sample, replaced by every wrong kind of value',
    (platform) => {
      const connector = connectorFor(platform);
      const sample = samples[platform];
      expectWellFormed(connector.toOrder(sample));
      let mapped = 0;
      let refused = 0;
      for (const path of paths(sample)) {
        for (const replacement of replacements) {
          let order: CanonicalOrder;
          try {
            order = connector.toOrder(mutate(sample, path, replacement));
          } catch (error) {
            if (!(error instanceof PayloadMappingError)) {
              throw new Error(`${path.join('.')} = ${String(replacement)} threw ${String(error)}`, {
                cause: error,
              });
            }
            expect(error.fieldPath).not.toBe('');
            refused++;
            continue;
          }
          expectWellFormed(order);
          mapped++;
        }
      }
      expect(mapped).toBeGreaterThan(0); // optional fields may go
      expect(refused).toBeGreaterThan(0); // required ones may not
    },
  );

  it.each(Object.values(Platform))('%s: a reply of the wrong shape is a PayloadMappingError', (platform) => {
    const { pull } = connectorFor(platform);
    for (const body of [undefined, null, '', 'x', 0, true, [], [{}], {}, { data: [] }, { orders: {} }]) {
      expect(() => pull.parse(body)).toThrow(PayloadMappingError);
    }
  });
});
