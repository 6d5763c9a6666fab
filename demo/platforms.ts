import { randomUUID } from 'node:crypto';
import { Platform } from '../common/enums.js';
import {
  HUB_SIGNATURE,
  SHOPIFY_SIGNATURE,
  signatureHeader,
  type SignatureScheme,
} from '../server/webhook-signature.js';

// Each platform's order push as that platform writes it (the shapes of test/fixtures/channels, which the
// connectors' tests read), for an order the demo makes up: the hub reads them with the same connectors as
// real pushes. Money is kept in fen (cents) so no sum is ever rounded.

export interface DemoLine {
  productCode: string;
  name: string;
  quantity: number;
  /** In the order's currency's minor unit. */
  unitPriceFen: number;
}

export interface DemoOrder {
  externalId: string;
  customerName: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  street: string;
  lines: DemoLine[];
  placedAt: Date;
  /** Null: not paid (yet). */
  paidAt: Date | null;
}

export interface PlatformDialect {
  platform: Platform;
  /** Whether the platform pushes an order before it is paid (JD and Pinduoduo push paid orders only). */
  pushesUnpaid: boolean;
  signature: SignatureScheme;
  /** The push body for the order as it stands (unpaid while `paidAt` is null). */
  payload(order: DemoOrder): unknown;
  /** Headers a real push carries besides the signature. */
  extraHeaders(): Record<string, string>;
}

const GMT8_MS = 8 * 3_600_000;
/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai, as the Chinese platforms write times. */
const shanghai = (time: Date) =>
  new Date(time.getTime() + GMT8_MS).toISOString().slice(0, 19).replace('T', ' ');
/** ISO 8601 with the +08:00 offset. */
const shanghaiIso = (time: Date) => `${shanghai(time).replace(' ', 'T')}+08:00`;
const yuan = (fen: number) => `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
const totalFen = (order: DemoOrder) =>
  order.lines.reduce((sum, line) => sum + line.unitPriceFen * line.quantity, 0);
/** A stable numeric sub-id for line `index` of an order whose id is all digits. */
const lineId = (order: DemoOrder, index: number) =>
  `${order.externalId}${String(index + 1).padStart(2, '0')}`;
/** A platform SKU id standing for a product code, stable across runs (the lines also carry the code). */
const skuId = (productCode: string) =>
  [...productCode].reduce((hash, char) => (hash * 31 + char.charCodeAt(0)) % 1_000_000_000, 7) + 1e9;

const taobao: PlatformDialect = {
  platform: Platform.TAOBAO,
  pushesUnpaid: true,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    tid_str: order.externalId,
    status: order.paidAt ? 'WAIT_SELLER_SEND_GOODS' : 'WAIT_BUYER_PAY',
    buyer_nick: `${order.customerName.slice(0, 1)}**`,
    created: shanghai(order.placedAt),
    ...(order.paidAt && { pay_time: shanghai(order.paidAt) }),
    payment: yuan(totalFen(order)),
    post_fee: '0.00',
    receiver_name: order.customerName,
    receiver_mobile: order.phone,
    receiver_state: order.province,
    receiver_city: order.city,
    receiver_district: order.district,
    receiver_address: order.street,
    orders: {
      order: order.lines.map((line, index) => ({
        oid_str: lineId(order, index),
        sku_id: String(skuId(line.productCode)),
        outer_sku_id: line.productCode,
        title: line.name,
        num: line.quantity,
        price: yuan(line.unitPriceFen),
        payment: yuan(line.unitPriceFen * line.quantity),
      })),
    },
  }),
};

const jd: PlatformDialect = {
  platform: Platform.JD,
  pushesUnpaid: false,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    orderId: order.externalId,
    orderState: 'WAIT_SELLER_STOCK_OUT',
    orderStartTime: shanghai(order.placedAt),
    paymentConfirmTime: shanghai(order.paidAt ?? order.placedAt),
    orderTotalPrice: yuan(totalFen(order)),
    orderPayment: yuan(totalFen(order)),
    freightPrice: '0.00',
    consigneeInfo: {
      fullname: order.customerName,
      mobile: order.phone,
      province: order.province,
      city: order.city,
      county: order.district,
      fullAddress: `${order.province}${order.city}${order.district}${order.street}`,
    },
    itemInfoList: order.lines.map((line) => ({
      skuId: String(skuId(line.productCode)),
      outerSkuId: line.productCode,
      skuName: line.name,
      itemTotal: String(line.quantity),
      jdPrice: yuan(line.unitPriceFen),
    })),
  }),
};

const pinduoduo: PlatformDialect = {
  platform: Platform.PINDUODUO,
  pushesUnpaid: false,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    order_sn: order.externalId,
    order_status: 1,
    created_time: shanghai(order.placedAt),
    pay_time: shanghai(order.paidAt ?? order.placedAt),
    // Pinduoduo sends yuan as a JSON number.
    pay_amount: totalFen(order) / 100,
    receiver_name: order.customerName,
    receiver_phone: order.phone,
    province: order.province,
    city: order.city,
    town: order.district,
    receiver_address: order.street,
    item_list: order.lines.map((line) => ({
      goods_id: skuId(line.productCode) + 1,
      sku_id: skuId(line.productCode),
      outer_id: line.productCode,
      goods_name: line.name,
      goods_count: line.quantity,
      goods_price: line.unitPriceFen / 100,
    })),
    refund_status: 1,
  }),
};

const douyin: PlatformDialect = {
  platform: Platform.DOUYIN,
  pushesUnpaid: true,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    order_id: order.externalId,
    order_status: order.paidAt ? 2 : 1,
    create_time: Math.floor(order.placedAt.getTime() / 1000),
    pay_time: order.paidAt ? Math.floor(order.paidAt.getTime() / 1000) : 0,
    pay_amount: totalFen(order),
    post_receiver: order.customerName,
    post_tel: order.phone,
    post_addr: {
      province: { name: order.province },
      city: { name: order.city },
      town: { name: order.district },
      detail: order.street,
    },
    sku_order_list: order.lines.map((line, index) => ({
      order_id: lineId(order, index),
      parent_order_id: order.externalId,
      product_name: line.name,
      sku_id: skuId(line.productCode),
      code: line.productCode,
      item_num: line.quantity,
      origin_amount: line.unitPriceFen,
      sum_amount: line.unitPriceFen * line.quantity,
    })),
  }),
};

const kuaishou: PlatformDialect = {
  platform: Platform.KUAISHOU,
  pushesUnpaid: true,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  // Kuaishou splits an order per item: the demo's Kuaishou orders have one line.
  payload: (order) => ({
    orderBaseInfo: {
      oid: order.externalId,
      status: order.paidAt ? 30 : 10,
      createTime: order.placedAt.getTime(),
      payTime: order.paidAt?.getTime() ?? 0,
      totalFee: totalFen(order),
      buyerNick: `快**${order.phone.slice(-1)}`,
    },
    orderAddress: {
      consignee: order.customerName,
      mobile: order.phone,
      province: order.province,
      city: order.city,
      district: order.district,
      address: order.street,
    },
    orderItemInfo: {
      itemId: skuId(order.lines[0].productCode) + 1,
      skuId: skuId(order.lines[0].productCode),
      relSkuId: 0,
      skuNick: order.lines[0].productCode,
      itemTitle: order.lines[0].name,
      num: order.lines[0].quantity,
      originalPrice: order.lines[0].unitPriceFen,
      price: order.lines[0].unitPriceFen,
    },
  }),
};

const youzan: PlatformDialect = {
  platform: Platform.YOUZAN,
  pushesUnpaid: true,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    full_order_info: {
      order_info: {
        tid: order.externalId,
        status: order.paidAt ? 'WAIT_SELLER_SEND_GOODS' : 'WAIT_BUYER_PAY',
        created: shanghai(order.placedAt),
        ...(order.paidAt && { pay_time: shanghai(order.paidAt) }),
      },
      buyer_info: { fans_nickname: order.customerName.slice(0, 1) },
      address_info: {
        receiver_name: order.customerName,
        receiver_tel: order.phone,
        delivery_province: order.province,
        delivery_city: order.city,
        delivery_district: order.district,
        delivery_address: order.street,
      },
      pay_info: { payment: yuan(totalFen(order)) },
      orders: order.lines.map((line, index) => ({
        oid: lineId(order, index),
        outer_sku_id: line.productCode,
        sku_id: skuId(line.productCode),
        title: line.name,
        num: line.quantity,
        price: yuan(line.unitPriceFen),
      })),
    },
  }),
};

const shopify: PlatformDialect = {
  platform: Platform.SHOPIFY,
  pushesUnpaid: true,
  signature: SHOPIFY_SIGNATURE,
  // Every delivery has its own id; the hub answers a repeated one without looking at the body.
  extraHeaders: () => ({ 'x-shopify-webhook-id': randomUUID() }),
  payload: (order) => ({
    id: Number(order.externalId),
    admin_graphql_api_id: `gid://shopify/Order/${order.externalId}`,
    name: `#${order.externalId.slice(-6)}`,
    created_at: shanghaiIso(order.placedAt),
    financial_status: order.paidAt ? 'paid' : 'pending',
    fulfillment_status: null,
    total_price: yuan(totalFen(order)),
    currency: 'CNY',
    customer: { first_name: order.customerName.slice(1), last_name: order.customerName.slice(0, 1) },
    shipping_address: {
      name: order.customerName,
      address1: order.street,
      city: order.city,
      province: order.province,
      country_code: 'CN',
      phone: order.phone,
    },
    line_items: order.lines.map((line, index) => ({
      id: Number(lineId(order, index)),
      sku: line.productCode,
      title: line.name,
      quantity: line.quantity,
      price: yuan(line.unitPriceFen),
    })),
  }),
};

const storefront: PlatformDialect = {
  platform: Platform.STOREFRONT,
  pushesUnpaid: true,
  signature: HUB_SIGNATURE,
  extraHeaders: () => ({}),
  payload: (order) => ({
    externalId: order.externalId,
    status: order.paidAt ? 'PAID' : 'PENDING_PAYMENT',
    customerName: order.customerName,
    shippingAddress: {
      name: order.customerName,
      phone: order.phone,
      province: order.province,
      city: order.city,
      district: order.district,
      line1: order.street,
      country: 'CN',
    },
    lines: order.lines.map((line) => ({
      productCode: line.productCode,
      quantity: line.quantity,
      unitPrice: yuan(line.unitPriceFen),
    })),
    currencyCode: 'CNY',
    placedAt: shanghaiIso(order.placedAt),
    ...(order.paidAt && { paidAt: shanghaiIso(order.paidAt) }),
  }),
};

export const dialects: Readonly<Record<Platform, PlatformDialect>> = {
  TAOBAO: taobao,
  JD: jd,
  PINDUODUO: pinduoduo,
  DOUYIN: douyin,
  KUAISHOU: kuaishou,
  YOUZAN: youzan,
  SHOPIFY: shopify,
  STOREFRONT: storefront,
};

/** The body (as sent) and headers of a push of `order` from a `platform` channel signed with `secret`. */
export function signedPush(platform: Platform, order: DemoOrder, secret: string) {
  const dialect = dialects[platform];
  const body = JSON.stringify(dialect.payload(order));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...dialect.extraHeaders(),
      ...signatureHeader(dialect.signature, secret, body),
    },
  };
}

/** A carrier's tracking push, signed with the carrier's secret as the hub checks it. */
export function signedCarrierEvent(
  secret: string,
  event: { trackingNumber: string; status: string; description: string; occurredAt: Date },
) {
  const body = JSON.stringify({ ...event, occurredAt: shanghaiIso(event.occurredAt) });
  return {
    body,
    headers: { 'content-type': 'application/json', ...signatureHeader(HUB_SIGNATURE, secret, body) },
  };
}
