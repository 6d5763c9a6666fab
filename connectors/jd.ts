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
  type StatusTable,
} from './payload.js';
import { jdRefund, refundByFields } from './refunds.js';

// JD (Jingdong POP): one order of `jingdong.pop.order.search` / `.get`. JD pushes paid orders only; quantities
// come as strings ("2"); times are Asia/Shanghai local; amounts are yuan strings.

const STATUS: StatusTable = {
  WAIT_SELLER_STOCK_OUT: OrderStatus.PAID,
  WAIT_SELLER_DELIVERY: OrderStatus.PAID,
  WAIT_GOODS_RECEIVE_CONFIRM: OrderStatus.SHIPPED,
  SEND_TO_DISTRIBUTION_CENER: OrderStatus.SHIPPED, // JD's own spelling
  DISTRIBUTION_CENTER_RECEIVED: OrderStatus.SHIPPED,
  FINISHED_L: OrderStatus.DELIVERED,
  RECEIPTS_CONFIRM: OrderStatus.DELIVERED,
  TRADE_CANCELED: OrderStatus.CANCELLED,
  LOCKED: null, // held where it is: a timeline entry, no status change
  PAUSE: null,
};

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);
  const consignee = order.get('consigneeInfo');
  const fullname = consignee.get('fullname').text();

  const lines = order
    .get('itemInfoList')
    .lines((item) =>
      line(
        item.get('outerSkuId').optionalText(),
        item.get('skuId').optionalId(),
        item.get('itemTotal').positiveInt({ fromString: true }),
        item.get('jdPrice').decimalText(),
      ),
    );

  const payment = order.get('orderPayment').optional() ?? order.get('orderTotalPrice').optional();
  return {
    externalId: order.get('orderId').id(),
    ...order.get('orderState').status(STATUS),
    customerName: fullname,
    shippingAddress: {
      name: fullname,
      phone: firstText(consignee.get('mobile'), consignee.get('telephone')),
      province: consignee.get('province').optionalText(),
      city: consignee.get('city').optionalText(),
      district: consignee.get('county').optionalText(),
      line1: consignee.get('fullAddress').text(),
      postalCode: null,
      country: 'CN',
    },
    lines,
    total: orderTotal(payment?.decimalText(), lines),
    currencyCode: 'CNY',
    placedAt: order.get('orderStartTime').shanghaiTime(),
    paidAt: order.get('paymentConfirmTime').optional()?.shanghaiTime() ?? null,
  };
}

export const jd: Connector = {
  platform: Platform.JD,
  toOrder,
  toRefund: jdRefund,
  isRefund: refundByFields('serviceId'),
  pull: {
    /** `GET {base}/pop/order/search?updated_after=<cursor>` (no parameter from the beginning). */
    request: (baseUrl, cursor) => getPage(baseUrl, '/pop/order/search', { updated_after: cursor }),
    /**
     * `{"jingdong_pop_order_search_responce": {"searchorderinfo_result": {"orderInfoList": [...],
     * "nextCursor": "..."}}}` (JD's own spelling of "response"). `nextCursor` null or absent: no more now.
     */
    parse(body) {
      const result = Field.root(body).get('jingdong_pop_order_search_responce').get('searchorderinfo_result');
      return {
        orders: rawOrders(result.get('orderInfoList')),
        nextCursor: nextCursor(result.get('nextCursor')),
      };
    },
  },
  refundPull: {
    /**
     * `GET {base}/asc/service/list?updated_after=<cursor>`, as `jingdong.asc.query.list`. JD's list gives
     * summaries and `jingdong.asc.query.view` the service order; the hub's gateway answers each item as the
     * view's record (what `toRefund` maps), one call per page rather than one per service order.
     */
    request: (baseUrl, cursor) => getPage(baseUrl, '/asc/service/list', { updated_after: cursor }),
    /** `{"jingdong_asc_query_list_responce": {"pageResult": {"data": [...], "nextCursor": "..."}}}`, paged like the orders. */
    parse(body) {
      const result = Field.root(body).get('jingdong_asc_query_list_responce').get('pageResult');
      return { orders: rawOrders(result.get('data')), nextCursor: nextCursor(result.get('nextCursor')) };
    },
  },
};
