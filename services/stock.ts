import type { EntityManager } from '@mikro-orm/postgresql';
import { StockAlertKind } from '../common/enums.js';

/**
 * Stock effects of orders, inside the caller's transaction. Every change is one
 * conditional statement (never read-then-write), and rows are always locked in
 * product-id order, so concurrent orders over the same products cannot deadlock.
 */

export interface StockLine {
  productId: string;
  productCode: string;
  quantity: number;
}

export interface Shortfall extends StockLine {
  available: number;
}

/** One entry per product, in lock order. */
function byProduct(lines: StockLine[]): StockLine[] {
  const merged = new Map<string, StockLine>();
  for (const line of lines) {
    const seen = merged.get(line.productId);
    merged.set(line.productId, seen ? { ...seen, quantity: seen.quantity + line.quantity } : { ...line });
  }
  return [...merged.values()].sort((a, b) => (a.productId < b.productId ? -1 : 1));
}

/**
 * The order is sold: its holds become committed stock (on hand and reserved both
 * drop), and lines without a hold (never held, or expired) take their units now.
 * What cannot be taken comes back as shortfalls; nothing goes below zero.
 */
export async function commitLines(
  tx: EntityManager,
  order: { id: string; channelCode: string },
  lines: StockLine[],
  actor: string,
): Promise<Shortfall[]> {
  const committed = await tx.execute<{ product_id: string; quantity: number }[]>(
    `with c as (update reservation set status = 'COMMITTED', updated_at = now()
                where order_id = ? and status = 'HELD' returning product_id, quantity)
     select product_id, sum(quantity)::int as quantity from c group by product_id order by product_id`,
    [order.id],
  );
  const fromHolds = new Map(committed.map((c) => [c.product_id, c.quantity]));
  const shortfalls: Shortfall[] = [];
  for (const line of byProduct(lines)) {
    const held = Math.min(fromHolds.get(line.productId) ?? 0, line.quantity);
    const direct = line.quantity - held;
    const taken = await tx.execute<{ on_hand: number }[]>(
      `update inventory_item set on_hand = on_hand - ?, reserved = reserved - ?, updated_at = now()
       where product_id = ? and on_hand - reserved >= ? returning on_hand`,
      [line.quantity, held, line.productId, direct],
    );
    if (taken.length === 0) {
      // Not enough for the unheld part: take what was held, report the rest.
      if (held > 0) {
        const partial = await tx.execute<{ on_hand: number }[]>(
          `update inventory_item set on_hand = on_hand - ?, reserved = reserved - ?, updated_at = now()
           where product_id = ? returning on_hand`,
          [held, held, line.productId],
        );
        await movement(tx, line.productId, -held, partial[0].on_hand, 'sale', actor, order.id);
      }
      shortfalls.push({ ...line, quantity: direct, available: await availableOf(tx, line.productId) });
      continue;
    }
    await movement(tx, line.productId, -line.quantity, taken[0].on_hand, 'sale', actor, order.id);
    if (direct > 0) {
      await tx.execute(
        `insert into reservation (id, product_id, product_code, order_id, quantity, status, expires_at, channel_code)
         values (gen_random_uuid(), ?, ?, ?, ?, 'COMMITTED', now(), ?)`,
        [line.productId, line.productCode, order.id, direct, order.channelCode],
      );
    }
  }
  return shortfalls;
}

/** Gives back an unpaid order's holds; returns the products it touched. */
export async function releaseHolds(tx: EntityManager, orderId: string): Promise<string[]> {
  const released = await tx.execute<{ product_id: string; quantity: number }[]>(
    `with r as (update reservation set status = 'RELEASED', updated_at = now()
                where order_id = ? and status = 'HELD' returning product_id, quantity)
     select product_id, sum(quantity)::int as quantity from r group by product_id order by product_id`,
    [orderId],
  );
  for (const r of released) {
    await tx.execute(
      `update inventory_item set reserved = reserved - ?, updated_at = now() where product_id = ?`,
      [r.quantity, r.product_id],
    );
  }
  return released.map((r) => r.product_id);
}

/**
 * A sold order that was cancelled: its units go back on the shelf, except those of its
 * sub-orders that had already shipped (a platform may close a sale after one parcel
 * left), which stay sold and committed. Returns the products put back.
 */
export async function restockCommitted(tx: EntityManager, orderId: string, actor: string): Promise<string[]> {
  const released = await tx.execute<
    {
      product_id: string;
      product_code: string;
      channel_code: string | null;
      quantity: number;
      kept: number;
    }[]
  >(
    `with r as (update reservation set status = 'RELEASED', updated_at = now()
                where order_id = ? and status = 'COMMITTED'
                returning product_id, product_code, channel_code, quantity),
          shipped as (select l.product_id, sum(l.quantity)::int as quantity
                      from order_line l join "order" c on c.id = l.order_id
                      where c.parent_id = ? and c.status in ('SHIPPED', 'DELIVERED') and l.product_id is not null
                      group by l.product_id)
     select r.product_id, min(r.product_code) as product_code, min(r.channel_code) as channel_code,
            sum(r.quantity)::int as quantity, least(sum(r.quantity), coalesce(max(s.quantity), 0))::int as kept
     from r left join shipped s on s.product_id = r.product_id
     group by r.product_id order by r.product_id`,
    [orderId, orderId],
  );
  const restocked: string[] = [];
  for (const r of released) {
    if (r.kept > 0)
      await tx.execute(
        `insert into reservation (id, product_id, product_code, order_id, quantity, status, expires_at, channel_code)
         values (gen_random_uuid(), ?, ?, ?, ?, 'COMMITTED', now(), ?)`,
        [r.product_id, r.product_code, orderId, r.kept, r.channel_code],
      );
    const back = r.quantity - r.kept;
    if (back === 0) continue;
    const rows = await tx.execute<{ on_hand: number }[]>(
      `update inventory_item set on_hand = on_hand + ?, updated_at = now() where product_id = ? returning on_hand`,
      [back, r.product_id],
    );
    await movement(
      tx,
      r.product_id,
      back,
      rows[0].on_hand,
      'order cancelled before shipping',
      actor,
      orderId,
    );
    restocked.push(r.product_id);
  }
  return restocked;
}

/**
 * Units a customer sent back: on hand again (a movement each), or, for a product whose returns are inspected,
 * into quarantine (not on hand, not available; `acceptQuarantined` releases them). Returns the products touched.
 */
export async function receiveReturnedUnits(
  tx: EntityManager,
  units: { productId: string; quantity: number; quarantine: boolean }[],
  actor: string,
  orderId: string,
): Promise<string[]> {
  const touched: string[] = [];
  for (const u of [...units].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
    if (u.quantity <= 0) continue;
    if (u.quarantine) {
      await tx.execute(
        `update inventory_item set quarantined = quarantined + ?, updated_at = now() where product_id = ?`,
        [u.quantity, u.productId],
      );
    } else {
      const rows = await tx.execute<{ on_hand: number }[]>(
        `update inventory_item set on_hand = on_hand + ?, updated_at = now() where product_id = ? returning on_hand`,
        [u.quantity, u.productId],
      );
      if (rows.length === 0) continue;
      await movement(tx, u.productId, u.quantity, rows[0].on_hand, 'returned by customer', actor, orderId);
    }
    touched.push(u.productId);
  }
  return touched;
}

/** Inspected returned units go on hand; false (nothing changed) when fewer are in quarantine. */
export async function acceptQuarantined(
  tx: EntityManager,
  productId: string,
  quantity: number,
  actor: string,
  orderId: string | null,
): Promise<boolean> {
  const rows = await tx.execute<{ on_hand: number }[]>(
    `update inventory_item set quarantined = quarantined - ?, on_hand = on_hand + ?, updated_at = now()
     where product_id = ? and quarantined >= ? returning on_hand`,
    [quantity, quantity, productId, quantity],
  );
  if (rows.length === 0) return false;
  await movement(
    tx,
    productId,
    quantity,
    rows[0].on_hand,
    'returned stock accepted after inspection',
    actor,
    orderId,
  );
  return true;
}

/**
 * Refunded units of an order that has not shipped, as a cancellation gives them back but line by line: a
 * committed unit goes back on hand (a movement), a held one is released, and, as restockCommitted keeps them, the
 * units of a split order's shipped parcels stay sold (they come back only as a received return). With
 * `onHand: false` committed units only leave the order's reservation (the caller puts them back itself: returned
 * goods). Returns the units given back per product (at most what the order still reserves for it, less its
 * shipped parcels' units when on hand).
 */
export async function giveBackUnshipped(
  tx: EntityManager,
  orderId: string,
  lines: { productId: string; quantity: number }[],
  actor: string,
  options: { onHand: boolean } = { onHand: true },
): Promise<Map<string, number>> {
  const given = new Map<string, number>();
  const shipped = options.onHand ? await shippedParcelUnits(tx, orderId) : new Map<string, number>();
  for (const line of [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
    const reservations = await tx.execute<{ id: string; status: string; quantity: number }[]>(
      `select id, status, quantity from reservation
       where order_id = ? and product_id = ? and status in ('COMMITTED', 'HELD')
       order by status, id for update`,
      [orderId, line.productId],
    );
    const reserved = reservations.reduce((sum, r) => sum + r.quantity, 0);
    const asked = Math.min(line.quantity, Math.max(0, reserved - (shipped.get(line.productId) ?? 0)));
    let left = asked;
    for (const r of reservations) {
      if (left === 0) break;
      const q = Math.min(left, r.quantity);
      left -= q;
      await tx.execute(
        q === r.quantity
          ? `update reservation set status = 'RELEASED', updated_at = now() where id = ?`
          : `update reservation set quantity = quantity - ?, updated_at = now() where id = ?`,
        q === r.quantity ? [r.id] : [q, r.id],
      );
      if (r.status === 'HELD') {
        await tx.execute(
          `update inventory_item set reserved = reserved - ?, updated_at = now() where product_id = ?`,
          [q, line.productId],
        );
      } else if (options.onHand) {
        const rows = await tx.execute<{ on_hand: number }[]>(
          `update inventory_item set on_hand = on_hand + ?, updated_at = now() where product_id = ? returning on_hand`,
          [q, line.productId],
        );
        await movement(tx, line.productId, q, rows[0].on_hand, 'refunded before shipping', actor, orderId);
      }
    }
    const back = asked - left;
    if (back > 0) given.set(line.productId, (given.get(line.productId) ?? 0) + back);
  }
  return given;
}

/** Units per product of a split order's sub-orders that have shipped (none for an order that is not split). */
async function shippedParcelUnits(tx: EntityManager, orderId: string): Promise<Map<string, number>> {
  const rows = await tx.execute<{ product_id: string; quantity: number }[]>(
    `select l.product_id, sum(l.quantity)::int as quantity
     from order_line l join "order" c on c.id = l.order_id
     where c.parent_id = ? and c.status in ('SHIPPED', 'DELIVERED') and l.product_id is not null
     group by l.product_id`,
    [orderId],
  );
  return new Map(rows.map((r) => [r.product_id, r.quantity]));
}

async function movement(
  tx: EntityManager,
  productId: string,
  delta: number,
  onHandAfter: number,
  reason: string,
  actor: string,
  orderId: string | null,
) {
  await tx.execute(
    `insert into stock_movement (product_id, delta, on_hand_after, reason, actor, order_id) values (?, ?, ?, ?, ?, ?)`,
    [productId, delta, onHandAfter, reason, actor, orderId],
  );
}

async function availableOf(tx: EntityManager, productId: string): Promise<number> {
  const rows = await tx.execute<{ available: number }[]>(
    `select on_hand - reserved as available from inventory_item where product_id = ?`,
    [productId],
  );
  return rows[0]?.available ?? 0;
}

/** Stores an alert; alerts are kept so none is lost while no one is subscribed. */
export async function raiseAlert(
  tx: EntityManager,
  alert: {
    kind: StockAlertKind;
    productId: string | null;
    productCode: string;
    available: number;
    message: string;
    orderId?: string | null;
  },
): Promise<void> {
  await tx.execute(
    `insert into stock_alert (kind, product_id, product_code, available, message, order_id) values (?, ?, ?, ?, ?, ?)`,
    [alert.kind, alert.productId, alert.productCode, alert.available, alert.message, alert.orderId ?? null],
  );
}

export interface OrderStockLine extends StockLine {
  orderId: string;
}

/** Per product, in lock order, the units the lines want together. */
function totals(lines: OrderStockLine[]): { productId: string; quantity: number }[] {
  const sum = new Map<string, number>();
  for (const l of lines) sum.set(l.productId, (sum.get(l.productId) ?? 0) + l.quantity);
  return [...sum.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Applies one conditional change per product for many orders' lines in one statement;
 * returns the products whose change went through, with their on-hand after it.
 */
async function applyTogether(
  tx: EntityManager,
  lines: OrderStockLine[],
  set: string,
): Promise<Map<string, number>> {
  const wanted = totals(lines);
  if (wanted.length === 0) return new Map();
  // A multi-row UPDATE locks in whatever order its plan reads; lock in product-id order first.
  await tx.execute(
    `select 1 from inventory_item where product_id in (${wanted.map(() => '?').join(', ')}) order by product_id for update`,
    wanted.map((w) => w.productId),
  );
  const rows = await tx.execute<{ product_id: string; on_hand: number }[]>(
    `update inventory_item i set ${set}, updated_at = now()
     from (values ${wanted.map(() => '(?::uuid, ?::int)').join(', ')}) as w(product_id, q)
     where i.product_id = w.product_id and i.on_hand - i.reserved >= w.q
     returning i.product_id, i.on_hand`,
    wanted.flatMap((w) => [w.productId, w.quantity]),
  );
  return new Map(rows.map((r) => [r.product_id, r.on_hand]));
}

/**
 * Holds stock for many new unpaid orders at once: one statement for every product
 * that has enough for all of them; a product that has not is shared out line by
 * line in arrival order, and what cannot be held comes back as shortfalls.
 */
export async function holdMany(
  tx: EntityManager,
  channelCode: string,
  lines: OrderStockLine[],
  ttlSeconds: number,
): Promise<(Shortfall & { orderId: string })[]> {
  const together = await applyTogether(tx, lines, 'reserved = i.reserved + w.q');
  const held = lines.filter((l) => together.has(l.productId));
  const shortfalls: (Shortfall & { orderId: string })[] = [];
  for (const line of lines.filter((l) => !together.has(l.productId))) {
    const one = await tx.execute<{ id: string }[]>(
      `update inventory_item set reserved = reserved + ?, updated_at = now()
       where product_id = ? and on_hand - reserved >= ? returning id`,
      [line.quantity, line.productId, line.quantity],
    );
    if (one.length) held.push(line);
    else shortfalls.push({ ...line, available: await availableOf(tx, line.productId) });
  }
  if (held.length) {
    await tx.execute(
      `insert into reservation (id, product_id, product_code, order_id, quantity, status, expires_at, channel_code)
       values ${held.map(() => "(gen_random_uuid(), ?, ?, ?, ?, 'HELD', now() + make_interval(secs => ?), ?)").join(', ')}`,
      held.flatMap((l) => [l.productId, l.productCode, l.orderId, l.quantity, ttlSeconds, channelCode]),
    );
  }
  return shortfalls;
}

/**
 * Takes stock for many new orders that are already paid (a marketplace sale): as
 * holdMany, but on-hand drops, each line gets a movement and a committed
 * reservation, and what cannot be taken comes back as shortfalls.
 */
export async function takeMany(
  tx: EntityManager,
  channelCode: string,
  lines: OrderStockLine[],
  actor: string,
): Promise<(Shortfall & { orderId: string })[]> {
  const together = await applyTogether(tx, lines, 'on_hand = i.on_hand - w.q');
  const taken: { line: OrderStockLine; onHandAfter: number }[] = [];
  // Movements tell each line's on-hand after it, counting back from the product's final figure.
  const remaining = new Map(
    totals(lines.filter((l) => together.has(l.productId))).map((t) => [t.productId, t.quantity]),
  );
  for (const line of lines.filter((l) => together.has(l.productId))) {
    const left = remaining.get(line.productId)! - line.quantity;
    remaining.set(line.productId, left);
    taken.push({ line, onHandAfter: together.get(line.productId)! + left });
  }
  const shortfalls: (Shortfall & { orderId: string })[] = [];
  for (const line of lines.filter((l) => !together.has(l.productId))) {
    const one = await tx.execute<{ on_hand: number }[]>(
      `update inventory_item set on_hand = on_hand - ?, updated_at = now()
       where product_id = ? and on_hand - reserved >= ? returning on_hand`,
      [line.quantity, line.productId, line.quantity],
    );
    if (one.length) taken.push({ line, onHandAfter: one[0].on_hand });
    else shortfalls.push({ ...line, available: await availableOf(tx, line.productId) });
  }
  if (taken.length) {
    await tx.execute(
      `insert into stock_movement (product_id, delta, on_hand_after, reason, actor, order_id)
       values ${taken.map(() => "(?, ?, ?, 'sale', ?, ?)").join(', ')}`,
      taken.flatMap(({ line, onHandAfter }) => [
        line.productId,
        -line.quantity,
        onHandAfter,
        actor,
        line.orderId,
      ]),
    );
    await tx.execute(
      `insert into reservation (id, product_id, product_code, order_id, quantity, status, expires_at, channel_code)
       values ${taken.map(() => "(gen_random_uuid(), ?, ?, ?, ?, 'COMMITTED', now(), ?)").join(', ')}`,
      taken.flatMap(({ line }) => [
        line.productId,
        line.productCode,
        line.orderId,
        line.quantity,
        channelCode,
      ]),
    );
  }
  return shortfalls;
}
