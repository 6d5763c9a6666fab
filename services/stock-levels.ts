import type { EntityManager } from '@mikro-orm/postgresql';
import { InventoryItem } from '../entities/index.js';
import { StockAlertKind } from '../common/enums.js';
import { requirePrincipal } from './access.js';
import { DEFAULT_STOCK_LEVELS, type DomainSettings, type RequestContext } from './context.js';
import { BadUserInputError, InsufficientStockError, NotFoundError } from '../common/errors.js';
import { inTransaction } from './transactions.js';

/**
 * Safety stock and stock alerts, evaluated inside the transaction that changed the stock.
 *
 * Each inventory item carries its level: OK (open everywhere), LOW (`available` at or
 * below safety stock: closed on every non-core channel), OUT (closed, and nothing
 * available) or EMPTY (nothing available, no safety stock set: nothing to close, so
 * a sold-out product without safety stock answers INSUFFICIENT_STOCK, not
 * CHANNEL_CLOSED). A product closes as soon as `available <= safetyStock`, but
 * reopens only when `available > safetyStock + restockMargin`: between the two it
 * keeps the level it had, so a product hovering at its threshold does not flap.
 *
 *   open -> LOW/OUT       LOW_STOCK (names the channels closed)
 *   any  -> OUT/EMPTY     OUT_OF_STOCK, once per crossing (rising above 0 re-arms it)
 *   LOW/OUT -> OK         RESTOCKED (names the channels reopened)
 *
 * SUDDEN_DROP: `dropReference` is the highest `available` seen since the window began
 * (`dropReferenceAt`); a fall below `(100 - suddenDropPercent)%` of it inside the window
 * raises one alert, and no other until a window has passed since that alert. The first
 * change after a window has run out starts a new one at the current level.
 */

/** Whole-number inputs are bounded so a typo cannot add a billion units. */
export const MAX_ADJUSTMENT = 1_000_000;
const MAX_ON_HAND = 1_000_000_000;
const MAX_REASON = 500;

type Level = 'OK' | 'LOW' | 'OUT' | 'EMPTY';
const CLOSED = new Set<Level>(['LOW', 'OUT']);
const NONE_LEFT = new Set<Level>(['OUT', 'EMPTY']);

interface Crossing {
  product_id: string;
  product_code: string;
  available: number;
  safety_stock: number;
  old_level: Level;
  new_level: Level;
  sudden: boolean;
  drop_reference: number | null;
}

/**
 * Re-evaluates the given products after a stock change, in the caller's transaction.
 * One statement, which locks the items in product-id order (the caller's own update
 * normally holds those locks already) and writes only where the level or the
 * sudden-drop window changes; everything else (closing, reopening, alerts) happens
 * only for the products that actually crossed a threshold.
 */
export async function evaluateStockLevels(
  tx: EntityManager,
  productIds: Iterable<string>,
  settings: DomainSettings,
): Promise<void> {
  const ids = [...new Set(productIds)].sort();
  if (ids.length === 0) return;
  const levels = settings.stockLevels ?? DEFAULT_STOCK_LEVELS;
  const crossed = await tx.execute<Crossing[]>(
    `with cur as (
       select id, product_id, product_code, safety_stock, on_hand - reserved as available, stock_level,
              drop_reference, drop_reference_at, sudden_drop_at
       from inventory_item where product_id in (${ids.map(() => '?').join(', ')}) order by product_id for update
     ), next as (
       select c.*,
         case when c.available <= 0 and (c.safety_stock > 0 or c.stock_level in ('LOW', 'OUT')) then 'OUT'
              when c.available <= 0 then 'EMPTY'
              when c.available <= c.safety_stock then 'LOW'
              when c.available > c.safety_stock + ?::int then 'OK'
              when c.stock_level in ('OK', 'EMPTY') then 'OK'
              else 'LOW' end as level,
         (c.drop_reference_at is null or c.drop_reference_at <= now() - make_interval(secs => ?::int)) as new_window
       from cur c
     ), decided as (
       select n.*,
         case when n.new_window then n.available else greatest(n.drop_reference, n.available) end as reference,
         case when n.new_window then now() else n.drop_reference_at end as reference_at,
         (not n.new_window and n.available < n.drop_reference * (1 - ?::float8 / 100)
          and (n.sudden_drop_at is null or n.sudden_drop_at <= now() - make_interval(secs => ?::int))) as sudden
       from next n
     ), changed as (
       update inventory_item i set stock_level = d.level, drop_reference = d.reference,
         drop_reference_at = d.reference_at,
         sudden_drop_at = case when d.sudden then now() else i.sudden_drop_at end
       from decided d
       where i.id = d.id
         and (d.level <> d.stock_level or d.new_window or d.reference <> d.drop_reference or d.sudden)
       returning i.id
     )
     select product_id, product_code, available, safety_stock, stock_level as old_level, level as new_level,
            sudden, drop_reference
     from decided where level <> stock_level or sudden order by product_id`,
    [
      ...ids,
      levels.restockMargin,
      levels.suddenDropWindowSeconds,
      levels.suddenDropPercent,
      levels.suddenDropWindowSeconds,
    ],
  );
  for (const c of crossed) await actOn(tx, c, levels.suddenDropPercent, levels.suddenDropWindowSeconds);
}

async function actOn(tx: EntityManager, c: Crossing, dropPercent: number, windowSeconds: number) {
  const base = { productId: c.product_id, productCode: c.product_code, available: c.available };
  if (CLOSED.has(c.new_level) && !CLOSED.has(c.old_level)) {
    const [closed] = await tx.execute<{ closed_on_channels: string[] }[]>(
      `update product set closed_on_channels =
         (select coalesce(array_agg(code order by code), '{}') from channel where not is_core)
       where id = ? returning closed_on_channels`,
      [c.product_id],
    );
    const channels = closed?.closed_on_channels ?? [];
    await insertAlert(tx, {
      ...base,
      kind: StockAlertKind.LOW_STOCK,
      threshold: c.safety_stock,
      channelsClosed: channels,
      message: `"${c.product_code}" is down to ${c.available} available, at or below its safety stock of ${c.safety_stock}; closed on ${channels.length ? channels.join(', ') : 'no channel (every channel is core)'}.`,
    });
  }
  if (NONE_LEFT.has(c.new_level) && !NONE_LEFT.has(c.old_level)) {
    await insertAlert(tx, {
      ...base,
      kind: StockAlertKind.OUT_OF_STOCK,
      threshold: c.safety_stock,
      message: `"${c.product_code}" has no units available.`,
    });
  }
  if (!CLOSED.has(c.new_level) && CLOSED.has(c.old_level)) {
    const [reopened] = await tx.execute<{ closed_on_channels: string[] }[]>(
      `with before as (select id, closed_on_channels from product where id = ? for update)
       update product p set closed_on_channels = '{}' from before where p.id = before.id
       returning before.closed_on_channels`,
      [c.product_id],
    );
    const channels = reopened?.closed_on_channels ?? [];
    await insertAlert(tx, {
      ...base,
      kind: StockAlertKind.RESTOCKED,
      threshold: c.safety_stock,
      channelsReopened: channels,
      message: `"${c.product_code}" is back to ${c.available} available, above its safety stock of ${c.safety_stock}; reopened on ${channels.length ? channels.join(', ') : 'no channel'}.`,
    });
  }
  if (c.sudden) {
    await insertAlert(tx, {
      ...base,
      kind: StockAlertKind.SUDDEN_DROP,
      threshold: c.drop_reference,
      message: `"${c.product_code}" fell from ${c.drop_reference} to ${c.available} available within ${windowSeconds} seconds (more than ${dropPercent}%).`,
    });
  }
}

async function insertAlert(
  tx: EntityManager,
  alert: {
    kind: StockAlertKind;
    productId: string;
    productCode: string;
    available: number;
    threshold: number | null;
    message: string;
    channelsClosed?: string[];
    channelsReopened?: string[];
  },
) {
  const closed = alert.channelsClosed ?? [];
  const reopened = alert.channelsReopened ?? [];
  await tx.execute(
    `insert into stock_alert (kind, product_id, product_code, available, threshold, message, channels_closed, channels_reopened)
     values (?, ?, ?, ?, ?, ?, ${textArray(closed)}, ${textArray(reopened)})`,
    [
      alert.kind,
      alert.productId,
      alert.productCode,
      alert.available,
      alert.threshold,
      alert.message,
      ...closed,
      ...reopened,
    ],
  );
}

/** Placeholders for a text[] value (the driver would spread a bound array into a list). */
function textArray(values: string[]): string {
  return values.length ? `array[${values.map(() => '?').join(', ')}]::text[]` : `'{}'::text[]`;
}

/** Who a stock change is booked to: the API key behind the request, or "system". */
export function actorOf(ctx: RequestContext): string {
  return ctx.principal?.keyId ?? 'system';
}

/**
 * Receipts, damage and corrections: `delta` units on hand, with a reason, in one
 * conditional statement that cannot take `onHand` below `reserved` (held units stay
 * held), and a stock movement naming who and why.
 */
export async function adjustStock(
  ctx: RequestContext,
  productCode: string,
  delta: number,
  reason: string,
): Promise<InventoryItem> {
  requirePrincipal(ctx);
  const why = reason.trim();
  if (!why) throw new BadUserInputError('reason must say why the stock changes.', 'reason');
  if (why.length > MAX_REASON)
    throw new BadUserInputError(`reason must be at most ${MAX_REASON} characters.`, 'reason');
  if (!Number.isInteger(delta) || delta === 0 || Math.abs(delta) > MAX_ADJUSTMENT) {
    throw new BadUserInputError(
      `delta must be a whole number from -${MAX_ADJUSTMENT} to ${MAX_ADJUSTMENT}, not 0.`,
      'delta',
    );
  }
  return inTransaction(ctx, async (tx) => {
    const rows = await tx.execute<Record<string, unknown>[]>(
      `update inventory_item set on_hand = on_hand + ?, updated_at = now()
       where product_code = ? and on_hand + ? >= reserved and on_hand + ? <= ? returning *`,
      [delta, productCode, delta, delta, MAX_ON_HAND],
    );
    if (rows.length === 0) {
      const [item] = await tx.execute<{ available: number }[]>(
        `select on_hand - reserved as available from inventory_item where product_code = ?`,
        [productCode],
      );
      if (!item) throw new NotFoundError('Product', productCode);
      if (delta < 0) throw new InsufficientStockError(productCode, -delta, item.available);
      throw new BadUserInputError(`"${productCode}" cannot hold more than ${MAX_ON_HAND} units.`, 'delta');
    }
    const row = rows[0] as { product_id: string; on_hand: number };
    await tx.execute(
      `insert into stock_movement (product_id, delta, on_hand_after, reason, actor) values (?, ?, ?, ?, ?)`,
      [row.product_id, delta, row.on_hand, why, actorOf(ctx)],
    );
    await evaluateStockLevels(tx, [row.product_id], ctx.hub.settings);
    return tx.map(InventoryItem, rows[0]);
  });
}

/** Sets the level at or below which the product closes on non-core channels; takes effect at once. */
export async function setSafetyStock(
  ctx: RequestContext,
  productCode: string,
  safetyStock: number,
): Promise<InventoryItem> {
  requirePrincipal(ctx);
  if (!Number.isInteger(safetyStock) || safetyStock < 0 || safetyStock > MAX_ON_HAND) {
    throw new BadUserInputError(
      `safetyStock must be a whole number from 0 to ${MAX_ON_HAND}.`,
      'safetyStock',
    );
  }
  return inTransaction(ctx, async (tx) => {
    const rows = await tx.execute<Record<string, unknown>[]>(
      `update inventory_item set safety_stock = ?, updated_at = now() where product_code = ? returning *`,
      [safetyStock, productCode],
    );
    if (rows.length === 0) throw new NotFoundError('Product', productCode);
    await evaluateStockLevels(tx, [(rows[0] as { product_id: string }).product_id], ctx.hub.settings);
    return tx.map(InventoryItem, rows[0]);
  });
}
