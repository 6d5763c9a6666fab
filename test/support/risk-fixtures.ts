import type { EntityManager } from '@mikro-orm/postgresql';
import { RefundStatus } from '../../common/enums.js';

/**
 * Rows for the risk rules' tests: orders written set-based (one statement for thousands, as history is), after-sale
 * cases written straight into order_return (the returns service is built apart), and a storefront payload to send
 * through the gateway.
 */

export interface BuyerAddress {
  name: string;
  phone: string | null;
  province: string | null;
  city: string | null;
  district: string | null;
  line1: string;
}

/** The hub's own storefront payload (connectors/storefront.ts), one line per product given. */
export function storefrontPayload(
  externalId: string,
  buyer: BuyerAddress,
  lines: { productCode: string; quantity?: number; unitPrice: string }[],
  placedAt: Date = new Date(),
) {
  return {
    externalId,
    status: 'PAID',
    customerName: buyer.name,
    shippingAddress: { ...buyer, postalCode: null, country: 'CN' },
    lines: lines.map((l) => ({
      productCode: l.productCode,
      quantity: l.quantity ?? 1,
      unitPrice: l.unitPrice,
    })),
    currencyCode: 'CNY',
    placedAt: placedAt.toISOString(),
    paidAt: placedAt.toISOString(),
  };
}

export interface FixtureOrder {
  channelId: string;
  externalId: string;
  buyer: BuyerAddress;
  placedAt: Date;
  lines: { productCode: string; productId: string | null; quantity: number; unitPrice: string }[];
}

/** Orders (DELIVERED, origin CSV) with their lines, in two statements; answers their ids in the order given. */
export async function insertFixtureOrders(em: EntityManager, orders: FixtureOrder[]): Promise<string[]> {
  const rows = orders.map((o) => ({
    channel_id: o.channelId,
    external_id: o.externalId,
    name: o.buyer.name,
    phone: o.buyer.phone,
    province: o.buyer.province,
    city: o.buyer.city,
    district: o.buyer.district,
    line1: o.buyer.line1,
    placed_at: o.placedAt.toISOString(),
    total: o.lines
      .reduce((sum, l) => sum + Math.round(Number(l.unitPrice) * 100) * l.quantity, 0)
      .toString()
      .padStart(3, '0')
      .replace(/(\d\d)$/, '.$1'),
  }));
  const inserted = await em.getConnection().execute<{ id: string; external_id: string }[]>(
    `insert into "order" (channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, total_amount, placed_at, paid_at, origin)
     select r.channel_id, r.external_id, 'DELIVERED', r.name, r.name, r.phone, r.province, r.city, r.district,
       r.line1, r.total, r.placed_at, r.placed_at, 'CSV'
     from jsonb_to_recordset(?::jsonb) as r(channel_id uuid, external_id text, name text, phone text, province text,
       city text, district text, line1 text, placed_at timestamptz, total numeric)
     returning id, external_id`,
    [JSON.stringify(rows)],
  );
  const ids = new Map(inserted.map((r) => [r.external_id, r.id]));
  const lines = orders.flatMap((o) =>
    o.lines.map((l, i) => ({
      order_id: ids.get(o.externalId),
      line_no: i + 1,
      product_code: l.productCode,
      product_id: l.productId,
      quantity: l.quantity,
      unit_price: l.unitPrice,
      line_total: ((Math.round(Number(l.unitPrice) * 100) * l.quantity) / 100).toFixed(2),
    })),
  );
  await em.getConnection().execute(
    `insert into order_line (order_id, line_no, product_code, product_id, quantity, unit_price, line_total)
     select * from jsonb_to_recordset(?::jsonb) as r(order_id uuid, line_no int, product_code text, product_id uuid,
       quantity int, unit_price numeric, line_total numeric)`,
    [JSON.stringify(lines)],
  );
  return orders.map((o) => ids.get(o.externalId)!);
}

let refundSeq = 0;

/** An after-sale case on each order, as the returns service would store it (REQUESTED unless said). */
export async function insertReturns(
  em: EntityManager,
  orderIds: string[],
  status: RefundStatus = RefundStatus.REQUESTED,
): Promise<void> {
  if (orderIds.length === 0) return;
  await em.getConnection().execute(
    `insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
       goods_returned, refund_amount, reason_class, responsible, requested_at, platform_updated_at)
     select o.channel_id, 'RF-' || ? || '-' || n, o.external_id, o.id, 'RETURN_AND_REFUND', ?, ?, true,
       o.total_amount, 'BUYER_REMORSE', 'BUYER', o.placed_at + interval '3 days', o.placed_at + interval '3 days'
     from unnest(?::uuid[]) with ordinality as u(id, n) join "order" o on o.id = u.id`,
    [++refundSeq, status, status, `{${orderIds.join(',')}}`],
  );
}

/** A small deterministic PRNG (mulberry32): the same seed makes the same fixture on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
