import { OrderStatus, Platform } from '../common/enums.js';
import type { CanonicalOrder, Connector } from './canonical.js';
import {
  Field,
  firstText,
  getPage,
  line,
  nextCursor,
  orderTotal,
  rawOrders,
  requiredText,
  type StatusTable,
} from './payload.js';
import { kuaishouRefund, refundByFields } from './refunds.js';

// Kuaishou: one order of `open.order.detail` / `open.order.cursor.list`: `orderBaseInfo`, `orderAddress` and a
// single `orderItemInfo` (Kuaishou splits an order per item). Money in fen, times in unix milliseconds (a payTime
// of 0: not paid). `buyerNick` is masked, so the customer is the consignee; receiver data may come only as
// `desensitise*` (masked) or `encrypted*` copies.

const STATUS: StatusTable = {
  0: null, // unknown: kept as it was
  10: OrderStatus.PENDING_PAYMENT,
  30: OrderStatus.PAID,
  40: OrderStatus.SHIPPED,
  50: OrderStatus.DELIVERED,
  70: OrderStatus.DELIVERED,
  80: OrderStatus.CANCELLED,
};

/** Kuaishou's pcursor when there is nothing more. */
const NO_MORE = 'nomore';

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);
  const base = order.get('orderBaseInfo');
  const address = order.get('orderAddress');
  const item = order.get('orderItemInfo');

  const lines = [
    line(
      item.get('skuNick').optionalText(),
      item.get('skuId').optionalId(),
      item.get('num').positiveInt(),
      item.get('originalPrice').fen(),
    ),
  ];

  const consignee = firstText(
    address.get('consignee'),
    address.get('desensitiseConsignee'),
    address.get('encryptedConsignee'),
  );
  return {
    externalId: base.get('oid').id(),
    ...base.get('status').status(STATUS),
    // The buyer's nick is masked and names no one: only the last resort.
    customerName: requiredText(
      address.get('consignee'),
      address.get('desensitiseConsignee'),
      address.get('encryptedConsignee'),
      base.get('buyerNick'),
    ),
    shippingAddress: {
      name: consignee,
      phone: firstText(
        address.get('mobile'),
        address.get('desensitiseMobile'),
        address.get('encryptedMobile'),
      ),
      province: address.get('province').optionalText(),
      city: address.get('city').optionalText(),
      district: address.get('district').optionalText(),
      line1: requiredText(
        address.get('address'),
        address.get('desensitiseAddress'),
        address.get('encryptedAddress'),
      ),
      postalCode: null,
      country: 'CN',
    },
    lines,
    total: orderTotal(base.get('totalFee').optional()?.fen(), lines),
    currencyCode: 'CNY',
    placedAt: base.get('createTime').unixMillis(),
    paidAt: base.get('payTime').optional(0)?.unixMillis() ?? null,
  };
}

export const kuaishou: Connector = {
  platform: Platform.KUAISHOU,
  toOrder,
  toRefund: kuaishouRefund,
  isRefund: refundByFields('refundId'),
  pull: {
    /** `GET {base}/open/order/cursor/list?pcursor=<cursor>` (no parameter from the beginning), as `open.order.cursor.list`. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/open/order/cursor/list', { pcursor: cursor }),
    /** `{"result": 1, "data": {"orderList": [...], "pcursor": "..."}}`; a pcursor of "nomore" (or none): no more now. */
    parse(body) {
      const data = Field.root(body).get('data');
      const cursor = nextCursor(data.get('pcursor'));
      return { orders: rawOrders(data.get('orderList')), nextCursor: cursor === NO_MORE ? null : cursor };
    },
  },
  refundPull: {
    /** `GET {base}/open/seller/order/refund/pcursor/list?pcursor=<cursor>`, as `open.seller.order.refund.pcursor.list`. */
    request: (baseUrl, cursor) =>
      getPage(baseUrl, '/open/seller/order/refund/pcursor/list', { pcursor: cursor }),
    /** `{"result": 1, "data": {"refundOrderInfoList": [...], "pcursor": "..."}}`, paged like the order list. */
    parse(body) {
      const data = Field.root(body).get('data');
      const cursor = nextCursor(data.get('pcursor'));
      return {
        orders: rawOrders(data.get('refundOrderInfoList')),
        nextCursor: cursor === NO_MORE ? null : cursor,
      };
    },
  },
};
