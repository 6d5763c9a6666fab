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
import { refundFixture } from '../support/refunds.js';

// Each platform's after-sale sample (test/fixtures/channels/refunds) maps as docs/after-sale.md's tables say.

/** A refund sample, big ids kept exact. */
const refundSample = (platform: string) => refundFixture(`channels/refunds/${platform}.json`);

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
          platformSkuId: null,
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
      // Processed for a return: the return's case (its last step).
      refundId: 'gid://shopify/Return/6701112345',
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

describe('compound and unmapped statuses', () => {
  const douyin = (status: number, refundStatus: number) =>
    toRefund(
      Platform.DOUYIN,
      variant(Platform.DOUYIN)((record) => {
        record.aftersale_info.aftersale_status = status;
        record.aftersale_info.refund_status = refundStatus;
      }),
    ).status;

  it('Douyin 12 is RETURN_RECEIVED with refund_status 2, REFUNDED with 3, and cannot be told otherwise', () => {
    expect(douyin(12, 2)).toBe(RETURN_RECEIVED);
    expect(douyin(12, 3)).toBe(REFUNDED);
    expect(douyin(12, 1)).toBeNull();
  });

  it('Douyin: 6 requested, 7 approved, 27/29 rejected, 28 cancelled; exchange steps (8, 13, 14) are null', () => {
    expect([6, 7, 27, 29, 28].map((status) => douyin(status, 0))).toEqual([
      REQUESTED,
      APPROVED,
      REJECTED,
      REJECTED,
      CANCELLED,
    ]);
    expect([8, 13, 14].map((status) => douyin(status, 0))).toEqual([null, null, null]);
  });

  it('Douyin aftersale_type 3 is an exchange; 1 and 2 are refund only, with no goods back', () => {
    const kind = (type: number) =>
      toRefund(
        Platform.DOUYIN,
        variant(Platform.DOUYIN)((record) => (record.aftersale_info.aftersale_type = type)),
      );
    expect(kind(3)).toMatchObject({ kind: EXCHANGE, goodsReturned: true, status: RETURN_IN_TRANSIT });
    expect(kind(1)).toMatchObject({ kind: REFUND_ONLY, goodsReturned: false });
    expect(kind(2)).toMatchObject({ kind: REFUND_ONLY, goodsReturned: false });
  });

  it('JD 10005 is APPROVED without a return waybill and RETURN_IN_TRANSIT with one', () => {
    const withWaybill = toRefund(
      Platform.JD,
      variant(Platform.JD)((service) => {
        service.expressCode = 'JDV000123456789';
        service.expressCompany = '京东快递';
      }),
    );
    expect(withWaybill).toMatchObject({
      status: RETURN_IN_TRANSIT,
      platformStatus: '10005',
      returnTrackingNumber: 'JDV000123456789',
      returnCarrier: '京东快递',
    });
  });

  it('JD: the other service statuses, and customerExpect 20 is an exchange, 11 and 1 refund only', () => {
    const jd = (change: (service: any) => void) => toRefund(Platform.JD, variant(Platform.JD)(change));
    const statuses = [10000, 10012, 10006, 10009, 10010, 10004, 10011, 99999];
    expect(statuses.map((code) => jd((service) => (service.serviceStatus = code)).status)).toEqual([
      REQUESTED,
      REQUESTED,
      RETURN_RECEIVED,
      RETURN_RECEIVED,
      REFUNDED,
      REJECTED,
      CANCELLED,
      null,
    ]);
    expect(jd((service) => (service.customerExpect = 20)).kind).toBe(EXCHANGE);
    expect(jd((service) => (service.customerExpect = 11))).toMatchObject({
      kind: REFUND_ONLY,
      goodsReturned: false,
    });
    expect(jd((service) => (service.customerExpect = 1)).kind).toBe(REFUND_ONLY);
  });

  it('JD customerExpect 30 (repair) is no refund: a mapping error naming the field', () => {
    const error = thrown(() =>
      toRefund(
        Platform.JD,
        variant(Platform.JD)((service) => (service.customerExpect = 30)),
      ),
    );
    expect(error.message).toContain('customerExpect');
  });

  it('Pinduoduo 3 without a tracking number is REQUESTED; 4 is RETURN_RECEIVED after a return, APPROVED for refund only', () => {
    const pdd = (change: (item: any) => void) =>
      toRefund(Platform.PINDUODUO, variant(Platform.PINDUODUO)(change));
    expect(pdd((item) => delete item.tracking_number).status).toBe(REQUESTED);
    expect(pdd((item) => (item.after_sales_status = 4)).status).toBe(RETURN_RECEIVED);
    expect(
      pdd((item) => {
        item.after_sales_status = 4;
        item.after_sales_type = 2;
      }),
    ).toMatchObject({ status: APPROVED, kind: REFUND_ONLY, goodsReturned: false });
    const statuses = [2, 8, 7, 5, 10, 6, 9, 11, 12, 13, 14, 33];
    expect(statuses.map((code) => pdd((item) => (item.after_sales_status = code)).status)).toEqual([
      REQUESTED,
      REQUESTED,
      APPROVED,
      APPROVED,
      REFUNDED,
      REJECTED,
      REJECTED,
      CANCELLED,
      CANCELLED,
      CANCELLED,
      null,
      null,
    ]);
    expect(pdd((item) => (item.after_sales_type = 4)).kind).toBe(EXCHANGE);
    expect(thrown(() => pdd((item) => (item.after_sales_type = 1))).message).toContain('after_sales_type');
  });

  it('Kuaishou: every status of the table; 45 is an exchange outside the common set', () => {
    const kuaishou = (status: number) =>
      toRefund(
        Platform.KUAISHOU,
        variant(Platform.KUAISHOU)((refund) => (refund.status = status)),
      );
    expect([20, 30, 40, 50, 60, 12, 70].map((status) => kuaishou(status).status)).toEqual([
      REQUESTED,
      APPROVED,
      RETURN_IN_TRANSIT,
      RETURN_RECEIVED,
      REFUNDED,
      REJECTED,
      CANCELLED,
    ]);
    expect(kuaishou(45)).toMatchObject({ kind: EXCHANGE, status: null, platformStatus: '45' });
  });

  it('Taobao and Youzan share the words; Youzan also rejects with SELLER_REFUSE_BUYER_RETURN_GOODS', () => {
    const taobao = (status: string) =>
      toRefund(
        Platform.TAOBAO,
        variant(Platform.TAOBAO)((body) => (body.refund_get_response.refund.status = status)),
      ).status;
    const youzan = (status: string) =>
      toRefund(
        Platform.YOUZAN,
        variant(Platform.YOUZAN)((refund) => (refund.status = status)),
      ).status;
    const words = ['WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS', 'WAIT_SELLER_CONFIRM_GOODS', 'SUCCESS'];
    const more = ['SELLER_REFUSE_BUYER', 'CLOSED'];
    const expected = [REQUESTED, APPROVED, RETURN_IN_TRANSIT, REFUNDED, REJECTED, CANCELLED];
    expect([...words, ...more].map(taobao)).toEqual(expected);
    expect([...words, ...more].map(youzan)).toEqual(expected);
    expect(youzan('SELLER_REFUSE_BUYER_RETURN_GOODS')).toBe(REJECTED);
    expect(taobao('SELLER_REFUSE_BUYER_RETURN_GOODS')).toBeNull();
  });

  it('Taobao: a replace_bill push is an exchange; has_good_return false is refund only', () => {
    const taobao = (change: (refund: any) => void) =>
      toRefund(
        Platform.TAOBAO,
        variant(Platform.TAOBAO)((body) => change(body.refund_get_response.refund)),
      );
    expect(taobao((refund) => (refund.bill_type = 'replace_bill')).kind).toBe(EXCHANGE);
    expect(taobao((refund) => (refund.has_good_return = false))).toMatchObject({
      kind: REFUND_ONLY,
      goodsReturned: false,
    });
  });

  it('Shopify: a pending transaction cannot be told (null); no_restock is refund only', () => {
    const shopify = toRefund(
      Platform.SHOPIFY,
      variant(Platform.SHOPIFY)((refund) => {
        refund.transactions[0].status = 'pending';
        refund.refund_line_items[0].restock_type = 'no_restock';
      }),
    );
    expect(shopify).toMatchObject({
      status: null,
      platformStatus: 'pending',
      kind: REFUND_ONLY,
      goodsReturned: false,
    });
  });

  it('Shopify: a refund for no return is a case of its own', () => {
    const shopify = toRefund(
      Platform.SHOPIFY,
      variant(Platform.SHOPIFY)((refund) => (refund.return = null)),
    );
    expect(shopify.refundId).toBe('981234567890');
  });

  it('a record missing its money is a mapping error naming the field, never a TypeError', () => {
    const error = thrown(() =>
      toRefund(
        Platform.DOUYIN,
        variant(Platform.DOUYIN)((record) => delete record.aftersale_info.refund_amount),
      ),
    );
    expect(error.message).toContain('aftersale_info.refund_amount');
  });
});

describe('storefront refunds: the hub’s own shape', () => {
  it('maps a documented storefront refund', () => {
    expect(
      toRefund(Platform.STOREFRONT, {
        refundId: 'SF-R-1',
        externalId: 'SF-10001',
        kind: 'RETURN_AND_REFUND',
        status: 'REQUESTED',
        lines: [{ productCode: 'MILK-1L', quantity: 1 }],
        refundAmount: '129.90',
        currencyCode: 'CNY',
        reasonCode: 'DEFECTIVE',
        requestedAt: '2026-01-06T09:00:00+08:00',
      }),
    ).toEqual<CanonicalRefund>({
      refundId: 'SF-R-1',
      externalId: 'SF-10001',
      kind: RETURN_AND_REFUND,
      status: REQUESTED,
      platformStatus: 'REQUESTED',
      goodsReturned: true,
      lines: [{ productCode: 'MILK-1L', platformSkuId: null, platformLineId: null, quantity: 1 }],
      refundAmount: '129.90',
      currencyCode: 'CNY',
      reasonText: null,
      reasonCode: 'DEFECTIVE',
      reasonClass: RefundReasonClass.QUALITY,
      responsible: RefundResponsible.MERCHANT,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-01-06T01:00:00Z'),
      updatedAt: new Date('2026-01-06T01:00:00Z'),
    });
  });

  it('refuses a kind that is not a RefundKind', () => {
    expect(thrown(() => toRefund(Platform.STOREFRONT, { refundId: '1', kind: 'REPAIR' })).message).toContain(
      'kind',
    );
  });
});

describe('reason classifier', () => {
  it('a platform code beats the text', () => {
    expect(classifyReason(Platform.YOUZAN, '16', '7天无理由')).toEqual({
      reasonClass: RefundReasonClass.WRONG_OR_MISSING,
      responsible: RefundResponsible.MERCHANT,
    });
  });

  it('a code the table does not know falls back to the text', () => {
    expect(classifyReason(Platform.DOUYIN, '999', '包装破损').reasonClass).toBe(
      RefundReasonClass.DAMAGED_IN_TRANSIT,
    );
  });

  it('codes per platform', () => {
    const cls = (platform: Platform, code: string) => classifyReason(platform, code, null).reasonClass;
    expect(cls(Platform.DOUYIN, '21')).toBe(RefundReasonClass.DAMAGED_IN_TRANSIT);
    expect(cls(Platform.DOUYIN, '1')).toBe(RefundReasonClass.BUYER_REMORSE);
    expect(cls(Platform.KUAISHOU, '17')).toBe(RefundReasonClass.DAMAGED_IN_TRANSIT);
    expect(cls(Platform.KUAISHOU, '22')).toBe(RefundReasonClass.BUYER_REMORSE);
    expect(cls(Platform.YOUZAN, '103')).toBe(RefundReasonClass.NOT_AS_DESCRIBED);
    expect(cls(Platform.SHOPIFY, 'SIZE_TOO_SMALL')).toBe(RefundReasonClass.BUYER_REMORSE);
    expect(cls(Platform.SHOPIFY, 'WRONG_ITEM')).toBe(RefundReasonClass.WRONG_OR_MISSING);
    // Codes are per platform: Douyin's 7 is quality, Taobao has no codes.
    expect(cls(Platform.TAOBAO, '7')).toBe(RefundReasonClass.OTHER);
  });

  it('Chinese text keywords', () => {
    expect(classifyText('质量问题')).toBe(RefundReasonClass.QUALITY);
    expect(classifyText('做工粗糙/有瑕疵')).toBe(RefundReasonClass.QUALITY);
    expect(classifyText('发错货')).toBe(RefundReasonClass.WRONG_OR_MISSING);
    expect(classifyText('少件/漏发')).toBe(RefundReasonClass.WRONG_OR_MISSING);
    expect(classifyText('包装破损')).toBe(RefundReasonClass.DAMAGED_IN_TRANSIT);
    expect(classifyText('与描述不符')).toBe(RefundReasonClass.NOT_AS_DESCRIBED);
    expect(classifyText('7天无理由退换货')).toBe(RefundReasonClass.BUYER_REMORSE);
    expect(classifyText('拍错/多拍/不想要了')).toBe(RefundReasonClass.BUYER_REMORSE);
  });

  it('nothing matched is OTHER with UNKNOWN responsible, and the text is kept by the mapper', () => {
    expect(classifyReason(Platform.TAOBAO, null, '冰淇淋化了')).toEqual({
      reasonClass: RefundReasonClass.OTHER,
      responsible: RefundResponsible.UNKNOWN,
    });
    expect(classifyReason(Platform.TAOBAO, null, null).reasonClass).toBe(RefundReasonClass.OTHER);
    const taobao = toRefund(
      Platform.TAOBAO,
      variant(Platform.TAOBAO)((body) => (body.refund_get_response.refund.reason = '冰淇淋化了')),
    );
    expect(taobao).toMatchObject({ reasonText: '冰淇淋化了', reasonClass: RefundReasonClass.OTHER });
  });
});

describe('Shopify returns: the returns/* webhooks', () => {
  const returnSample = () => refundFixture('channels/refunds/shopify-return.json');

  it('returns/request: a return and refund asked for, its line and reason, no money yet', () => {
    expect(toRefund(Platform.SHOPIFY, returnSample())).toEqual<CanonicalRefund>({
      refundId: 'gid://shopify/Return/6701112345',
      externalId: '820982911946154508',
      kind: RETURN_AND_REFUND,
      status: REQUESTED,
      platformStatus: 'requested',
      goodsReturned: true,
      lines: [{ productCode: null, platformSkuId: null, platformLineId: '466157049', quantity: 1 }],
      refundAmount: '0.00',
      currencyCode: 'XXX',
      reasonText: null,
      reasonCode: 'SIZE_TOO_SMALL',
      reasonClass: RefundReasonClass.BUYER_REMORSE,
      responsible: RefundResponsible.BUYER,
      returnTrackingNumber: null,
      returnCarrier: null,
      requestedAt: new Date('2026-11-15T01:12:44Z'),
      updatedAt: new Date('2026-11-15T01:12:44Z'),
    });
  });

  it('maps each topic’s status to the common set (docs/after-sale.md), in either case', () => {
    const statusOf = (status: string) => {
      const payload = returnSample();
      payload.status = status;
      return toRefund(Platform.SHOPIFY, payload).status;
    };
    expect(['requested', 'open', 'closed', 'declined', 'canceled', 'OPEN', 'DECLINED'].map(statusOf)).toEqual(
      [REQUESTED, APPROVED, RETURN_RECEIVED, REJECTED, CANCELLED, APPROVED, REJECTED],
    );
  });

  it('reads a body without lines (returns/close, /cancel) by its order_id', () => {
    const closed = {
      id: 6701112345,
      admin_graphql_api_id: 'gid://shopify/Return/6701112345',
      order_id: '820982911946154508',
      status: 'closed',
      created_at: '2026-11-15T09:12:44+08:00',
      updated_at: '2026-11-18T10:00:00+08:00',
    };
    expect(toRefund(Platform.SHOPIFY, closed)).toMatchObject({
      refundId: 'gid://shopify/Return/6701112345',
      externalId: '820982911946154508',
      status: RETURN_RECEIVED,
      lines: [],
    });
  });

  it('is told from an order by the returns/ topic, else by its return_line_items', () => {
    const shopify = connectorFor(Platform.SHOPIFY);
    expect(shopify.isRefund({}, { 'x-shopify-topic': 'returns/approve' })).toBe(true);
    expect(shopify.isRefund(returnSample())).toBe(true);
  });

  it('refuses an id that is not a Return’s', () => {
    const payload = returnSample();
    payload.admin_graphql_api_id = 'gid://shopify/Order/1';
    expect(thrown(() => toRefund(Platform.SHOPIFY, payload)).message).toContain('admin_graphql_api_id');
  });
});
