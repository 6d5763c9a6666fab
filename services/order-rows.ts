import type { EntityManager } from '@mikro-orm/postgresql';
import type { CanonicalOrder } from '../connectors/canonical.js';
import { OrderStatus, type OrderOrigin } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import type { DomainSettings } from './context.js';
import { isRemoteProvince } from './provinces.js';
import type { StockLine } from './stock.js';

/**
 * The SQL that writes new orders and their lines, for every door (the gateway,
 * placeOrder) and for splitting. Statuses move and timelines grow only in
 * order-transitions.ts.
 */

export interface ResolvedLine {
  lineNo: number;
  productCode: string;
  productId: string | null;
  platformSkuId: string | null;
  platformLineId: string | null;
  quantity: number;
  unitPrice: string;
  lineTotal: string;
}

/** Codes resolved to products: the merchant's own code first, else the channel's SKU map. */
export async function resolveLines(
  tx: EntityManager,
  channel: Channel,
  orders: CanonicalOrder[],
): Promise<ResolvedLine[][]> {
  const all = orders.flatMap((o) => o.lines);
  const codes = [...new Set(all.map((l) => l.productCode).filter((c): c is string => !!c))];
  const skuIds = [
    ...new Set(all.filter((l) => !l.productCode && l.platformSkuId).map((l) => l.platformSkuId!)),
  ];
  const byCode = new Map<string, string>();
  const bySku = new Map<string, { id: string; code: string }>();
  if (codes.length) {
    const rows = await tx.execute<{ id: string; product_code: string }[]>(
      `select id, product_code from product where product_code in (${codes.map(() => '?').join(', ')})`,
      codes,
    );
    for (const r of rows) byCode.set(r.product_code, r.id);
  }
  if (skuIds.length) {
    const rows = await tx.execute<{ platform_sku_id: string; id: string; product_code: string }[]>(
      `select s.platform_sku_id, p.id, p.product_code from channel_sku s join product p on p.id = s.product_id
       where s.channel_id = ? and s.platform_sku_id in (${skuIds.map(() => '?').join(', ')})`,
      [channel.id, ...skuIds],
    );
    for (const r of rows) bySku.set(r.platform_sku_id, { id: r.id, code: r.product_code });
  }
  return orders.map((order) =>
    order.lines.map((line, i) => {
      const mapped = line.productCode ? null : bySku.get(line.platformSkuId ?? '');
      return {
        lineNo: i + 1,
        productCode: line.productCode ?? mapped?.code ?? line.platformSkuId ?? `line-${i + 1}`,
        productId: line.productCode ? (byCode.get(line.productCode) ?? null) : (mapped?.id ?? null),
        platformSkuId: line.platformSkuId,
        platformLineId: line.platformLineId ?? null,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        lineTotal: line.lineTotal,
      };
    }),
  );
}

function initialStatus(order: CanonicalOrder): OrderStatus {
  return order.status ?? (order.paidAt ? OrderStatus.PAID : OrderStatus.PENDING_PAYMENT);
}

/**
 * The unique (channel, externalId) index is the guard: a concurrent duplicate waits
 * on it, then inserts nothing and is handled as a known order. Returns the orders
 * this statement created, by externalId.
 */
export async function insertOrders(
  tx: EntityManager,
  channel: Channel,
  items: { order: CanonicalOrder; raw?: string | null }[],
  origin: OrderOrigin,
  settings: DomainSettings,
): Promise<Map<string, { id: string; status: OrderStatus; remote: boolean }>> {
  const rows = await tx.execute<
    { id: string; external_id: string; status: OrderStatus; ship_remote: boolean }[]
  >(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, ship_postal_code, ship_country, ship_remote, total_amount, currency_code,
       placed_at, paid_at, raw, origin, contact_phone, wechat_open_id)
     values ${items.map(() => '(gen_random_uuid(), ?, ?, ?::order_status, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::order_origin, ?, ?)').join(', ')}
     on conflict (channel_id, external_id) do nothing returning id, external_id, status, ship_remote`,
    items.flatMap(({ order, raw }) => {
      const a = order.shippingAddress;
      return [
        channel.id,
        order.externalId,
        initialStatus(order),
        order.customerName,
        a.name,
        a.phone,
        a.province,
        a.city,
        a.district,
        a.line1,
        a.postalCode,
        a.country,
        isRemoteProvince(a.province, settings.remoteProvinces),
        order.total,
        order.currencyCode,
        order.placedAt,
        order.paidAt,
        raw ?? null,
        origin,
        order.contactPhone ?? null,
        order.wechatOpenId ?? null,
      ];
    }),
  );
  return new Map(rows.map((r) => [r.external_id, { id: r.id, status: r.status, remote: r.ship_remote }]));
}

export async function insertLines(tx: EntityManager, orders: { orderId: string; lines: ResolvedLine[] }[]) {
  const rows = orders.flatMap((o) => o.lines.map((line) => ({ orderId: o.orderId, line })));
  if (rows.length === 0) return;
  await tx.execute(
    `insert into order_line (id, order_id, line_no, product_code, product_id, platform_sku_id, platform_line_id, quantity,
       unit_price, line_total)
     values ${rows.map(() => '(gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    rows.flatMap(({ orderId, line: l }) => [
      orderId,
      l.lineNo,
      l.productCode,
      l.productId,
      l.platformSkuId,
      l.platformLineId,
      l.quantity,
      l.unitPrice,
      l.lineTotal,
    ]),
  );
}

export function stockLines(lines: ResolvedLine[]): StockLine[] {
  return lines
    .filter((l) => l.productId)
    .map((l) => ({ productId: l.productId!, productCode: l.productCode, quantity: l.quantity }));
}

/**
 * Sub-orders of split orders: each copies its parent's channel, customer, address, status,
 * times and origin, with its own externalId and total. Returns those the (channel,
 * externalId) key let in; a missing one was taken by another order.
 */
export async function insertSubOrders(
  tx: EntityManager,
  children: { parentId: string; externalId: string; total: string }[],
): Promise<{ id: string; external_id: string; parent_id: string }[]> {
  return tx.execute(
    `insert into "order" (id, channel_id, external_id, status, customer_name, ship_name, ship_phone, ship_province,
       ship_city, ship_district, ship_line1, ship_postal_code, ship_country, ship_remote, total_amount, currency_code,
       placed_at, paid_at, packed_at, shipped_at, delivered_at, parent_id, origin)
     select gen_random_uuid(), p.channel_id, v.external_id, p.status, p.customer_name, p.ship_name, p.ship_phone,
       p.ship_province, p.ship_city, p.ship_district, p.ship_line1, p.ship_postal_code, p.ship_country, p.ship_remote,
       v.total, p.currency_code, p.placed_at, p.paid_at, p.packed_at, p.shipped_at, p.delivered_at, p.id, p.origin
     from (values ${children.map(() => '(?::uuid, ?, ?::numeric)').join(', ')}) as v(parent_id, external_id, total)
     join "order" p on p.id = v.parent_id
     on conflict (channel_id, external_id) do nothing
     returning id, external_id, parent_id`,
    children.flatMap((c) => [c.parentId, c.externalId, c.total]),
  );
}

/** Copies lines (a split order's) to other orders (its sub-orders), numbered anew there. */
export async function copyLines(
  tx: EntityManager,
  copies: { orderId: string; lineId: string; lineNo: number }[],
): Promise<void> {
  if (copies.length === 0) return;
  await tx.execute(
    `insert into order_line (id, order_id, line_no, product_code, product_id, platform_sku_id, platform_line_id,
       quantity, unit_price, line_total)
     select gen_random_uuid(), v.order_id, v.line_no, l.product_code, l.product_id, l.platform_sku_id,
       l.platform_line_id, l.quantity, l.unit_price, l.line_total
     from (values ${copies.map(() => '(?::uuid, ?::uuid, ?::int)').join(', ')}) as v(order_id, line_id, line_no)
     join order_line l on l.id = v.line_id`,
    copies.flatMap((c) => [c.orderId, c.lineId, c.lineNo]),
  );
}
