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
import { taobaoRefund, refundByFields } from './refunds.js';

// Taobao / Tmall: the `trade` object of `taobao.trade.fullinfo.get` (envelope taken off). `tid` is above 2^53,
// so the id is `tid_str`; times are Asia/Shanghai local; amounts are yuan strings.

const STATUS: StatusTable = {
  WAIT_BUYER_PAY: OrderStatus.PENDING_PAYMENT,
  TRADE_NO_CREATE_PAY: OrderStatus.PENDING_PAYMENT,
  PAY_PENDING: OrderStatus.PENDING_PAYMENT,
  WAIT_SELLER_SEND_GOODS: OrderStatus.PAID,
  SELLER_CONSIGNED_PART: OrderStatus.PAID,
  PAID_FORBID_CONSIGN: OrderStatus.PAID,
  WAIT_PRE_AUTH_CONFIRM: OrderStatus.PAID,
  WAIT_BUYER_CONFIRM_GOODS: OrderStatus.SHIPPED,
  TRADE_FINISHED: OrderStatus.DELIVERED,
  TRADE_BUYER_SIGNED: OrderStatus.DELIVERED,
  TRADE_CLOSED_BY_TAOBAO: OrderStatus.CANCELLED, // closed before payment
  TRADE_CLOSED: OrderStatus.REFUNDED, // closed after a refund
};

function toOrder(payload: unknown): CanonicalOrder {
  const trade = Field.root(payload);

  const tidStr = trade.get('tid_str');
  const tid = trade.get('tid');
  const externalId = tidStr.isAbsent && !tid.isAbsent ? tid.id('tid_str') : tidStr.id();

  const lines = trade
    .get('orders')
    .get('order')
    .lines((order) => {
      const platformSkuId = order.get('sku_id').optionalId();
      // An item without SKUs has no sku_id; its merchant code is then the item's outer_iid.
      const productCode =
        order.get('outer_sku_id').optionalText() ??
        (platformSkuId === null ? order.get('outer_iid').optionalText() : null);
      return {
        ...line(productCode, platformSkuId, order.get('num').positiveInt(), order.get('price').decimalText()),
        // oid exceeds 2^53: only its text form is exact; a refund names the line by it.
        platformLineId: order.get('oid_str').optionalText(),
      };
    });

  const receiverName = trade.get('receiver_name');
  return {
    externalId,
    ...trade.get('status').status(STATUS),
    customerName: requiredText(trade.get('buyer_nick'), receiverName),
    shippingAddress: {
      name: receiverName.optionalText(),
      phone: firstText(trade.get('receiver_mobile'), trade.get('receiver_phone')),
      province: trade.get('receiver_state').optionalText(),
      city: trade.get('receiver_city').optionalText(),
      district: trade.get('receiver_district').optionalText(),
      line1: trade.get('receiver_address').text(),
      postalCode: trade.get('receiver_zip').optionalText(),
      country: 'CN',
    },
    lines,
    total: orderTotal(trade.get('payment').optional()?.decimalText(), lines),
    currencyCode: 'CNY',
    placedAt: trade.get('created').shanghaiTime(),
    paidAt: trade.get('pay_time').optional()?.shanghaiTime() ?? null,
  };
}

export const taobao: Connector = {
  platform: Platform.TAOBAO,
  toOrder,
  toRefund: taobaoRefund,
  isRefund: refundByFields('refund_get_response', 'refund_id'),
  pull: {
    /** `GET {base}/trades?modified_after=<cursor>` (no parameter from the beginning), as `taobao.trades.sold.increment.get`. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/trades', { modified_after: cursor }),
    /**
     * `{"trades_sold_increment_get_response": {"trades": {"trade": [...]}, "next_cursor": "..."}}`; like every TOP
     * reply it leaves out `trades` when there are none. `next_cursor` null or absent: no more now.
     */
    parse(body) {
      const response = Field.root(body).get('trades_sold_increment_get_response');
      const trades = response.get('trades');
      return {
        orders: trades.isAbsent ? [] : rawOrders(trades.get('trade')),
        nextCursor: nextCursor(response.get('next_cursor')),
      };
    },
  },
  refundPull: {
    /**
     * `GET {base}/refunds/receive?modified_after=<cursor>`, as `taobao.refunds.receive.get` asked for the fields
     * of `taobao.refund.get`: each item is the `refund` record `toRefund` maps, so no detail call per refund.
     */
    request: (baseUrl, cursor) => getPage(baseUrl, '/refunds/receive', { modified_after: cursor }),
    /**
     * `{"refunds_receive_get_response": {"refunds": {"refund": [...]}, "next_cursor": "..."}}`, `refunds` left out
     * when there are none, as in the order list. tid, oid and refund_id may be numbers beyond 2^53.
     */
    parse(body) {
      const response = Field.root(body).get('refunds_receive_get_response');
      const refunds = response.get('refunds');
      return {
        orders: refunds.isAbsent ? [] : rawOrders(refunds.get('refund')),
        nextCursor: nextCursor(response.get('next_cursor')),
      };
    },
  },
};
