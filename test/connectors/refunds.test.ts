import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Platform,
  RefundKind,
  RefundReasonClass,
  RefundResponsible,
  RefundStatus,
} from '../../common/enums.js';
import type { CanonicalRefund } from '../../connectors/canonical.js';
import { connectorFor } from '../../connectors/index.js';
import { classifyReason, classifyText } from '../../connectors/refund-reasons.js';
import { thrown, variantOf } from '../support/connector-cases.js';

// Each platform's after-sale sample (test/fixtures/channels/refunds) maps as channels/after-sale.md's tables say.

/**
 * A refund sample as the hub must read it: an integer beyond 2^53 (Taobao tid/oid, Shopify order_id) kept as
 * its source text, since JSON.parse would change it.
 */
function refundSample(platform: string): any {
  const text = readFileSync(
    new URL(`../fixtures/channels/refunds/${platform}.json`, import.meta.url),
    'utf8',
  );
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
      ? context?.source
      : value,
  );
}

const toRefund = (platform: Platform, payload: unknown) => connectorFor(platform).toRefund(payload);
const variant = (platform: Platform) => variantOf(refundSample(platform.toLowerCase()));
const { REQUESTED, APPROVED, RETURN_IN_TRANSIT, RETURN_RECEIVED, REFUNDED, REJECTED, CANCELLED } =
  RefundStatus;
const { REFUND_ONLY, RETURN_AND_REFUND, EXCHANGE } = RefundKind;

describe('the seven platforms’ refund samples, every field', () => {
  it('Taobao: a 7-day no-reason return on its way back, yuan strings, Beijing times', () => {
    expect(toRefund(Platform.TAOBAO, variant(Platform.TAOBAO)())).toEqual<CanonicalRefund>({
      refundId: '158765432109876543',
      externalId: '3487216655190412345',
      kind: RETURN_AND_REFUND,
      status: RETURN_IN_TRANSIT,
      platformStatus: 'WAIT_SELLER_CONFIRM_GOODS',
      goodsReturned: true,
      lines: [
        {
          productCode: 'MILK-1L',
          platformSkuId: '5012345678901',
          platformLineId: '3487216655190412346',
          quantity: 1,
        },
      ],
      refundAmount: '129.90',
      currencyCode: 'CNY',
      reasonText: '7天无理由退换货',
      reasonCode: null,
      reasonClass: RefundReasonClass.BUYER_REMORSE,
      responsible: RefundResponsible.BUYER,
      returnTrackingNumber: '78412345678901',
      returnCarrier: '中通快递',
      requestedAt: new Date('2026-11-15T13:14:03Z'),
      updatedAt: new Date('2026-11-16T02:05:11Z'),
    });
  });

  it('JD: a return approved (10005) with no waybill yet, damaged packaging, epoch ms', () => {
    expect(toRefund(Platform.JD, variant(Platform.JD)())).toEqual<CanonicalRefund>({
      refundId: '1876543210',
      externalId: '290112345678',
      kind: RETURN_AND_REFUND,
      status: APPROVED,
      platformStatus: '10005',
      goodsReturned: true,
      lines: [{ productCode: null, platformSkuId: '100012345678', platformLineId: null, quantity: 1 }],
      refundAmount: '99.00',
      currencyCode: 'CNY',
      reasonText: '包装破损',
      reasonCode: '19',
      reasonClass: RefundReasonClass.DAMAGED_IN_TRANSIT,
      responsible: RefundResponsible.CARRIER,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-11-15T15:14:03Z'),
      updatedAt: new Date('2026-11-16T16:14:03Z'),
    });
  });

  it('Pinduoduo: return and refund (list type 3), status 3 with a tracking number is in transit', () => {
    expect(toRefund(Platform.PINDUODUO, variant(Platform.PINDUODUO)())).toEqual<CanonicalRefund>({
      refundId: '12345678901',
      externalId: '261111-123456789012345',
      kind: RETURN_AND_REFUND,
      status: RETURN_IN_TRANSIT,
      platformStatus: '3',
      goodsReturned: true,
      lines: [{ productCode: 'SNACK-MIX', platformSkuId: '910000001', platformLineId: null, quantity: 1 }],
      refundAmount: '15.30',
      currencyCode: 'CNY',
      reasonText: '少件/漏发',
      reasonCode: null,
      reasonClass: RefundReasonClass.WRONG_OR_MISSING,
      responsible: RefundResponsible.MERCHANT,
      returnTrackingNumber: 'YT7456123456789',
      returnCarrier: '圆通快递',
      requestedAt: new Date('2026-11-15T13:14:03Z'),
      updatedAt: new Date('2026-11-16T02:05:11Z'),
    });
  });

  it('Douyin: return and refund (type 0) in transit (11), fen, unix seconds, reason code 7 beats its text', () => {
    expect(toRefund(Platform.DOUYIN, variant(Platform.DOUYIN)())).toEqual<CanonicalRefund>({
      refundId: '7378123456789012345',
      externalId: '6925000000000000001',
      kind: RETURN_AND_REFUND,
      status: RETURN_IN_TRANSIT,
      platformStatus: '11',
      goodsReturned: true,
      // shop_sku_code is empty; the line is matched by its sku_order_id.
      lines: [{ productCode: null, platformSkuId: null, platformLineId: '6925000000000000002', quantity: 1 }],
      refundAmount: '64.95',
      currencyCode: 'CNY',
      reasonText: '做工粗糙/有瑕疵/有污渍',
      reasonCode: '7',
      reasonClass: RefundReasonClass.QUALITY,
      responsible: RefundResponsible.MERCHANT,
      returnTrackingNumber: 'YT7456123456789',
      returnCarrier: '圆通速递',
      requestedAt: new Date('2026-11-15T15:14:03Z'),
      updatedAt: new Date('2026-11-16T15:13:31Z'),
    });
  });

  it('Kuaishou: refund only (handlingWay 10) requested (10), fen, epoch ms; no quantity in the record', () => {
    expect(toRefund(Platform.KUAISHOU, variant(Platform.KUAISHOU)())).toEqual<CanonicalRefund>({
      refundId: '2112345678901234',
      externalId: '2611112015300001',
      kind: REFUND_ONLY,
      status: REQUESTED,
      platformStatus: '10',
      goodsReturned: false,
      lines: [{ productCode: 'TEA-250G', platformSkuId: '88001', platformLineId: null, quantity: null }],
      refundAmount: '129.00',
      currencyCode: 'CNY',
      reasonText: '质量问题',
      reasonCode: '3',
      reasonClass: RefundReasonClass.QUALITY,
      responsible: RefundResponsible.MERCHANT,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-11-15T15:14:03Z'),
      updatedAt: new Date('2026-11-15T15:14:03Z'),
    });
  });

  it('Youzan: refund only, SUCCESS; reason code 16 (missing) beats the buyer’s words', () => {
    expect(toRefund(Platform.YOUZAN, variant(Platform.YOUZAN)())).toEqual<CanonicalRefund>({
      refundId: '201911152114037890001',
      externalId: 'E20261111201530012345',
      kind: REFUND_ONLY,
      status: REFUNDED,
      platformStatus: 'SUCCESS',
      goodsReturned: false,
      lines: [{ productCode: null, platformSkuId: null, platformLineId: '2861234', quantity: 1 }],
      refundAmount: '88.00',
      currencyCode: 'CNY',
      reasonText: '冰淇淋化了',
      reasonCode: '16',
      reasonClass: RefundReasonClass.WRONG_OR_MISSING,
      responsible: RefundResponsible.MERCHANT,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-11-15T13:14:03Z'),
      updatedAt: new Date('2026-11-16T02:05:11Z'),
    });
  });

  it('Shopify: refunds/create with a successful transaction and goods returned, ISO times with offset', () => {
    expect(toRefund(Platform.SHOPIFY, variant(Platform.SHOPIFY)())).toEqual<CanonicalRefund>({
      refundId: '981234567890',
      externalId: '820982911946154508',
      kind: RETURN_AND_REFUND,
      status: REFUNDED,
      platformStatus: 'success',
      goodsReturned: true,
      lines: [{ productCode: 'MILK-1L', platformSkuId: null, platformLineId: '466157049', quantity: 1 }],
      refundAmount: '199.00',
      currencyCode: 'USD',
      reasonText: 'Returned, wrong size',
      reasonCode: null,
      reasonClass: RefundReasonClass.BUYER_REMORSE,
      responsible: RefundResponsible.BUYER,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-11-16T04:36:31Z'),
      updatedAt: new Date('2026-11-16T04:36:31Z'),
    });
  });

  it('refuses an id JSON.parse has already changed (Taobao tid, Shopify order_id as plain numbers)', () => {
    const read = (name: string) =>
      JSON.parse(readFileSync(new URL(`../fixtures/channels/refunds/${name}.json`, import.meta.url), 'utf8'));
    expect(thrown(() => toRefund(Platform.TAOBAO, read('taobao'))).message).toMatch(/tid.*tid_str/);
    expect(thrown(() => toRefund(Platform.SHOPIFY, read('shopify'))).message).toMatch(/order_id/);
    const withTidStr = read('taobao');
    withTidStr.refund_get_response.refund.tid_str = '3487216655190412345';
    withTidStr.refund_get_response.refund.oid = '3487216655190412346';
    expect(toRefund(Platform.TAOBAO, withTidStr).externalId).toBe('3487216655190412345');
  });
});
