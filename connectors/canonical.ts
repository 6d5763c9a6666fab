import type {
  OrderStatus,
  Platform,
  RefundKind,
  RefundReasonClass,
  RefundResponsible,
  RefundStatus,
} from '../common/enums.js';
import type { HttpRequest } from '../services/platform-client.js';

/** What every connector turns its platform's payload into. Pure data: no entities, no database. */
export interface CanonicalAddress {
  name: string | null;
  phone: string | null;
  province: string | null;
  city: string | null;
  district: string | null;
  line1: string;
  postalCode: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface CanonicalLine {
  /** The merchant's own code (outer SKU) when the platform sends one; else null and `platformSkuId` is mapped. */
  productCode: string | null;
  /** The platform's own SKU id, as a string. */
  platformSkuId: string | null;
  /** The platform's own id of the line, where it has one a refund names (see CanonicalRefundLine). */
  platformLineId?: string | null;
  quantity: number;
  /** Exact decimal strings with two places, e.g. "129.90". */
  unitPrice: string;
  lineTotal: string;
}

export interface CanonicalOrder {
  externalId: string;
  /** Null when the platform's status holds the order where it is (JD LOCKED, Kuaishou 0). */
  status: OrderStatus | null;
  /** The platform's own status word, kept for the timeline. */
  platformStatus: string;
  customerName: string;
  shippingAddress: CanonicalAddress;
  lines: CanonicalLine[];
  total: string;
  currencyCode: string;
  placedAt: Date;
  paidAt: Date | null;
  /** A phone the customer can be told at (notices); only an unmasked one. Absent: none. */
  contactPhone?: string | null;
  /** The customer's WeChat mini-program openid (notices). */
  wechatOpenId?: string | null;
}

/** What a refund names of the order's lines: any of these may match one; null when the platform does not send it. */
export interface CanonicalRefundLine {
  /** The merchant's own code (outer SKU). */
  productCode: string | null;
  /** The platform's SKU id, as the order connector maps it to the order line's `platformSkuId`. */
  platformSkuId: string | null;
  /** The platform's id of the order line (Taobao/Youzan oid, Douyin sku_order_id, Shopify line_item_id). */
  platformLineId: string | null;
  /** Null when the platform's record does not say how many (Kuaishou). */
  quantity: number | null;
}

/** One after-sale record (refund, return or exchange) of any platform. Pure data, like CanonicalOrder. */
export interface CanonicalRefund {
  /** The platform's id of the after-sale record. */
  refundId: string;
  /** The order's externalId exactly as the same platform's `toOrder` gives it. */
  externalId: string;
  kind: RefundKind;
  /** Null when the platform's status is outside the common set (exchange and re-send steps) or unknown. */
  status: RefundStatus | null;
  /** The platform's own status word or code, kept as sent. */
  platformStatus: string;
  /** Whether goods go back to the merchant; null when the record does not tell. */
  goodsReturned: boolean | null;
  lines: CanonicalRefundLine[];
  /** Exact decimal string with two places. */
  refundAmount: string;
  currencyCode: string;
  reasonText: string | null;
  reasonCode: string | null;
  reasonClass: RefundReasonClass;
  responsible: RefundResponsible;
  returnTrackingNumber: string | null;
  returnCarrier: string | null;
  requestedAt: Date;
  updatedAt: Date;
}

/** A push's HTTP headers, lower-case names as Node gives them. */
export type PushHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** How a connector pulls orders changed since a cursor from its platform's order API. */
export interface PullProtocol {
  /** The request for one page of orders changed since `cursor` (null: from the beginning). */
  request(baseUrl: string, cursor: string | null): HttpRequest;
  /** One page of the reply: the raw payloads (orders, or refunds for `refundPull`) and the cursor to ask from next (null: no more now). */
  parse(body: unknown): { orders: unknown[]; nextCursor: string | null };
}

export interface Connector {
  platform: Platform;
  /** Maps one order payload; throws PayloadMappingError naming the field that is missing or wrong. */
  toOrder(payload: unknown): CanonicalOrder;
  /** Maps one after-sale record (connectors/refunds.ts); throws PayloadMappingError like `toOrder`. */
  toRefund(payload: unknown): CanonicalRefund;
  /**
   * Whether a pushed body is an after-sale record rather than an order: by a header the platform names the
   * topic with (Shopify), else by the record's own fields (docs/after-sale.md).
   */
  isRefund(payload: unknown, headers?: PushHeaders): boolean;
  pull: PullProtocol;
  /** How after-sale records changed since a cursor are pulled, where the hub speaks the platform's refund list. */
  refundPull?: PullProtocol;
}
