import { describe, expect, it } from 'vitest';
import type { CanonicalRefund } from '../../connectors/canonical.js';
import { connectorFor } from '../../connectors/index.js';
import {
  Platform,
  RefundKind,
  RefundReasonClass,
  RefundResponsible,
  RefundStatus,
} from '../../common/enums.js';
import { PayloadMappingError } from '../../common/errors.js';
import { refundFixture } from '../support/refunds.js';
import { mutate, paths } from '../support/payload-mutations.js';

// As for orders (robustness.test.ts): whatever a refund record holds, toRefund answers with a well-formed
// canonical refund or a PayloadMappingError naming a field; never a TypeError, a malformed amount or a bad date.

const samples = Object.fromEntries(
  Object.values(Platform)
    .filter((platform) => platform !== Platform.STOREFRONT)
    .map((platform) => [platform, refundFixture(`channels/refunds/${platform.toLowerCase()}.json`)]),
) as Record<Platform, unknown>;
samples[Platform.STOREFRONT] = {
  refundId: 'SF-R-1',
  externalId: 'SF-10001',
  kind: 'RETURN_AND_REFUND',
  status: 'REQUESTED',
  lines: [{ productCode: 'MILK-1L', quantity: 1 }],
  refundAmount: '129.90',
  currencyCode: 'CNY',
  reasonText: '质量问题',
  requestedAt: '2026-01-06T09:00:00+08:00',
};

const replacements: unknown[] = [
  ...[undefined, null, true, {}, [], [1], [{}]],
  ...['', ' ', 'x', '-1', '1e3'],
  ...[0, -1, 1.5, 2 ** 60, NaN, Infinity],
];

const optionalText = (value: unknown) => value === null || (typeof value === 'string' && /\S/.test(value));

function expectWellFormed(refund: CanonicalRefund) {
  expect(refund.refundId).toMatch(/\S/);
  expect(refund.externalId).toMatch(/\S/);
  expect(Object.values(RefundKind)).toContain(refund.kind);
  expect([...Object.values(RefundStatus), null]).toContain(refund.status);
  expect(typeof refund.platformStatus).toBe('string');
  expect([true, false, null]).toContain(refund.goodsReturned);
  expect(refund.refundAmount).toMatch(/^\d+\.\d{2}$/);
  expect(refund.currencyCode).toMatch(/^[A-Z]{3}$/);
  expect(Object.values(RefundReasonClass)).toContain(refund.reasonClass);
  expect(Object.values(RefundResponsible)).toContain(refund.responsible);
  for (const line of refund.lines) {
    expect(line.quantity === null || (Number.isSafeInteger(line.quantity) && line.quantity > 0)).toBe(true);
    expect([line.productCode, line.platformSkuId, line.platformLineId].every(optionalText)).toBe(true);
  }
  expect(
    [refund.reasonText, refund.reasonCode, refund.returnTrackingNumber, refund.returnCarrier].every(
      optionalText,
    ),
  ).toBe(true);
  expect(Number.isNaN(refund.requestedAt.getTime())).toBe(false);
  expect(Number.isNaN(refund.updatedAt.getTime())).toBe(false);
}

describe('toRefund never crashes on a malformed record', () => {
  it.each(Object.values(Platform))(
    '%s: every path of the sample, replaced by every wrong kind of value',
    (platform) => {
      const connector = connectorFor(platform);
      const sample = samples[platform];
      expectWellFormed(connector.toRefund(sample));
      for (const path of paths(sample)) {
        for (const replacement of replacements) {
          let refund: CanonicalRefund;
          try {
            refund = connector.toRefund(mutate(sample, path, replacement));
          } catch (error) {
            if (!(error instanceof PayloadMappingError)) {
              throw new Error(`${path.join('.')} = ${String(replacement)} threw ${String(error)}`, {
                cause: error,
              });
            }
            expect(error.fieldPath).not.toBe('');
            continue;
          }
          expectWellFormed(refund);
        }
      }
    },
  );
});
