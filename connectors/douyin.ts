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
import { douyinRefund, refundByFields } from './refunds.js';

// Douyin (Doudian): the `data.shop_order_detail` object of `order.orderDetail`. Money in fen, times in unix
// seconds (a pay_time of 0: not paid). Receiver data may come only as `mask_*` or `encrypt_*` copies.
// A line's merchant code is `code` when not empty; else its `sku_id` goes through the channel's SKU map.

const STATUS: StatusTable = {
  1: OrderStatus.PENDING_PAYMENT,
  105: OrderStatus.PAID, // paid, awaiting confirmation
  2: OrderStatus.PAID,
  101: OrderStatus.PAID, // part shipped
  3: OrderStatus.SHIPPED,
  5: OrderStatus.DELIVERED,
  4: OrderStatus.CANCELLED,
};

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);
  const address = order.get('post_addr');

  const lines = order.get('sku_order_list').lines((sku) => {
    const quantity = sku.get('item_num').positiveInt();
    const unitPrice = sku.get('origin_amount').fen();
    return {
      ...line(
        sku.get('code').optionalText(),
        sku.get('sku_id').optionalId(),
        quantity,
        unitPrice,
        sku.get('sum_amount').optional()?.fen(),
      ),
      // The sku order's own id: an after-sale record's related_id.
      platformLineId: sku.get('order_id').optionalId(),
    };
  });

  const receiver = requiredText(
    order.get('post_receiver'),
    order.get('mask_post_receiver'),
    order.get('encrypt_post_receiver'),
  );
  return {
    externalId: order.get('order_id').id(),
    ...order.get('order_status').status(STATUS),
    customerName: receiver,
    shippingAddress: {
      name: receiver,
      phone: firstText(order.get('post_tel'), order.get('mask_post_tel'), order.get('encrypt_post_tel')),
      province: address.optionalGet('province').optionalGet('name').optionalText(),
      city: address.optionalGet('city').optionalGet('name').optionalText(),
      district: address.optionalGet('town').optionalGet('name').optionalText(),
      line1: requiredText(
        address.optionalGet('detail'),
        order.get('mask_post_addr').optionalGet('detail'),
        address.optionalGet('encrypt_detail'),
      ),
      postalCode: null,
      country: 'CN',
    },
    lines,
    total: orderTotal(order.get('pay_amount').optional()?.fen(), lines),
    currencyCode: 'CNY',
    placedAt: order.get('create_time').unixSeconds(),
    paidAt: order.get('pay_time').optional(0)?.unixSeconds() ?? null,
  };
}

export const douyin: Connector = {
  platform: Platform.DOUYIN,
  toOrder,
  toRefund: douyinRefund,
  isRefund: refundByFields('aftersale_info', 'aftersale_id'),
  pull: {
    /** `GET {base}/order/searchList?cursor=<cursor>` (no parameter from the beginning), orders by update time. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/order/searchList', { cursor }),
    /** `{"code": 10000, "data": {"shop_order_list": [...], "next_cursor": "..."}}`; null or absent: no more now. */
    parse(body) {
      const data = Field.root(body).get('data');
      return {
        orders: rawOrders(data.get('shop_order_list')),
        nextCursor: nextCursor(data.get('next_cursor')),
      };
    },
  },
  refundPull: {
    /** `GET {base}/afterSale/List?cursor=<cursor>`, as `afterSale/List` by update time: its items are what `toRefund` maps. */
    request: (baseUrl, cursor) => getPage(baseUrl, '/afterSale/List', { cursor }),
    /** `{"code": 10000, "data": {"items": [{"aftersale_info": …, "order_info": …, "text_part": …}], "next_cursor": "..."}}`. */
    parse(body) {
      const data = Field.root(body).get('data');
      return { orders: rawOrders(data.get('items')), nextCursor: nextCursor(data.get('next_cursor')) };
    },
  },
};
