import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrderStatus,
  Platform,
  RefundKind,
  RefundReasonClass,
  RefundResponsible,
  RefundStatus,
} from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { foldSalesChanges, readSalesReport } from '../services/reports.js';
import { seedChannel } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { insertReturn, type ReturnRow } from './support/return-rows.js';
import { insertSale } from './support/sales.js';
import { SalesGroupBy } from '../common/enums.js';

/**
 * Refunds in salesReport and the returnsReport, against numbers worked out by hand from the fixture below.
 * Times are UTC; Asia/Shanghai is UTC+8, so the range 1–2 June (Shanghai) is 31 May 16:00 to 2 June 16:00 UTC.
 *
 * Sales (tmall in CNY, shopify in USD):
 *   O0 tmall DELIVERED, 20 May (before the range): B 2 × 40.00
 *   O1 tmall DELIVERED, 1 June 10:00 Shanghai:     A 2 × 30.00 (60.00), B 1 × 40.00 — total 100.00
 *   O2 tmall REFUNDED,  1 June 11:00 Shanghai:     C 1 × 50.00
 *   O4 tmall CANCELLED, 1 June 13:00 Shanghai:     B 1 × 40.00 (paid, then cancelled and refunded)
 *   O5 shopify DELIVERED, 1 June 14:00 Shanghai:   A 3 × 12.00 USD
 *   O3 tmall SHIPPED,   2 June 09:00 Shanghai:     A 1 × 30.00, C 2 × 10.00 (20.00) — total 50.00
 *
 * After-sale cases (requested; refunded):
 *   R1 O1 return of 1 A, 30.00, quality; requested 1 June 10:00Z, refunded 15:59:59Z (23:59:59 on 1 June in Shanghai)
 *   R2 O1 money only, no lines, 9.99, damaged in transit; refunded 1 June 16:00Z (00:00 on 2 June in Shanghai).
 *      Shared by value over A 60.00 and B 40.00: 599.4 and 399.6 cents, floors 599 + 399, the cent left to B
 *      (the larger remainder): A 5.99, B 4.00.
 *   R3 O2 return of its whole line C (quantity not given: 1 unit), goods not said (a return: back), 50.00,
 *      buyer's remorse; refunded 2 June 02:00Z
 *   R4 O3 REJECTED: counted nowhere
 *   R5 O3 APPROVED (not refunded), return of 1 A and 1 C, 10.01, quality. By value 30 and 10: 750.75 and 250.25
 *      cents, floors 750 + 250, the cent left to A: A 7.51, C 2.50
 *   R6 O5 return of 2 A, 24.00 USD, not as described; refunded 2 June 07:00Z
 *   R7 O4 money only, 40.00, buyer's remorse; refunded 1 June 06:00Z, but its sale was cancelled
 *   R8 O0 return of 1 B, 40.00, wrong item; requested 1 June 08:00Z, refunded 09:00Z
 *   R9 O3 CANCELLED: counted nowhere
 *   R10 O3 money only, no lines, 5.00, other; requested 2 June 15:59Z, refunded 16:00Z (the range's end).
 *      By value A 30.00, C 20.00: A 3.00, C 2.00
 *   R11 O1 requested 2 June 16:00Z: after the range
 */

const SALES = `query ($from: DateTime!, $to: DateTime!, $groupBy: SalesGroupBy!, $tz: String) {
  salesReport(from: $from, to: $to, groupBy: $groupBy, timeZone: $tz) {
    key orders units revenue { amount currencyCode } grossRevenue { amount currencyCode }
    refunds { amount currencyCode } netRevenue { amount currencyCode }
  }
}`;
const RETURNS = `query ($from: DateTime!, $to: DateTime!, $groupBy: ReturnsGroupBy!, $channel: String, $tz: String) {
  returnsReport(from: $from, to: $to, groupBy: $groupBy, channelCode: $channel, timeZone: $tz) {
    key cases units unitsSold returnRate refundAmounts { amount currencyCode }
  }
}`;

const range = { from: '2026-05-31T16:00:00Z', to: '2026-06-02T16:00:00Z' };

const money = (amount: string, currencyCode = 'CNY') => ({ amount, currencyCode });
/** A salesReport row: orders, units, then revenue, gross, refunds and net in one currency. */
const sales = (
  key: string,
  orders: number,
  units: number,
  [revenue, gross, refunds, net]: [string, string, string, string],
  currencyCode = 'CNY',
) => ({
  key,
  orders,
  units,
  revenue: money(revenue, currencyCode),
  grossRevenue: money(gross, currencyCode),
  refunds: money(refunds, currencyCode),
  netRevenue: money(net, currencyCode),
});
const returns = (
  key: string,
  cases: number,
  units: number,
  unitsSold: number,
  returnRate: number | null,
  refundAmounts: { amount: string; currencyCode: string }[],
) => ({ key, cases, units, unitsSold, returnRate, refundAmounts });

describe('refunds and returns in the reports', () => {
  let hub: TestHub;
  let analyst: string;
  let tmall: Channel;

  beforeAll(async () => {
    hub = await startTestHub('returns-report', { env: { RATE_LIMIT_ANALYST: 'requestsPerSecond=none' } });
    analyst = await hub.apiKey('ANALYST');
    tmall = await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    const shopify = await seedChannel(hub.orm, 'shopify', Platform.SHOPIFY);
    const sale = (
      channel: typeof tmall,
      externalId: string,
      status: OrderStatus,
      placedAt: string,
      lines: [string, number, string][],
      currency?: string,
    ) => insertSale(hub.orm, { channel, externalId, status, placedAt, lines, currency });
    const o0 = await sale(tmall, 'O0', OrderStatus.DELIVERED, '2026-05-20T02:00:00Z', [['B', 2, '40.00']]);
    const o1 = await sale(tmall, 'O1', OrderStatus.DELIVERED, '2026-06-01T02:00:00Z', [
      ['A', 2, '30.00'],
      ['B', 1, '40.00'],
    ]);
    const o2 = await sale(tmall, 'O2', OrderStatus.REFUNDED, '2026-06-01T03:00:00Z', [['C', 1, '50.00']]);
    const o4 = await sale(tmall, 'O4', OrderStatus.CANCELLED, '2026-06-01T05:00:00Z', [['B', 1, '40.00']]);
    const o5 = await sale(
      shopify,
      'O5',
      OrderStatus.DELIVERED,
      '2026-06-01T06:00:00Z',
      [['A', 3, '12.00']],
      'USD',
    );
    const o3 = await sale(tmall, 'O3', OrderStatus.SHIPPED, '2026-06-02T01:00:00Z', [
      ['A', 1, '30.00'],
      ['C', 2, '10.00'],
    ]);

    const { QUALITY, DAMAGED_IN_TRANSIT, BUYER_REMORSE, NOT_AS_DESCRIBED, WRONG_OR_MISSING, OTHER } =
      RefundReasonClass;
    const { MERCHANT, CARRIER, BUYER, UNKNOWN } = RefundResponsible;
    const { RETURN_AND_REFUND, REFUND_ONLY } = RefundKind;
    const cases: ReturnRow[] = [
      {
        orderId: o1,
        refundId: 'R1',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REFUNDED,
        goodsReturned: true,
        refundAmount: '30.00',
        reasonClass: QUALITY,
        responsible: MERCHANT,
        requestedAt: '2026-06-01T10:00:00Z',
        receivedAt: '2026-06-01T14:00:00Z',
        refundedAt: '2026-06-01T15:59:59Z',
        lines: [{ lineNo: 1, quantity: 1 }],
      },
      {
        orderId: o1,
        refundId: 'R2',
        kind: REFUND_ONLY,
        status: RefundStatus.REFUNDED,
        goodsReturned: false,
        refundAmount: '9.99',
        reasonClass: DAMAGED_IN_TRANSIT,
        responsible: CARRIER,
        requestedAt: '2026-06-01T11:00:00Z',
        refundedAt: '2026-06-01T16:00:00Z',
      },
      {
        orderId: o2,
        refundId: 'R3',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REFUNDED,
        goodsReturned: null,
        refundAmount: '50.00',
        reasonClass: BUYER_REMORSE,
        responsible: BUYER,
        requestedAt: '2026-06-01T12:00:00Z',
        refundedAt: '2026-06-02T02:00:00Z',
        lines: [{ lineNo: 1, quantity: null }],
      },
      {
        orderId: o3,
        refundId: 'R4',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REJECTED,
        refundAmount: '30.00',
        reasonClass: QUALITY,
        responsible: MERCHANT,
        requestedAt: '2026-06-02T03:00:00Z',
        lines: [{ lineNo: 1, quantity: 1 }],
      },
      {
        orderId: o3,
        refundId: 'R5',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.APPROVED,
        refundAmount: '10.01',
        reasonClass: QUALITY,
        responsible: MERCHANT,
        requestedAt: '2026-06-02T04:00:00Z',
        lines: [
          { lineNo: 1, quantity: 1 },
          { lineNo: 2, quantity: 1 },
        ],
      },
      {
        orderId: o5,
        refundId: 'R6',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REFUNDED,
        goodsReturned: true,
        refundAmount: '24.00',
        currency: 'USD',
        reasonClass: NOT_AS_DESCRIBED,
        responsible: MERCHANT,
        requestedAt: '2026-06-01T07:00:00Z',
        refundedAt: '2026-06-02T07:00:00Z',
        lines: [{ lineNo: 1, quantity: 2 }],
      },
      {
        orderId: o4,
        refundId: 'R7',
        kind: REFUND_ONLY,
        status: RefundStatus.REFUNDED,
        goodsReturned: false,
        refundAmount: '40.00',
        reasonClass: BUYER_REMORSE,
        responsible: BUYER,
        requestedAt: '2026-06-01T05:30:00Z',
        refundedAt: '2026-06-01T06:00:00Z',
      },
      {
        orderId: o0,
        refundId: 'R8',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REFUNDED,
        goodsReturned: true,
        refundAmount: '40.00',
        reasonClass: WRONG_OR_MISSING,
        responsible: MERCHANT,
        requestedAt: '2026-06-01T08:00:00Z',
        refundedAt: '2026-06-01T09:00:00Z',
        lines: [{ lineNo: 1, quantity: 1 }],
      },
      {
        orderId: o3,
        refundId: 'R9',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.CANCELLED,
        refundAmount: '50.00',
        reasonClass: QUALITY,
        responsible: MERCHANT,
        requestedAt: '2026-06-02T05:00:00Z',
        lines: [{ lineNo: 2 }],
      },
      {
        orderId: o3,
        refundId: 'R10',
        kind: REFUND_ONLY,
        status: RefundStatus.REFUNDED,
        goodsReturned: false,
        refundAmount: '5.00',
        reasonClass: OTHER,
        responsible: UNKNOWN,
        requestedAt: '2026-06-02T15:59:00Z',
        refundedAt: '2026-06-02T16:00:00Z',
      },
      {
        orderId: o1,
        refundId: 'R11',
        kind: RETURN_AND_REFUND,
        status: RefundStatus.REQUESTED,
        refundAmount: '1.00',
        reasonClass: QUALITY,
        responsible: MERCHANT,
        requestedAt: '2026-06-02T16:00:00Z',
        lines: [{ lineNo: 2 }],
      },
    ];
    for (const row of cases) await insertReturn(hub.orm.em.fork(), row);
  });

  afterAll(() => hub.close());

  const query = async <T>(text: string, variables: Record<string, unknown>, key = analyst) => {
    const res = await hub.gql<T>(text, variables, key);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const salesReport = async (groupBy: string, extra: Record<string, unknown> = {}) =>
    (await query<{ salesReport: unknown[] }>(SALES, { ...range, groupBy, ...extra })).salesReport;
  const returnsReport = async (groupBy: string, extra: Record<string, unknown> = {}) =>
    (await query<{ returnsReport: unknown[] }>(RETURNS, { ...range, groupBy, ...extra })).returnsReport;

  describe('salesReport: gross, refunds (by when the money went back) and net', () => {
    it("by channel: gross keeps the refunded sale O2, refunds include O0's from before the range, not the cancelled O4's", async () => {
      // tmall: revenue O1 + O3 = 150.00; gross + O2 = 200.00; refunds R1 30 + R2 9.99 + R3 50 + R8 40 = 129.99.
      expect(await salesReport('CHANNEL')).toEqual([
        sales('tmall', 2, 6, ['150.00', '200.00', '129.99', '70.01']),
        sales('shopify', 1, 3, ['36.00', '36.00', '24.00', '12.00'], 'USD'),
      ]);
    });

    it('by day in Asia/Shanghai: R1 at 23:59:59 on 1 June, R2 at midnight on 2 June; a day of refunds only', async () => {
      // 1 June: O1 (gross with O2: 150.00), refunds R1 30 + R8 40; 2 June: O3, refunds R2 9.99 + R3 50, R6 in USD.
      expect(await salesReport('DAY')).toEqual([
        sales('2026-06-01', 1, 3, ['100.00', '150.00', '70.00', '80.00']),
        sales('2026-06-01', 1, 3, ['36.00', '36.00', '0.00', '36.00'], 'USD'),
        sales('2026-06-02', 1, 3, ['50.00', '50.00', '59.99', '-9.99']),
        sales('2026-06-02', 0, 0, ['0.00', '0.00', '24.00', '-24.00'], 'USD'),
      ]);
    });

    it('by day in UTC: R2 falls on 1 June, and R10 (16:00 on 2 June) is inside this range', async () => {
      expect(
        await salesReport('DAY', { tz: 'UTC', from: '2026-06-01T00:00:00Z', to: '2026-06-03T00:00:00Z' }),
      ).toEqual([
        sales('2026-06-01', 1, 3, ['100.00', '150.00', '79.99', '70.01']),
        sales('2026-06-01', 1, 3, ['36.00', '36.00', '0.00', '36.00'], 'USD'),
        sales('2026-06-02', 1, 3, ['50.00', '50.00', '55.00', '-5.00']),
        sales('2026-06-02', 0, 0, ['0.00', '0.00', '24.00', '-24.00'], 'USD'),
      ]);
    });

    it("by status, the sale's current one: cancelled sales have no gross and no refunds", async () => {
      expect(await salesReport('STATUS')).toEqual([
        sales('SHIPPED', 1, 3, ['50.00', '50.00', '0.00', '50.00']),
        sales('DELIVERED', 1, 3, ['100.00', '100.00', '79.99', '20.01']),
        sales('DELIVERED', 1, 3, ['36.00', '36.00', '24.00', '12.00'], 'USD'),
        sales('CANCELLED', 1, 1, ['40.00', '0.00', '0.00', '0.00']),
        sales('REFUNDED', 1, 1, ['50.00', '50.00', '50.00', '0.00']),
      ]);
    });

    it("by product: a case's amount goes to the lines it covers, or shared by value over its order's lines", async () => {
      // A: R1 30 + R2 5.99; B: R2 4.00 + R8 40; C: R3 50; A in USD: R6 24. Gross of C includes O2's 50.00.
      expect(await salesReport('PRODUCT')).toEqual([
        sales('A', 2, 3, ['90.00', '90.00', '35.99', '54.01']),
        sales('B', 1, 1, ['40.00', '40.00', '44.00', '-4.00']),
        sales('A', 1, 3, ['36.00', '36.00', '24.00', '12.00'], 'USD'),
        sales('C', 1, 2, ['20.00', '70.00', '50.00', '20.00']),
      ]);
    });

    it('counts a refund in the range its money went back in, not the one its sale was placed in', async () => {
      // Only R8's hour (09:00 on 1 June): no sale placed, O0's refund.
      expect(
        await salesReport('CHANNEL', { from: '2026-06-01T09:00:00Z', to: '2026-06-01T10:00:00Z' }),
      ).toEqual([sales('tmall', 0, 0, ['0.00', '0.00', '40.00', '-40.00'])]);
    });
  });

  it('counts a case on a parcel of a split sale for the sale: its channel, its status, its units sold', async () => {
    // 1 July in Shanghai. Sale S SHIPPED (A 2 × 20.00), parcels a (SHIPPED) and b (DELIVERED) with one A each;
    // the case is on parcel b, names no line: its one line, 1 unit, 20.00.
    const july = { from: '2026-06-30T16:00:00Z', to: '2026-07-01T16:00:00Z' };
    const placedAt = '2026-07-01T02:00:00Z';
    const saleId = await insertSale(hub.orm, {
      channel: tmall,
      externalId: 'S',
      status: OrderStatus.SHIPPED,
      placedAt,
      lines: [['A', 2, '20.00']],
    });
    const parcels: Record<string, string> = {};
    for (const [label, status] of [
      ['a', OrderStatus.SHIPPED],
      ['b', OrderStatus.DELIVERED],
    ] as const) {
      parcels[label] = await insertSale(hub.orm, {
        channel: tmall,
        externalId: `S#${label}`,
        status,
        placedAt,
        lines: [['A', 1, '20.00']],
        parentId: saleId,
      });
    }
    await insertReturn(hub.orm.em.fork(), {
      orderId: parcels.b,
      refundId: 'RS',
      kind: RefundKind.RETURN_AND_REFUND,
      status: RefundStatus.REFUNDED,
      goodsReturned: true,
      refundAmount: '20.00',
      reasonClass: RefundReasonClass.QUALITY,
      responsible: RefundResponsible.MERCHANT,
      requestedAt: '2026-07-01T03:00:00Z',
      refundedAt: '2026-07-01T05:00:00Z',
    });
    expect(await salesReport('STATUS', july)).toEqual([
      sales('SHIPPED', 1, 2, ['40.00', '40.00', '20.00', '20.00']),
    ]);
    expect(await returnsReport('PRODUCT', july)).toEqual([returns('A', 1, 1, 2, 0.5, [money('20.00')])]);
  });

  describe('returnsReport', () => {
    it('by channel: cases, units back (none for money only), amounts asked, rate against units sold', async () => {
      // tmall: R1, R2, R3, R5, R7, R8, R10; units 1 + 1 + 2 + 1 = 5 of 7 sold (O1 3, O2 1, O3 3).
      // Amounts 30 + 9.99 + 50 + 10.01 + 40 + 40 + 5 = 185.00.
      expect(await returnsReport('CHANNEL')).toEqual([
        returns('tmall', 7, 5, 7, 0.7143, [money('185.00')]),
        returns('shopify', 1, 2, 3, 0.6667, [money('24.00', 'USD')]),
      ]);
    });

    it('by product: a case counts once per product it covers, its amount shared by value in whole cents', async () => {
      // A: R1, R2, R5, R6, R10; units 1 + 1 + 2 of 6 sold (O1 2, O3 1, O5 3); 30 + 5.99 + 7.51 + 3.00 = 46.50.
      // C: R3, R5, R10; units 1 + 1 of 3 sold (O2 1, O3 2); 50 + 2.50 + 2.00. B: R2, R7, R8; 1 unit of 1 sold.
      expect(await returnsReport('PRODUCT')).toEqual([
        returns('A', 5, 4, 6, 0.6667, [money('46.50'), money('24.00', 'USD')]),
        returns('C', 3, 2, 3, 0.6667, [money('54.50')]),
        returns('B', 3, 1, 1, 1, [money('84.00')]),
      ]);
    });

    it('by reason class and by who is responsible, against all 10 units sold', async () => {
      expect(await returnsReport('REASON_CLASS')).toEqual([
        returns('QUALITY', 2, 3, 10, 0.3, [money('40.01')]),
        returns('NOT_AS_DESCRIBED', 1, 2, 10, 0.2, [money('24.00', 'USD')]),
        returns('BUYER_REMORSE', 2, 1, 10, 0.1, [money('90.00')]),
        returns('WRONG_OR_MISSING', 1, 1, 10, 0.1, [money('40.00')]),
        returns('DAMAGED_IN_TRANSIT', 1, 0, 10, 0, [money('9.99')]),
        returns('OTHER', 1, 0, 10, 0, [money('5.00')]),
      ]);
      expect(await returnsReport('RESPONSIBLE')).toEqual([
        returns('MERCHANT', 4, 6, 10, 0.6, [money('80.01'), money('24.00', 'USD')]),
        returns('BUYER', 2, 1, 10, 0.1, [money('90.00')]),
        returns('CARRIER', 1, 0, 10, 0, [money('9.99')]),
        returns('UNKNOWN', 1, 0, 10, 0, [money('5.00')]),
      ]);
    });

    it("narrows to one channel's cases and sales", async () => {
      expect(await returnsReport('REASON_CLASS', { channel: 'shopify' })).toEqual([
        returns('NOT_AS_DESCRIBED', 1, 2, 3, 0.6667, [money('24.00', 'USD')]),
      ]);
    });

    it('gives no rate where nothing was sold, and nothing for an empty range', async () => {
      // The last hour: R10 only, and no sale placed.
      expect(await returnsReport('CHANNEL', { from: '2026-06-02T15:00:00Z' })).toEqual([
        returns('tmall', 1, 0, 0, null, [money('5.00')]),
      ]);
      expect(await returnsReport('CHANNEL', { to: range.from })).toEqual([]);
    });

    it('by day in Asia/Shanghai: the cases asked for each day against the units sold that day, oldest first', async () => {
      // 1 June: R1, R2, R3, R6, R7, R8, units 1 + 1 + 2 + 1 of 7 sold (O1 3, O2 1, O5 3); 2 June: R5 (2 units)
      // and R10 (23:59 in Shanghai) of O3's 3.
      expect(await returnsReport('DAY')).toEqual([
        returns('2026-06-01', 6, 5, 7, 0.7143, [money('169.99'), money('24.00', 'USD')]),
        returns('2026-06-02', 2, 2, 3, 0.6667, [money('15.01')]),
      ]);
    });

    it("by day: R11, asked for at 16:00 UTC on 2 June, is 3 June's in Shanghai and 2 June's in UTC", async () => {
      const days = { from: '2026-06-01T00:00:00Z', to: '2026-06-03T00:00:00Z' };
      expect(await returnsReport('DAY', days)).toEqual([
        returns('2026-06-01', 6, 5, 7, 0.7143, [money('169.99'), money('24.00', 'USD')]),
        returns('2026-06-02', 2, 2, 3, 0.6667, [money('15.01')]),
        returns('2026-06-03', 1, 1, 0, null, [money('1.00')]),
      ]);
      expect(await returnsReport('DAY', { ...days, tz: 'UTC' })).toEqual([
        returns('2026-06-01', 6, 5, 7, 0.7143, [money('169.99'), money('24.00', 'USD')]),
        returns('2026-06-02', 3, 3, 3, 1, [money('16.01')]),
      ]);
    });

    it('refuses a time zone that is not an IANA name, as salesReport does', async () => {
      const res = await hub.gql(RETURNS, { ...range, groupBy: 'DAY', tz: 'Mars/Olympus' }, analyst);
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
      expect(
        errorCodes(await hub.gql(SALES, { ...range, groupBy: 'DAY', tz: 'Mars/Olympus' }, analyst)),
      ).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses a range that runs backwards, an unknown channel and a key without access; OPS may ask', async () => {
      const backwards = await hub.gql(
        RETURNS,
        { from: range.to, to: range.from, groupBy: 'CHANNEL' },
        analyst,
      );
      expect(errorCodes(backwards)).toEqual(['BAD_USER_INPUT']);
      expect(
        errorCodes(await hub.gql(RETURNS, { ...range, groupBy: 'CHANNEL', channel: 'nope' }, analyst)),
      ).toEqual(['NOT_FOUND']);
      const storefront = await hub.apiKey('STOREFRONT', 'tmall');
      expect(
        errorCodes(await hub.gql(RETURNS, { ...range, groupBy: 'CHANNEL', channel: 'tmall' }, storefront)),
      ).toEqual(['FORBIDDEN']);
      const ops = await hub.apiKey('OPS');
      expect(await query(RETURNS, { ...range, groupBy: 'RESPONSIBLE', channel: 'shopify' }, ops)).toEqual({
        returnsReport: [returns('MERCHANT', 1, 2, 3, 0.6667, [money('24.00', 'USD')])],
      });
    });
  });
  describe('the hourly refund sums', () => {
    // 1 August in Shanghai (31 July 16:00 to 1 August 16:00 UTC), tmall:
    //   P1 DELIVERED 02:00Z: A 2 × 30.00, B 1 × 40.00; P2 PAID 03:00Z: C 1 × 50.00
    //   X1 P1 return of 1 A, 30.00, refunded 04:00Z; X2 P1 money only, 10.00, refunded 05:00Z (A 6.00, B 4.00);
    //   X3 P1 asked for, then cancelled; X4 P2 money only, 50.00, refunded 06:00Z.
    const august = { from: '2026-07-31T16:00:00Z', to: '2026-08-01T16:00:00Z' };
    const sql = (text: string, params: unknown[] = []) => hub.orm.em.fork().execute(text, params);
    let p2: string;

    beforeAll(async () => {
      const p1 = await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'P1',
        status: OrderStatus.DELIVERED,
        placedAt: '2026-08-01T02:00:00Z',
        lines: [
          ['A', 2, '30.00'],
          ['B', 1, '40.00'],
        ],
      });
      p2 = await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'P2',
        status: OrderStatus.PAID,
        placedAt: '2026-08-01T03:00:00Z',
        lines: [['C', 1, '50.00']],
      });
      const base = {
        reasonClass: RefundReasonClass.QUALITY,
        responsible: RefundResponsible.MERCHANT,
        requestedAt: '2026-08-01T03:30:00Z',
      };
      const refunded = { kind: RefundKind.REFUND_ONLY, status: RefundStatus.REFUNDED, goodsReturned: false };
      for (const row of [
        {
          ...base,
          ...refunded,
          orderId: p1,
          refundId: 'X1',
          refundAmount: '30.00',
          refundedAt: '2026-08-01T04:00:00Z',
        },
        {
          ...base,
          ...refunded,
          orderId: p1,
          refundId: 'X2',
          refundAmount: '10.00',
          refundedAt: '2026-08-01T05:00:00Z',
        },
        {
          ...base,
          orderId: p1,
          refundId: 'X3',
          kind: RefundKind.RETURN_AND_REFUND,
          status: RefundStatus.REQUESTED,
          refundAmount: '40.00',
        },
        {
          ...base,
          ...refunded,
          orderId: p2,
          refundId: 'X4',
          refundAmount: '50.00',
          refundedAt: '2026-08-01T06:00:00Z',
        },
      ]) {
        await insertReturn(hub.orm.em.fork(), row);
      }
      await sql(
        `insert into order_return_line (return_id, line_no, order_line_id, product_code, quantity)
         select r.id, 1, l.id, l.product_code, 1 from order_return r join order_line l on l.order_id = r.order_id
         where r.refund_id = 'X1' and l.line_no = 1`,
      );
    });

    it('counts refunds as the cases do, folded or not', async () => {
      expect(await salesReport('CHANNEL', august)).toEqual([
        sales('tmall', 2, 4, ['150.00', '150.00', '90.00', '60.00']),
      ]);
      expect(await foldSalesChanges(hub.orm.em.fork())).toBeGreaterThan(0);
      expect(await salesReport('CHANNEL', august)).toEqual([
        sales('tmall', 2, 4, ['150.00', '150.00', '90.00', '60.00']),
      ]);
      expect(await salesReport('PRODUCT', august)).toEqual([
        sales('A', 1, 2, ['60.00', '60.00', '36.00', '24.00']),
        sales('C', 1, 1, ['50.00', '50.00', '50.00', '0.00']),
        sales('B', 1, 1, ['40.00', '40.00', '4.00', '36.00']),
      ]);
    });

    it('reads the sums for whole hours: what they hold is what the report shows', async () => {
      const [kept] = await sql(
        `select sum(cases)::int as cases, sum(amount)::text as amount from refunds_hourly
         where hour >= ? and hour < ?`,
        [august.from, august.to],
      );
      // X1 (A), X2 (A and B), X4 (C).
      expect(kept).toEqual({ cases: 4, amount: '90.00' });
      await sql(
        `insert into refunds_hourly_change (hour, channel_id, status, currency_code, product_code, cases, amount)
         values ('2026-08-01T07:00:00Z', ?, 'DELIVERED', 'CNY', '', 1, 1.00)`,
        [tmall.id],
      );
      try {
        expect(await salesReport('CHANNEL', august)).toEqual([
          sales('tmall', 2, 4, ['150.00', '150.00', '91.00', '59.00']),
        ]);
      } finally {
        await sql(`delete from refunds_hourly_change where hour = '2026-08-01T07:00:00Z'`);
      }
    });

    it('follows an amount corrected after the fact, a cancelled case and a cancelled sale', async () => {
      await sql(`update order_return set refund_amount = 25.00 where refund_id = 'X1'`);
      await sql(`update order_return set status = 'CANCELLED' where refund_id = 'X3'`);
      await sql(`update "order" set status = 'CANCELLED' where id = ?`, [p2]);
      // P2's sale and its refund X4 leave; X1 is 25.00: refunds 25 + 10, of A 25 + 6.00 and B 4.00.
      expect(await salesReport('CHANNEL', august)).toEqual([
        sales('tmall', 1, 3, ['100.00', '100.00', '35.00', '65.00']),
      ]);
      expect(await salesReport('PRODUCT', august)).toEqual([
        sales('A', 1, 2, ['60.00', '60.00', '31.00', '29.00']),
        sales('B', 1, 1, ['40.00', '40.00', '4.00', '36.00']),
      ]);
      expect(await salesReport('STATUS', august)).toEqual([
        sales('DELIVERED', 1, 3, ['100.00', '100.00', '35.00', '65.00']),
        sales('CANCELLED', 1, 1, ['50.00', '0.00', '0.00', '0.00']),
      ]);
    });

    it('follows a case that names its lines later, and an order line corrected', async () => {
      // X2 now covers B only: A 25.00 (X1), B 10.00.
      await sql(
        `insert into order_return_line (return_id, line_no, order_line_id, product_code, quantity)
         select r.id, 1, l.id, l.product_code, null from order_return r join order_line l on l.order_id = r.order_id
         where r.refund_id = 'X2' and l.line_no = 2`,
      );
      expect(await salesReport('PRODUCT', august)).toEqual([
        sales('A', 1, 2, ['60.00', '60.00', '25.00', '35.00']),
        sales('B', 1, 1, ['40.00', '40.00', '10.00', '30.00']),
      ]);
      // X2's line removed again, and B's line corrected to 20.00: X2 by value over A 60.00 and B 20.00, 7.50 and 2.50.
      await sql(
        `delete from order_return_line where return_id = (select id from order_return where refund_id = 'X2')`,
      );
      await sql(
        `update order_line set unit_price = 20.00, line_total = 20.00
         where line_no = 2 and order_id = (select order_id from order_return where refund_id = 'X2')`,
      );
      expect(await salesReport('PRODUCT', august)).toEqual([
        sales('A', 1, 2, ['60.00', '60.00', '32.50', '27.50']),
        sales('B', 1, 1, ['20.00', '20.00', '2.50', '17.50']),
      ]);
    });

    it("stores two refunds of one hour, channel and product side by side (neither waits on the other's row); a deleted sale's leave", async () => {
      // Two more sales of A on 1 August; the second refund commits while the first's transaction is still open
      // (were they to share a row, the inner transaction would wait for the outer, which waits for it).
      const ids = await Promise.all(
        ['P3', 'P4'].map((externalId) =>
          insertSale(hub.orm, {
            channel: tmall,
            externalId,
            status: OrderStatus.DELIVERED,
            placedAt: '2026-08-01T08:00:00Z',
            lines: [['A', 1, '30.00']],
          }),
        ),
      );
      const refund = (orderId: string, refundId: string) => ({
        orderId,
        refundId,
        kind: RefundKind.REFUND_ONLY,
        status: RefundStatus.REFUNDED,
        goodsReturned: false,
        refundAmount: '1.00',
        reasonClass: RefundReasonClass.QUALITY,
        responsible: RefundResponsible.MERCHANT,
        requestedAt: '2026-08-01T08:30:00Z',
        refundedAt: '2026-08-01T09:00:00Z',
      });
      await hub.orm.em.fork().transactional(async (outer) => {
        await insertReturn(outer, refund(ids[0], 'X5'));
        await hub.orm.em.fork().transactional((inner) => insertReturn(inner, refund(ids[1], 'X6')));
      });
      const hours = { from: '2026-08-01T08:00:00Z', to: '2026-08-01T10:00:00Z' };
      expect(await salesReport('PRODUCT', hours)).toEqual([
        sales('A', 2, 2, ['60.00', '60.00', '2.00', '58.00']),
      ]);
      // A deleted sale takes its case, and the case's refund, with it.
      await sql(`delete from "order" where id = ?`, [ids[0]]);
      expect(await salesReport('PRODUCT', hours)).toEqual([
        sales('A', 1, 1, ['30.00', '30.00', '1.00', '29.00']),
      ]);
    });

    it('give what the cases themselves give, for every grouping, zone and ragged range', async () => {
      const run = <T extends object>(text: string, params: unknown[]) =>
        hub.orm.em.fork().execute<T[]>(text, params);
      const ranges = [
        range,
        august,
        { from: '2026-05-31T16:30:00Z', to: '2026-06-02T15:30:00Z' },
        { from: '2026-05-01T00:00:00Z', to: '2026-09-01T00:00:00Z' },
        { from: '2026-06-01T15:59:59Z', to: '2026-06-01T16:00:01Z' },
      ];
      let compared = 0;
      for (const { from, to } of ranges) {
        for (const groupBy of Object.values(SalesGroupBy)) {
          for (const timeZone of ['Asia/Shanghai', 'UTC', 'America/New_York']) {
            const input = { from: new Date(from), to: new Date(to), groupBy, timeZone };
            const exact = await readSalesReport(run, input, { exact: true });
            expect(await readSalesReport(run, input), `${groupBy} ${timeZone} ${from}`).toEqual(exact);
            compared += exact.filter((r) => r.refunds.amount !== '0.00').length;
          }
        }
      }
      expect(compared).toBeGreaterThan(100);
    });
  });
});
