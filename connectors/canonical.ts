import type { OrderStatus, Platform } from '../common/enums.js';
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

/** How a connector pulls orders changed since a cursor from its platform's order API. */
export interface PullProtocol {
  /** The request for one page of orders changed since `cursor` (null: from the beginning). */
  request(baseUrl: string, cursor: string | null): HttpRequest;
  /** One page of the reply: the raw order payloads and the cursor to ask from next (null: no more now). */
  parse(body: unknown): { orders: unknown[]; nextCursor: string | null };
}

export interface Connector {
  platform: Platform;
  /** Maps one order payload; throws PayloadMappingError naming the field that is missing or wrong. */
  toOrder(payload: unknown): CanonicalOrder;
  pull: PullProtocol;
}
