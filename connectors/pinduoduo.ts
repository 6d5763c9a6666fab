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
import { pinduoduoRefund, refundByFields } from './refunds.js';

// Pinduoduo: the order of `pdd.order.information.get` (`order_info_get_response.order_info` taken off). Only
// paid orders come through; money is yuan as a JSON double (45.9); times are Asia/Shanghai local. Receiver data
// may come encrypted in the plain fields, or only as `*_mask` copies.

/** order_status: 1 waiting to ship, 2 shipped, 3 received. */
const ORDER_STATUS: StatusTable = {
  1: OrderStatus.PAID,
  2: OrderStatus.SHIPPED,
  3: OrderStatus.DELIVERED,
};

/** confirm_status: 0 not completed, 1 completed, 2 cancelled. Cancellation wins over order_status. */
const CONFIRM_STATUS: StatusTable = { 0: null, 1: null, 2: OrderStatus.CANCELLED };

/** refund_status: 1 none, 2 after-sale in progress, 3 refunding, 4 refunded. A refund wins over everything. */
const REFUND_STATUS: StatusTable = { 1: null, 2: null, 3: null, 4: OrderStatus.REFUNDED };

/** The canonical status from the three status fields; platformStatus lists the ones sent, e.g. "order_status=1". */
function statusOf(order: Field): Pick<CanonicalOrder, 'status' | 'platformStatus'> {
  const fields = [order.get('order_status'), order.get('confirm_status'), order.get('refund_status')];
  const [orderStatus, confirmStatus, refundStatus] = fields;
  const byOrder = orderStatus.lookup(ORDER_STATUS);
  const byConfirm = confirmStatus.optional()?.lookup(CONFIRM_STATUS) ?? null;
  const byRefund = refundStatus.optional()?.lookup(REFUND_STATUS) ?? null;
  return {
    status: byRefund ?? byConfirm ?? byOrder,
    platformStatus: fields
      .filter((field) => !field.isAbsent)
      .map((field) => `${field.path}=${field.code()}`)
      .join(', '),
  };
}

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);

  const lines = order
    .get('item_list')
    .lines((item) =>
      line(
        item.get('outer_id').optionalText(),
        item.get('sku_id').optionalId(),
        item.get('goods_count').positiveInt(),
        item.get('goods_price').decimalNumber(),
      ),
    );

  const receiverName = requiredText(order.get('receiver_name'), order.get('receiver_name_mask'));
  return {
    externalId: order.get('order_sn').id(),
    ...statusOf(order),
    customerName: receiverName,
    shippingAddress: {
      name: receiverName,
      phone: firstText(order.get('receiver_phone'), order.get('receiver_phone_mask')),
      province: order.get('province').optionalText(),
      city: order.get('city').optionalText(),
      district: order.get('town').optionalText(),
      // receiver_address is the street part; `address` repeats province, city and town before it.
      line1: requiredText(
        order.get('receiver_address'),
        order.get('address'),
        order.get('receiver_address_mask'),
        order.get('address_mask'),
      ),
      postalCode: null,
      country: 'CN',
    },
    lines,
    total: orderTotal(order.get('pay_amount').optional()?.decimalNumber(), lines),
    currencyCode: 'CNY',
    placedAt: order.get('created_time').shanghaiTime(),
    paidAt: order.get('pay_time').optional()?.shanghaiTime() ?? null,
  };
}

export const pinduoduo: Connector = {
  platform: Platform.PINDUODUO,
  toOrder,
  toRefund: pinduoduoRefund,
  isRefund: refundByFields('after_sales_status', 'after_sales_type'),
  pull: {
    /** `GET {base}/order/increment?updated_after=<cursor>` (no parameter from the beginning), as `pdd.order.number.list.increment.get`. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/order/increment', { updated_after: cursor }),
    /** `{"order_sn_increment_get_response": {"order_sn_list": [...], "next_cursor": "..."}}`; null or absent: no more now. */
    parse(body) {
      const response = Field.root(body).get('order_sn_increment_get_response');
      return {
        orders: rawOrders(response.get('order_sn_list')),
        nextCursor: nextCursor(response.get('next_cursor')),
      };
    },
  },
  refundPull: {
    /** `GET {base}/refund/increment?updated_after=<cursor>`, as `pdd.refund.list.increment.get`: its items are what `toRefund` maps. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/refund/increment', { updated_after: cursor }),
    /** `{"refund_increment_get_response": {"refund_list": [...], "next_cursor": "..."}}`; null or absent: no more now. */
    parse(body) {
      const response = Field.root(body).get('refund_increment_get_response');
      return {
        orders: rawOrders(response.get('refund_list')),
        nextCursor: nextCursor(response.get('next_cursor')),
      };
    },
  },
};
