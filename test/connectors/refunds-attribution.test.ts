import { describe, expect, it } from 'vitest';
import type { Platform } from '../../common/enums.js';
import { connectorFor } from '../../connectors/index.js';
import { refundFixture } from '../support/refunds.js';

// The attribution fixture (issue 17): variations of the seven refund samples, each with what the shared tables
// say it is — kind, status, reason class, who is responsible, and the order line it names. The expectations were
// worked out from docs/after-sale.md, not from the mapper. The share right is reported; all must be.

interface Case {
  platform: Platform;
  note: string;
  record: unknown;
  expected: {
    kind: string;
    status: string | null;
    reasonClass: string;
    responsible: string;
    line: { productCode: string | null; platformSkuId: string | null; platformLineId: string | null };
  };
}

const cases = refundFixture('refunds-attribution.json') as Case[];

describe('refund attribution fixture', () => {
  it('has at least 100 records across the seven platforms', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map(({ platform }) => platform)).size).toBe(7);
  });

  it('attributes every record right, and reports the share', () => {
    const wrong: string[] = [];
    for (const { platform, note, record, expected } of cases) {
      const refund = connectorFor(platform).toRefund(record);
      const [line] = refund.lines;
      const got = {
        kind: refund.kind,
        status: refund.status,
        reasonClass: refund.reasonClass,
        responsible: refund.responsible,
        line: {
          productCode: line.productCode,
          platformSkuId: line.platformSkuId,
          platformLineId: line.platformLineId,
        },
      };
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        wrong.push(`${platform} ${note}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      }
    }
    const right = cases.length - wrong.length;
    console.info(
      `refund attribution: ${right}/${cases.length} right (${((100 * right) / cases.length).toFixed(1)}%)`,
    );
    expect(wrong).toEqual([]);
  });
});
