import { OrderStatus, Platform } from '../common/enums.js';
import type { CanonicalOrder, Connector } from './canonical.js';
import {
  contactPhone,
  Field,
  getPage,
  line,
  nextCursor,
  orderTotal,
  rawOrders,
  requiredText,
  type StatusTable,
} from './payload.js';
import { youzanRefund, refundByFields } from './refunds.js';

// Youzan: `{"full_order_info": {...}}` as `youzan.trade.get` returns it: `order_info`, `buyer_info`,
// `address_info` (the consignee), `pay_info`, `orders`. Times are Asia/Shanghai local; amounts are yuan strings.
// Encrypted receiver data ("$…$1$") comes in the plain fields and is kept as it is.

const STATUS: StatusTable = {
  WAIT_BUYER_PAY: OrderStatus.PENDING_PAYMENT,
  TRADE_PAID: OrderStatus.PAID,
  WAIT_CONFIRM: OrderStatus.PAID,
  WAIT_SELLER_SEND_GOODS: OrderStatus.PAID,
  WAIT_BUYER_CONFIRM_GOODS: OrderStatus.SHIPPED,
  TRADE_SUCCESS: OrderStatus.DELIVERED,
  TRADE_CLOSED: OrderStatus.CANCELLED, // REFUNDED instead when it was paid: see toOrder
};

function toOrder(payload: unknown): CanonicalOrder {
  const full = Field.root(payload).get('full_order_info');
  const info = full.get('order_info');
  const address = full.get('address_info');

  const lines = full.get('orders').lines((item) => ({
    ...line(
      item.get('outer_sku_id').optionalText(),
      item.get('sku_id').optionalId(),
      item.get('num').positiveInt(),
      item.get('price').decimalText(),
    ),
    platformLineId: item.get('oid').optionalId(),
  }));

  const paidAt = info.get('pay_time').optional()?.shanghaiTime() ?? null;
  const { status, platformStatus } = info.get('status').status(STATUS);
  const receiverName = address.get('receiver_name').optionalText();
  const receiverTel = address.get('receiver_tel').optionalText();
  return {
    externalId: info.get('tid').id(),
    // Closed before payment: cancelled; closed after it: refunded.
    status: platformStatus === 'TRADE_CLOSED' && paidAt ? OrderStatus.REFUNDED : status,
    platformStatus,
    customerName: requiredText(
      address.get('receiver_name'),
      full.optionalGet('buyer_info').optionalGet('fans_nickname'),
    ),
    shippingAddress: {
      name: receiverName,
      phone: receiverTel,
      province: address.get('delivery_province').optionalText(),
      city: address.get('delivery_city').optionalText(),
      district: address.get('delivery_district').optionalText(),
      line1: address.get('delivery_address').text(),
      postalCode: address.get('delivery_postal_code').optionalText(),
      country: 'CN',
    },
    lines,
    total: orderTotal(full.optionalGet('pay_info').optionalGet('payment').optional()?.decimalText(), lines),
    currencyCode: 'CNY',
    placedAt: info.get('created').shanghaiTime(),
    paidAt,
    contactPhone: contactPhone(receiverTel),
  };
}

export const youzan: Connector = {
  platform: Platform.YOUZAN,
  toOrder,
  toRefund: youzanRefund,
  isRefund: refundByFields('refund_id'),
  pull: {
    /** `GET {base}/trades/sold?update_time_start=<cursor>` (no parameter from the beginning), as `youzan.trades.sold.get`. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/trades/sold', { update_time_start: cursor }),
    /**
     * `{"success": true, "data": {"full_order_info_list": [{"full_order_info": {...}}, ...], "next_cursor": "..."}}`:
     * each item is one payload for `toOrder`. `next_cursor` null or absent: no more now.
     */
    parse(body) {
      const data = Field.root(body).get('data');
      return {
        orders: rawOrders(data.get('full_order_info_list')),
        nextCursor: nextCursor(data.get('next_cursor')),
      };
    },
  },
  refundPull: {
    /**
     * `GET {base}/trade/refund/search?update_time_start=<cursor>`, as `youzan.trade.refund.search`; the hub's
     * gateway answers each item as `youzan.trade.refund.get`'s record (what `toRefund` maps), one call per page.
     */
    request: (baseUrl, cursor) => getPage(baseUrl, '/trade/refund/search', { update_time_start: cursor }),
    /** `{"success": true, "data": {"refunds": [...], "next_cursor": "..."}}`; null or absent: no more now. */
    parse(body) {
      const data = Field.root(body).get('data');
      return { orders: rawOrders(data.get('refunds')), nextCursor: nextCursor(data.get('next_cursor')) };
    },
  },
};
