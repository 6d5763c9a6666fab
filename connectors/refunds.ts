import { Decimal } from 'decimal.js';
import { Platform, RefundKind, RefundStatus } from '../common/enums.js';
import { BadUserInputError } from '../common/errors.js';
import { parseJsonKeepingBigIds } from '../common/json.js';
import type { CanonicalRefund, CanonicalRefundLine } from './canonical.js';
import { Field, isoCode, money, type Money } from './payload.js';
import { classifyReason } from './refund-reasons.js';

// Each platform's after-sale record → a CanonicalRefund (issue 17, first step: mapping only, nothing stored).
// The record shapes, the status table and the reasons table are those of docs/after-sale.md; the samples
// are in test/fixtures/channels/refunds. A status outside the common set (exchange or re-send steps, or a code
// the table does not list) maps to null with the platform's code kept; a kind that cannot be told is an error.
// Ids beyond 2^53 (Taobao tid/oid, Shopify order_id) must reach the mapper as strings: a JSON number that
// big was already changed by JSON.parse, and Field.id refuses it rather than link the refund to another order.

/**
 * A refund body as the mappers must read it: an integer beyond 2^53 (Taobao tid/oid, Shopify order_id) kept as
 * its source text, which plain JSON.parse would change (and the mappers then refuse).
 */
export function parseRefundBody(text: string): unknown {
  try {
    return parseJsonKeepingBigIds(text);
  } catch {
    // Not the parser's message: it quotes the body around the mistake.
    throw new BadUserInputError('The body is not valid JSON.');
  }
}

/** A refund told by its shape: a top-level field the platform's order record never has. */
export function refundByFields(...fields: string[]): (payload: unknown) => boolean {
  return (payload) =>
    typeof payload === 'object' &&
    payload !== null &&
    !Array.isArray(payload) &&
    fields.some((field) => Object.hasOwn(payload, field));
}

const { REQUESTED, APPROVED, RETURN_IN_TRANSIT, RETURN_RECEIVED, REFUNDED, REJECTED, CANCELLED } =
  RefundStatus;
const { REFUND_ONLY, RETURN_AND_REFUND, EXCHANGE } = RefundKind;

type RefundStatusTable = Readonly<Record<string, RefundStatus>>;

function statusIn(table: RefundStatusTable, code: string): RefundStatus | null {
  return Object.hasOwn(table, code) ? table[code] : null;
}

/** The kind a code names; a code the platform's list does not have is an error, not a guess. */
function kindOf(field: Field, table: Readonly<Record<string, RefundKind>>): RefundKind {
  const code = field.code();
  if (!Object.hasOwn(table, code)) field.fail(`has an unknown after-sale type ${JSON.stringify(code)}`);
  return table[code];
}

function refundLine(
  productCode: string | null,
  platformSkuId: string | null,
  platformLineId: string | null,
  quantity: number | null,
): CanonicalRefundLine {
  return { productCode, platformSkuId, platformLineId, quantity };
}

function reason(
  platform: Platform,
  reasonCode: string | null,
  reasonText: string | null,
): Pick<CanonicalRefund, 'reasonCode' | 'reasonText' | 'reasonClass' | 'responsible'> {
  return { reasonText, reasonCode, ...classifyReason(platform, reasonCode, reasonText) };
}

// ---- Taobao / Tmall: `refund` of taobao.refund.get ----

const TAOBAO_STATUS: RefundStatusTable = {
  WAIT_SELLER_AGREE: REQUESTED,
  WAIT_BUYER_RETURN_GOODS: APPROVED,
  WAIT_SELLER_CONFIRM_GOODS: RETURN_IN_TRANSIT,
  SUCCESS: REFUNDED,
  SELLER_REFUSE_BUYER: REJECTED,
  CLOSED: CANCELLED,
};

export function taobaoRefund(payload: unknown): CanonicalRefund {
  const root = Field.root(payload);
  const envelope = root.get('refund_get_response');
  const refund = envelope.isAbsent ? root : envelope.get('refund');
  const platformStatus = refund.get('status').code();
  // Pushes carry bill_type; replace_bill is a Tmall exchange. The call's record says only has_good_return.
  const billType = refund.get('bill_type').optionalText();
  const goodsReturned = refund.get('has_good_return').optional()?.value;
  const returned = typeof goodsReturned === 'boolean' ? goodsReturned : null;
  const kind =
    billType === 'replace_bill'
      ? EXCHANGE
      : billType === 'return_bill' || returned === true
        ? RETURN_AND_REFUND
        : REFUND_ONLY;
  const tidStr = refund.get('tid_str');
  return {
    refundId: refund.get('refund_id').id(),
    externalId: tidStr.isAbsent ? refund.get('tid').id('tid_str') : tidStr.id(),
    kind,
    status: statusIn(TAOBAO_STATUS, platformStatus),
    platformStatus,
    goodsReturned: kind === RETURN_AND_REFUND || kind === EXCHANGE ? true : returned,
    lines: [
      refundLine(
        refund.get('outer_id').optionalText(),
        // `sku` ("5012345678901|规格:1L") is not the sku_id the order's lines carry (the sample's differs): the
        // line is matched by oid and outer_id instead.
        null,
        refund.get('oid').optionalId(),
        refund.get('num').optional()?.positiveInt() ?? null,
      ),
    ],
    refundAmount: money(refund.get('refund_fee').decimalText()),
    currencyCode: 'CNY',
    ...reason(Platform.TAOBAO, null, refund.get('reason').optionalText()),
    returnTrackingNumber: refund.get('sid').optionalText(),
    returnCarrier: refund.get('company_name').optionalText(),
    requestedAt: refund.get('created').shanghaiTime(),
    updatedAt: refund.get('modified').shanghaiTime(),
  };
}

// ---- JD: the service order of jingdong.asc.query.view ----

const JD_STATUS: RefundStatusTable = {
  10000: REQUESTED,
  10001: REQUESTED,
  10002: REQUESTED,
  10012: REQUESTED,
  10013: REQUESTED,
  10005: APPROVED, // RETURN_IN_TRANSIT once the buyer's return waybill is on it
  10006: RETURN_RECEIVED,
  10007: RETURN_RECEIVED,
  10009: RETURN_RECEIVED,
  10010: REFUNDED,
  10004: REJECTED,
  10011: CANCELLED,
};

/** customerExpect: 10 return, 11 refund only, 1 refund before shipment, 20 exchange; 30 (repair) is no refund. */
const JD_KIND: Readonly<Record<string, RefundKind>> = {
  10: RETURN_AND_REFUND,
  11: REFUND_ONLY,
  1: REFUND_ONLY,
  20: EXCHANGE,
};

export function jdRefund(payload: unknown): CanonicalRefund {
  const service = Field.root(payload);
  const kind = kindOf(service.get('customerExpect'), JD_KIND);
  const platformStatus = service.get('serviceStatus').code();
  // The return waybill's field name is not confirmed by JD's documents; expressCode is the integrators' name.
  const waybill = service.get('expressCode').optional()?.id() ?? null;
  const items = service.get('serviceBillDetailList').items();
  // JD's money units are inferred (yuan numbers); actualPayPrice is what the buyer paid for the line.
  const amount = items.reduce<Money>(
    (sum, item) => sum.plus(item.get('actualPayPrice').decimalNumber()),
    new Decimal(0),
  );
  return {
    refundId: service.get('serviceId').id(),
    externalId: service.get('orderId').id(),
    kind,
    status:
      platformStatus === '10005' && waybill !== null
        ? RETURN_IN_TRANSIT
        : statusIn(JD_STATUS, platformStatus),
    platformStatus,
    goodsReturned: kind !== REFUND_ONLY,
    lines: items.map((item) =>
      refundLine(
        item.get('outerSkuId').optionalText(),
        item.get('skuId').optionalId(),
        null,
        item.get('wareNum').positiveInt({ fromString: true }),
      ),
    ),
    refundAmount: money(amount),
    currencyCode: 'CNY',
    ...reason(
      Platform.JD,
      service.get('questionTypeCid1').optionalId(),
      service.get('questionDesc').optionalText(),
    ),
    returnTrackingNumber: waybill,
    returnCarrier: service.get('expressCompany').optionalText(),
    requestedAt: service.get('applyTime').unixMillis(),
    updatedAt: (service.get('updateDate').optional() ?? service.get('applyTime')).unixMillis(),
  };
}

// ---- Pinduoduo: an item of pdd.refund.list.increment.get ----

const PINDUODUO_STATUS: RefundStatusTable = {
  2: REQUESTED,
  3: REQUESTED, // RETURN_IN_TRANSIT once the buyer's tracking_number is on it
  8: REQUESTED,
  7: APPROVED,
  4: APPROVED, // RETURN_RECEIVED when goods come back
  5: APPROVED,
  10: REFUNDED,
  6: REJECTED,
  9: REJECTED,
  11: CANCELLED,
  12: CANCELLED,
  13: CANCELLED,
};

/** The list call's codes (its filter's: 2 refund only, 3 return and refund, 4 exchange); the detail call's differ. */
const PINDUODUO_KIND: Readonly<Record<string, RefundKind>> = {
  2: REFUND_ONLY,
  3: RETURN_AND_REFUND,
  4: EXCHANGE,
};

export function pinduoduoRefund(payload: unknown): CanonicalRefund {
  const item = Field.root(payload);
  const kind = kindOf(item.get('after_sales_type'), PINDUODUO_KIND);
  const platformStatus = item.get('after_sales_status').code();
  const trackingNumber = item.get('tracking_number').optionalText();
  let status = statusIn(PINDUODUO_STATUS, platformStatus);
  if (platformStatus === '3' && trackingNumber !== null) status = RETURN_IN_TRANSIT;
  if (platformStatus === '4' && kind === RETURN_AND_REFUND) status = RETURN_RECEIVED;
  return {
    refundId: item.get('id').id(),
    externalId: item.get('order_sn').id(),
    kind,
    status,
    platformStatus,
    goodsReturned: kind !== REFUND_ONLY,
    lines: [
      refundLine(
        item.get('outer_id').optionalText(),
        item.get('sku_id').optionalId(),
        null,
        item.get('goods_number').optional()?.positiveInt({ fromString: true }) ?? null,
      ),
    ],
    refundAmount: money(item.get('refund_amount').decimalText()),
    currencyCode: 'CNY',
    ...reason(Platform.PINDUODUO, null, item.get('after_sale_reason').optionalText()),
    returnTrackingNumber: trackingNumber,
    returnCarrier: item.get('shipping_name').optionalText(),
    requestedAt: item.get('created_time').shanghaiTime(),
    updatedAt: item.get('updated_time').shanghaiTime(),
  };
}

// ---- Douyin: an item of afterSale/List ({aftersale_info, order_info, text_part}) ----

const DOUYIN_STATUS: RefundStatusTable = {
  6: REQUESTED,
  7: APPROVED,
  11: RETURN_IN_TRANSIT,
  // 12 depends on refund_status: see douyinRefund.
  27: REJECTED,
  29: REJECTED,
  28: CANCELLED,
};

/** aftersale_type: 0 return and refund, 1 refund only after shipment, 2 refund only before shipment, 3 exchange. */
const DOUYIN_KIND: Readonly<Record<string, RefundKind>> = {
  0: RETURN_AND_REFUND,
  1: REFUND_ONLY,
  2: REFUND_ONLY,
  3: EXCHANGE,
};

/** Status 12 (after-sale done): goods received while refund_status is 2, refunded at 3. */
const DOUYIN_DONE_BY_REFUND_STATUS: RefundStatusTable = { 2: RETURN_RECEIVED, 3: REFUNDED };

export function douyinRefund(payload: unknown): CanonicalRefund {
  const root = Field.root(payload);
  const info = root.get('aftersale_info');
  const kind = kindOf(info.get('aftersale_type'), DOUYIN_KIND);
  const platformStatus = info.get('aftersale_status').code();
  const status =
    platformStatus === '12'
      ? statusIn(DOUYIN_DONE_BY_REFUND_STATUS, info.get('refund_status').optional()?.code() ?? '')
      : statusIn(DOUYIN_STATUS, platformStatus);
  const lineId = info.get('related_id').id();
  // The merchant's code is on the order's line the record names (shop_sku_code, often empty).
  const orderLine = root
    .get('order_info')
    .optionalGet('related_order_info')
    .optional()
    ?.items()
    .find((candidate) => candidate.get('sku_order_id').optionalId() === lineId);
  return {
    refundId: info.get('aftersale_id').id(),
    externalId: root.get('order_info').get('shop_order_id').id(),
    kind,
    status,
    platformStatus,
    goodsReturned: kind !== REFUND_ONLY,
    lines: [
      refundLine(
        orderLine?.get('shop_sku_code').optionalText() ?? null,
        null, // the record names the product (product_id), not the SKU the order's lines carry
        lineId,
        info.get('aftersale_num').optional()?.positiveInt() ?? null,
      ),
    ],
    refundAmount: money(info.get('refund_amount').fen()),
    currencyCode: 'CNY',
    ...reason(
      Platform.DOUYIN,
      info.get('reason_code').optionalId(),
      root.optionalGet('text_part').optionalGet('reason_text').optionalText(),
    ),
    returnTrackingNumber: info.get('return_logistics_code').optionalText(),
    returnCarrier: info.get('return_logistics_company_name').optionalText(),
    requestedAt: (info.get('apply_time').optional(0) ?? info.get('create_time')).unixSeconds(),
    updatedAt: info.get('update_time').unixSeconds(),
  };
}

// ---- Kuaishou: an item of open.seller.order.refund.pcursor.list ----

const KUAISHOU_STATUS: RefundStatusTable = {
  10: REQUESTED,
  20: REQUESTED,
  30: APPROVED,
  40: RETURN_IN_TRANSIT,
  50: RETURN_RECEIVED,
  60: REFUNDED,
  12: REJECTED,
  70: CANCELLED,
};

/** Status 45 is an exchange; outside the common set. */
const KUAISHOU_EXCHANGE_STATUS = '45';

/** handlingWay: 1 return and refund, 10 refund only. */
const KUAISHOU_KIND: Readonly<Record<string, RefundKind>> = { 1: RETURN_AND_REFUND, 10: REFUND_ONLY };

export function kuaishouRefund(payload: unknown): CanonicalRefund {
  const refund = Field.root(payload);
  const platformStatus = refund.get('status').code();
  const kind =
    platformStatus === KUAISHOU_EXCHANGE_STATUS ? EXCHANGE : kindOf(refund.get('handlingWay'), KUAISHOU_KIND);
  return {
    refundId: refund.get('refundId').id(),
    externalId: refund.get('oid').id(),
    kind,
    status: statusIn(KUAISHOU_STATUS, platformStatus),
    platformStatus,
    goodsReturned: kind !== REFUND_ONLY,
    // The record does not say how many of the line's items go back.
    lines: [refundLine(refund.get('skuNick').optionalText(), refund.get('skuId').optionalId(), null, null)],
    refundAmount: money(refund.get('refundFee').fen()),
    currencyCode: 'CNY',
    ...reason(
      Platform.KUAISHOU,
      refund.get('refundReason').optionalId(),
      refund.get('refundReasonDesc').optionalText(),
    ),
    returnTrackingNumber: null,
    returnCarrier: null,
    requestedAt: refund.get('createTime').unixMillis(),
    updatedAt: refund.get('updateTime').unixMillis(),
  };
}

// ---- Youzan: youzan.trade.refund.get ----

const YOUZAN_STATUS: RefundStatusTable = {
  ...TAOBAO_STATUS,
  SELLER_REFUSE_BUYER_RETURN_GOODS: REJECTED,
};

export function youzanRefund(payload: unknown): CanonicalRefund {
  const refund = Field.root(payload);
  const platformStatus = refund.get('status').code();
  // return_goods says whether goods come back; refund_type only says who started the refund.
  const returnGoods = refund.get('return_goods').optional()?.value;
  const goodsReturned = typeof returnGoods === 'boolean' ? returnGoods : null;
  return {
    refundId: refund.get('refund_id').id(),
    externalId: refund.get('tid').id(),
    kind: goodsReturned === true ? RETURN_AND_REFUND : REFUND_ONLY,
    status: statusIn(YOUZAN_STATUS, platformStatus),
    platformStatus,
    goodsReturned,
    lines: [
      refundLine(
        null,
        null,
        refund.get('oid').optionalId(),
        refund.get('item_num').optional()?.positiveInt() ?? null,
      ),
    ],
    refundAmount: money(refund.get('refund_fee').decimalText()),
    currencyCode: 'CNY',
    // Youzan's reason is a code; desc is the buyer's own words.
    ...reason(Platform.YOUZAN, refund.get('reason').optionalId(), refund.get('desc').optionalText()),
    returnTrackingNumber: null,
    returnCarrier: null,
    requestedAt: refund.get('created').shanghaiTime(),
    updatedAt: refund.get('modified').shanghaiTime(),
  };
}

// ---- Shopify: the Refund of the refunds/create webhook ----

/** A refund transaction's status: success is money back; the table says nothing of pending, failure or error. */
const SHOPIFY_TRANSACTION_STATUS: RefundStatusTable = { success: REFUNDED };

export function shopifyRefund(payload: unknown): CanonicalRefund {
  const refund = Field.root(payload);
  const items = refund.get('refund_line_items').items();
  const restockTypes = items.map((item) => item.get('restock_type').optionalText());
  // restock_type: return (goods come back), cancel (never shipped), no_restock (money only).
  const goodsReturned = restockTypes.includes('return')
    ? true
    : restockTypes.length > 0 && restockTypes.every((type) => type === 'cancel' || type === 'no_restock')
      ? false
      : null;
  const transactions = refund
    .get('transactions')
    .items()
    .filter((transaction) => transaction.get('kind').optionalText() === 'refund');
  if (transactions.length === 0) refund.get('transactions').fail('has no refund transaction');
  // A refund's transactions are all done or all not; the first one's status speaks for the refund.
  const platformStatus = transactions[0].get('status').code();
  const amount = transactions.reduce<Money>(
    (sum, transaction) => sum.plus(transaction.get('amount').decimalText()),
    new Decimal(0),
  );
  // A refund processed for a return is that return's last step: the same case (shopifyReturn), so its goods are
  // received once.
  const forReturn = refund.optionalGet('return').optional();
  return {
    refundId: forReturn ? shopifyReturnId(forReturn) : refund.get('id').id('admin_graphql_api_id'),
    externalId: refund.get('order_id').id(),
    kind: goodsReturned === true ? RETURN_AND_REFUND : REFUND_ONLY,
    status: statusIn(SHOPIFY_TRANSACTION_STATUS, platformStatus),
    platformStatus,
    goodsReturned,
    lines: items.map((item) => {
      const lineItem = item.optionalGet('line_item');
      return refundLine(
        lineItem.optionalGet('sku').optionalText(),
        lineItem.optionalGet('variant_id').optionalId(),
        item.get('line_item_id').id(),
        item.get('quantity').positiveInt(),
      );
    }),
    refundAmount: money(amount),
    currencyCode: isoCode(transactions[0].get('currency'), 3),
    // A refund has only the merchant's note; Shopify's coded reasons are on returns.
    ...reason(Platform.SHOPIFY, null, refund.get('note').optionalText()),
    returnTrackingNumber: null,
    returnCarrier: null,
    requestedAt: refund.get('created_at').isoTime(),
    updatedAt: (refund.get('processed_at').optional() ?? refund.get('created_at')).isoTime(),
  };
}

// ---- Shopify: the Return of the returns/* webhooks ----

/**
 * ISO 4217's code for "no currency": a record that names no money (a Shopify return before its refund). Its case
 * takes its order's currency (services/returns.ts).
 */
export const NO_CURRENCY = 'XXX';

/** A Return's status (REST payloads lower-case, the GraphQL enum upper-case), per docs/after-sale.md. */
const SHOPIFY_RETURN_STATUS: RefundStatusTable = {
  requested: REQUESTED,
  open: APPROVED,
  closed: RETURN_RECEIVED,
  declined: REJECTED,
  canceled: CANCELLED,
};

const RETURN_GID = /^gid:\/\/shopify\/Return\/\d+$/;

/** The case id of a Shopify return: its GraphQL id, which a refund processed for it names too. */
function shopifyReturnId(ret: Field): string {
  const gid = ret.get('admin_graphql_api_id');
  const text = gid.text();
  return RETURN_GID.test(text)
    ? text
    : gid.fail(`must be "gid://shopify/Return/<number>", got ${JSON.stringify(text)}`);
}

/**
 * A returns/request, /approve, /decline, /close, /cancel or /reopen body. The record names no money (its refund
 * does, refunds/create, which names the return and so moves the same case to REFUNDED). The lines, when the topic
 * carries them, are the order's line items (fulfillment_line_item.line_item.id) and their quantities; the reason
 * is the first line's return_reason, in Shopify's ReturnReason names.
 */
export function shopifyReturn(payload: unknown): CanonicalRefund {
  const ret = Field.root(payload);
  const platformStatus = ret.get('status').code().toLowerCase();
  const order = ret.optionalGet('order');
  const items = ret.optionalGet('return_line_items').optional()?.items() ?? [];
  const requestedAt = ret.get('created_at').isoTime();
  return {
    refundId: shopifyReturnId(ret),
    externalId: order.isAbsent ? ret.get('order_id').id() : order.get('id').id('admin_graphql_api_id'),
    kind: RETURN_AND_REFUND,
    status: statusIn(SHOPIFY_RETURN_STATUS, platformStatus),
    platformStatus,
    goodsReturned: true,
    lines: items.map((item) => {
      const lineItem = item.optionalGet('fulfillment_line_item').optionalGet('line_item');
      return refundLine(
        lineItem.optionalGet('sku').optionalText(),
        lineItem.optionalGet('variant_id').optionalId(),
        lineItem.get('id').id(),
        item.get('quantity').positiveInt(),
      );
    }),
    refundAmount: money(new Decimal(0)),
    currencyCode: NO_CURRENCY,
    ...reason(
      Platform.SHOPIFY,
      items[0]?.get('return_reason').optionalText()?.toUpperCase() ?? null,
      items[0]?.get('return_reason_note').optionalText() ?? null,
    ),
    returnTrackingNumber: null,
    returnCarrier: null,
    requestedAt,
    updatedAt: ret.get('updated_at').optional()?.isoTime() ?? requestedAt,
  };
}

/** A Shopify after-sale body: a Refund carries its refund lines or transactions; anything else is a Return. */
export function shopifyAfterSale(payload: unknown): CanonicalRefund {
  return refundByFields('refund_line_items', 'transactions')(payload)
    ? shopifyRefund(payload)
    : shopifyReturn(payload);
}

// ---- Storefront: the merchant's own shop sends the hub's canonical refund ----

/*
 *   {
 *     "refundId": "SF-R-1",                     string (or a safe integer)
 *     "externalId": "SF-10001",                 the storefront order's externalId
 *     "kind": "RETURN_AND_REFUND",              a RefundKind name
 *     "status": "REQUESTED",                    a RefundStatus name
 *     "lines": [{ "productCode": "MILK-1L", "quantity": 1 }],   productCode is the hub's own
 *     "refundAmount": "129.90",                 decimal string
 *     "currencyCode": "CNY",                    ISO 4217
 *     "reasonCode": "DEFECTIVE",                optional; Shopify's ReturnReason names
 *     "reasonText": "leaks",                    optional
 *     "returnTrackingNumber": "…", "returnCarrier": "…",   optional
 *     "requestedAt": "2026-01-06T09:00:00+08:00", "updatedAt": "…"   ISO 8601 with an offset; updatedAt optional
 *   }
 *
 * goodsReturned follows the kind; the reason codes are read as Shopify's, the one coded list a shop may reuse.
 */

function enumValue<T extends string>(field: Field, values: Record<string, T>): T {
  const code = field.code();
  const value = Object.values(values).find((candidate) => candidate === code);
  return (
    value ?? field.fail(`must be one of ${Object.values(values).join(', ')}, got ${JSON.stringify(code)}`)
  );
}

export function storefrontRefund(payload: unknown): CanonicalRefund {
  const refund = Field.root(payload);
  const kind = enumValue(refund.get('kind'), RefundKind);
  const status = enumValue(refund.get('status'), RefundStatus);
  const requestedAt = refund.get('requestedAt').isoTime();
  return {
    refundId: refund.get('refundId').id(),
    externalId: refund.get('externalId').id(),
    kind,
    status,
    platformStatus: status,
    goodsReturned: kind !== REFUND_ONLY,
    lines: refund
      .get('lines')
      .items()
      .map((item) =>
        refundLine(item.get('productCode').text(), null, null, item.get('quantity').positiveInt()),
      ),
    refundAmount: money(refund.get('refundAmount').decimalText()),
    currencyCode: isoCode(refund.get('currencyCode'), 3),
    ...reason(
      Platform.SHOPIFY,
      refund.get('reasonCode').optionalText(),
      refund.get('reasonText').optionalText(),
    ),
    returnTrackingNumber: refund.get('returnTrackingNumber').optionalText(),
    returnCarrier: refund.get('returnCarrier').optionalText(),
    requestedAt,
    updatedAt: refund.get('updatedAt').optional()?.isoTime() ?? requestedAt,
  };
}
