import { OrderStatus, Platform } from '../common/enums.js';
import type { CanonicalOrder, Connector } from './canonical.js';
import {
  contactPhone,
  Field,
  getPage,
  isoCode,
  line,
  orderTotal,
  rawOrders,
  type StatusTable,
} from './payload.js';
import { refundByFields, shopifyAfterSale } from './refunds.js';

// Shopify: the Order resource of the Admin REST API (and of the orders/* webhooks). `id` is above 2^53, so the
// id is the number at the end of `admin_graphql_api_id`. Amounts are decimal strings in the order's `currency`;
// times are ISO 8601 with an offset. Shopify has no pay time on the order, so paidAt stays null.

// Beyond the README's table, Shopify's other values: a partly paid order is not paid yet; a partial refund
// leaves the order going (the fulfillment decides); an expired payment or restocked goods end it.
const FINANCIAL_STATUS: StatusTable = {
  pending: OrderStatus.PENDING_PAYMENT,
  partially_paid: OrderStatus.PENDING_PAYMENT,
  authorized: OrderStatus.PAID,
  paid: OrderStatus.PAID,
  partially_refunded: OrderStatus.PAID,
  refunded: OrderStatus.REFUNDED,
  voided: OrderStatus.CANCELLED,
  expired: OrderStatus.CANCELLED,
};

/** fulfillment_status: null (nothing shipped yet) or partial leave the financial status in charge. */
const FULFILLMENT_STATUS: StatusTable = {
  fulfilled: OrderStatus.SHIPPED,
  partial: null,
  restocked: OrderStatus.CANCELLED,
};

const ORDER_GID = /^gid:\/\/shopify\/Order\/(\d+)$/;

/** Orders per page of the pull; a full page means more may follow. */
export const SHOPIFY_PAGE_SIZE = 250;

function externalIdOf(order: Field): string {
  const gid = order.get('admin_graphql_api_id');
  if (gid.isAbsent) return order.get('id').id('admin_graphql_api_id');
  const match = ORDER_GID.exec(gid.text());
  return match
    ? match[1]
    : gid.fail(`must be "gid://shopify/Order/<number>", got ${JSON.stringify(gid.text())}`);
}

/**
 * Cancelled (cancelled_at set) or voided: CANCELLED; refunded: REFUNDED; fulfilled: SHIPPED; otherwise paid or
 * authorized: PAID, pending: PENDING_PAYMENT. platformStatus lists the fields, e.g. "financial_status=paid, …".
 */
function statusOf(order: Field): Pick<CanonicalOrder, 'status' | 'platformStatus'> {
  const cancelledAt = order.get('cancelled_at').optional();
  cancelledAt?.isoTime(); // a cancellation time that is no time is an error, not a cancellation
  const financial = order.get('financial_status');
  const fulfillment = order.get('fulfillment_status');
  const platformStatus = [
    `financial_status=${financial.code()}`,
    `fulfillment_status=${fulfillment.optional()?.code() ?? 'null'}`,
    ...(cancelledAt ? [`cancelled_at=${cancelledAt.text()}`] : []),
  ].join(', ');
  if (cancelledAt) return { status: OrderStatus.CANCELLED, platformStatus };
  const byMoney = financial.lookup(FINANCIAL_STATUS);
  if (byMoney === OrderStatus.CANCELLED || byMoney === OrderStatus.REFUNDED)
    return { status: byMoney, platformStatus };
  const byFulfillment = fulfillment.optional()?.lookup(FULFILLMENT_STATUS) ?? null;
  return { status: byFulfillment ?? byMoney, platformStatus };
}

/** "First Last" from an object's first_name and last_name; null when it has neither (or is absent). */
function fullName(person: Field): string | null {
  const parts = [
    person.optionalGet('first_name').optionalText(),
    person.optionalGet('last_name').optionalText(),
  ];
  return parts.filter((part) => part !== null).join(' ') || null;
}

function toOrder(payload: unknown): CanonicalOrder {
  const order = Field.root(payload);
  const shipping = order.get('shipping_address');
  shipping.record();

  const lines = order.get('line_items').lines((item) => ({
    ...line(
      item.get('sku').optionalText(),
      item.get('variant_id').optionalId(),
      item.get('quantity').positiveInt(),
      item.get('price').decimalText(),
    ),
    platformLineId: item.get('id').optionalId(),
  }));

  const addressName = shipping.get('name').optionalText() ?? fullName(shipping);
  const shippingPhone = shipping.get('phone').optionalText();
  const street = [shipping.get('address1').optionalText(), shipping.get('address2').optionalText()];
  const customerName =
    fullName(order.get('customer')) ??
    addressName ??
    order.optionalGet('billing_address').optionalGet('name').optionalText() ??
    order.get('customer').fail('has no first or last name, and the shipping and billing addresses no name');
  return {
    externalId: externalIdOf(order),
    ...statusOf(order),
    customerName,
    shippingAddress: {
      name: addressName,
      phone: shippingPhone,
      province: shipping.get('province').optionalText(),
      city: shipping.get('city').optionalText(),
      district: null,
      line1: street.filter((part) => part !== null).join(', ') || shipping.get('address1').text(),
      postalCode: shipping.get('zip').optionalText(),
      country: isoCode(shipping.get('country_code'), 2),
    },
    lines,
    total: orderTotal(order.get('total_price').optional()?.decimalText(), lines),
    currencyCode: isoCode(order.get('currency'), 3),
    placedAt: order.get('created_at').isoTime(),
    paidAt: null,
    // The order's own phone (the customer's) before the consignee's.
    contactPhone: contactPhone(order.optionalGet('phone').optionalText()) ?? contactPhone(shippingPhone),
  };
}

export const shopify: Connector = {
  platform: Platform.SHOPIFY,
  toOrder,
  toRefund: shopifyAfterSale,
  // The webhook names its topic (refunds/create, returns/approve, orders/updated, ...); without it, a refund's or
  // a return's own list of lines tells.
  isRefund: (payload, headers) => {
    const topic = headers?.['x-shopify-topic'];
    return typeof topic === 'string'
      ? topic.startsWith('refunds/') || topic.startsWith('returns/')
      : refundByFields('refund_line_items', 'return_line_items')(payload);
  },
  pull: {
    /**
     * `GET {base}/admin/api/2025-01/orders.json?status=any&order=updated_at asc&limit=250&updated_at_min=<cursor>`
     * (no updated_at_min from the beginning).
     */
    request: (baseUrl, cursor) => ordersPage(baseUrl, cursor, {}),
    /**
     * `{"orders": [...]}`. Shopify puts its page links in a header the body does not carry, so the cursor is the
     * last order's `updated_at` when the page is full (more may follow); a shorter page: no more now. The poller
     * then asks again from the cursor it had, re-reading at most one page, which idempotent ingestion absorbs.
     */
    parse(body) {
      const list = Field.root(body).get('orders');
      const orders = rawOrders(list);
      return { orders, nextCursor: updatedAtCursor(list, orders.length) };
    },
  },
  refundPull: {
    /**
     * The same orders list narrowed to each order's refunds (`&fields=id,updated_at,refunds`): a refund moves its
     * order's updated_at and the Order resource embeds its Refunds, so one call per page of orders finds them all,
     * where `GET /orders/{id}/refunds.json` would be one call per order.
     */
    request: (baseUrl, cursor) => ordersPage(baseUrl, cursor, { fields: 'id,updated_at,refunds' }),
    /**
     * `{"orders": [{"id": …, "updated_at": "…", "refunds": [...]}]}`: the page's refunds, each kept raw, in order;
     * the cursor as the order pull's. An order that is no object, or whose refunds are no list, is passed on as it
     * is, to fail on its own.
     */
    parse(body) {
      const list = Field.root(body).get('orders');
      const orders = rawOrders(list);
      const refunds = orders.flatMap((order) => {
        if (typeof order !== 'object' || order === null || Array.isArray(order)) return [order];
        const embedded = (order as Record<string, unknown>).refunds;
        if (embedded === undefined || embedded === null) return [];
        return Array.isArray(embedded) ? (embedded as unknown[]) : [embedded];
      });
      return { orders: refunds, nextCursor: updatedAtCursor(list, orders.length) };
    },
  },
};

function ordersPage(baseUrl: string, cursor: string | null, extra: Record<string, string>) {
  return getPage(baseUrl, '/admin/api/2025-01/orders.json', {
    status: 'any',
    order: 'updated_at asc',
    limit: String(SHOPIFY_PAGE_SIZE),
    ...extra,
    updated_at_min: cursor,
  });
}

/** A full page's last `updated_at` (more may follow); null after a shorter page (no more now). */
function updatedAtCursor(list: Field, count: number): string | null {
  if (count < SHOPIFY_PAGE_SIZE) return null;
  const updatedAt = list.items()[count - 1].get('updated_at');
  updatedAt.isoTime(); // a cursor Shopify would refuse is an error now, not on the next request
  return updatedAt.text();
}
