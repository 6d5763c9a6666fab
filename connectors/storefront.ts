import { OrderStatus, Platform } from '../common/enums.js';
import type { CanonicalOrder, Connector } from './canonical.js';
import {
  Field,
  getPage,
  isoCode,
  line,
  nextCursor,
  orderTotal,
  rawOrders,
  type StatusTable,
} from './payload.js';
import { storefrontRefund, refundByFields } from './refunds.js';

/*
 * The merchant's own storefront sends the hub's canonical order as JSON:
 *
 *   {
 *     "externalId": "SF-10001",                 string (or a safe integer): the storefront's order number
 *     "status": "PAID",                         one of the hub's OrderStatus names
 *     "customerName": "Grace Hopper",           string; when absent, shippingAddress.name
 *     "shippingAddress": {
 *       "name": "Grace Hopper",                 string, optional
 *       "phone": "+1 555 0100",                 string, optional
 *       "province": null,                       string, optional
 *       "city": "Arlington",                    string, optional
 *       "district": null,                       string, optional
 *       "line1": "1 Navy Way",                  string, required
 *       "postalCode": "22202",                  string, optional
 *       "country": "US"                         ISO 3166-1 alpha-2, required
 *     },
 *     "lines": [
 *       { "productCode": "MILK-1L", "quantity": 2, "unitPrice": "129.90" }
 *     ],                                        at least one; productCode is the hub's own; unitPrice a decimal string
 *     "currencyCode": "CNY",                    ISO 4217
 *     "placedAt": "2026-01-05T20:15:02+08:00",  ISO 8601 with an offset
 *     "paidAt": "2026-01-05T20:15:30+08:00"     ISO 8601 with an offset, optional
 *   }
 *
 * The total is the sum of the lines. platformStatus is the status as sent.
 */

const STATUS: StatusTable = Object.fromEntries(Object.values(OrderStatus).map((status) => [status, status]));

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);
  const address = order.get('shippingAddress');
  address.record();

  const lines = order
    .get('lines')
    .lines((item) =>
      line(
        item.get('productCode').text(),
        null,
        item.get('quantity').positiveInt(),
        item.get('unitPrice').decimalText(),
      ),
    );

  const addressName = address.get('name').optionalText();
  return {
    externalId: order.get('externalId').id(),
    ...order.get('status').status(STATUS),
    customerName: order.get('customerName').optionalText() ?? addressName ?? order.get('customerName').text(),
    shippingAddress: {
      name: addressName,
      phone: address.get('phone').optionalText(),
      province: address.get('province').optionalText(),
      city: address.get('city').optionalText(),
      district: address.get('district').optionalText(),
      line1: address.get('line1').text(),
      postalCode: address.get('postalCode').optionalText(),
      country: isoCode(address.get('country'), 2),
    },
    lines,
    total: orderTotal(null, lines),
    currencyCode: isoCode(order.get('currencyCode'), 3),
    placedAt: order.get('placedAt').isoTime(),
    paidAt: order.get('paidAt').optional()?.isoTime() ?? null,
  };
}

export const storefront: Connector = {
  platform: Platform.STOREFRONT,
  toOrder,
  toRefund: storefrontRefund,
  isRefund: refundByFields('refundId'),
  pull: {
    /** `GET {base}/orders/changes?cursor=<cursor>` (no parameter from the beginning). */
    request: (baseUrl, cursor) => getPage(baseUrl, '/orders/changes', { cursor }),
    /** `{"orders": [<canonical order>, ...], "nextCursor": "..."}`; nextCursor null or absent: no more now. */
    parse(body) {
      const page = Field.root(body);
      return { orders: rawOrders(page.get('orders')), nextCursor: nextCursor(page.get('nextCursor')) };
    },
  },
};
