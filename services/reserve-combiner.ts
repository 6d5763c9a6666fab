import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainSettings } from './context.js';
import { HoldLimitExceededError, InsufficientStockError, NotFoundError } from '../common/errors.js';
import { evaluateStockLevels } from './stock-levels.js';
import type { HubMetrics } from './metrics.js';

const DEFAULT_COMBINER_OPTIONS = { maxBatch: 1000, maxConcurrent: 12 };

/** A reservation row as PostgreSQL returns it (snake_case columns). */
export type ReservationRow = Record<string, unknown>;

export interface HoldRequest {
  productCode: string;
  quantity: number;
  ttlSeconds: number;
  channelCode: string | null;
  /** The key that asks, recorded on the hold; null for callers without a key row. */
  apiKeyId: string | null;
  /** Holds this key may have open at once, counting this one; null: no cap. */
  maxOpen: number | null;
}

interface Waiter extends HoldRequest {
  id: string;
  resolve(row: ReservationRow): void;
  reject(error: unknown): void;
}

/**
 * Combines concurrent holds so that a hot product costs one commit per batch, not
 * one per hold. Holds for a product that arrive while a write for that product is
 * in flight wait; the next write takes all of them (and those waiting for other
 * products) in ONE transaction:
 *
 * - the inventory rows are locked in product-id order (no deadlock with other
 *   batches, other processes or multi-line orders);
 * - one conditional UPDATE adds every product's total where it all fits;
 * - a product that cannot give everyone what they asked is shared out in arrival
 *   order under the lock: each hold is granted whole or refused (no partial
 *   holds), and exactly the granted units are added, guarded by the same condition;
 * - the granted holds are inserted in one multi-row INSERT, then the transaction
 *   commits and each waiter gets its reservation or INSUFFICIENT_STOCK;
 * - products that reached their safety stock are re-evaluated in the same
 *   transaction (channels close, alerts are stored);
 * - before any of that, a capped key's open holds are counted under a transaction
 *   advisory lock on the key (keys in order, before any stock row), so two batches,
 *   in this process or another, never both take a key's last slot.
 *
 * Correct across processes because the statements themselves are the guard (and
 * the table's check constraint `on_hand >= reserved` behind them): the combiner only
 * saves commits, it is never the source of truth. Each hub has one (`ctx.hub.reserveCombiner`).
 */
export class ReserveCombiner {
  private readonly waiting = new Map<string, Waiter[]>();
  /** Products with a write in flight in this process. */
  private readonly busy = new Set<string>();
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly em: EntityManager,
    private readonly settings: DomainSettings,
    private readonly options: { maxBatch: number; maxConcurrent: number } = DEFAULT_COMBINER_OPTIONS,
    /** Where the holds granted and refused are counted (the hub's); none: not counted. */
    private readonly metrics: HubMetrics | null = null,
  ) {}

  submit(request: HoldRequest): Promise<ReservationRow> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(request.productCode) ?? [];
      queue.push({ ...request, id: randomUUID(), resolve, reject });
      this.waiting.set(request.productCode, queue);
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    // Holds that arrive in the same turn of the event loop go together.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain() {
    while (this.running < this.options.maxConcurrent) {
      const batch: Waiter[] = [];
      for (const [code, queue] of this.waiting) {
        if (this.busy.has(code)) continue;
        const room = this.options.maxBatch - batch.length;
        if (room <= 0) break;
        batch.push(...queue.splice(0, room));
        this.busy.add(code);
        if (queue.length === 0) this.waiting.delete(code);
      }
      if (batch.length === 0) return;
      this.running++;
      void this.write(batch).finally(() => {
        this.running--;
        for (const w of batch) this.busy.delete(w.productCode);
        if (this.waiting.size > 0) this.schedule();
      });
    }
  }

  private async write(batch: Waiter[]) {
    try {
      const outcome = await this.em.fork().transactional((tx) => holdTogether(tx, batch, this.settings));
      let taken = 0;
      let refused = 0;
      for (const w of batch) {
        const result = outcome.get(w.id)!;
        if (result instanceof InsufficientStockError) refused++;
        else if (!(result instanceof Error)) taken++;
        if (result instanceof Error) w.reject(result);
        else w.resolve(result);
      }
      // Counted once committed; a hold over a key's cap or for an unknown product was never a question of stock.
      this.metrics?.held('reservation', 'taken', taken);
      this.metrics?.held('reservation', 'refused', refused);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

/** Holds a batch in the caller's transaction; answers each waiter's id with its row or its error. */
async function holdTogether(
  tx: EntityManager,
  batch: Waiter[],
  settings: DomainSettings,
): Promise<Map<string, ReservationRow | Error>> {
  const outcome = new Map<string, ReservationRow | Error>();
  batch = await withinOpenCaps(tx, batch, outcome);
  if (batch.length === 0) return outcome;
  const wanted = new Map<string, number>();
  for (const w of batch) wanted.set(w.productCode, (wanted.get(w.productCode) ?? 0) + w.quantity);
  const codes = [...wanted.keys()];
  const values = codes.map(() => '(?::text, ?::int)').join(', ');
  const params = codes.flatMap((c) => [c, wanted.get(c)!]);

  // Lock in product-id order, then take every product's total where all of it fits.
  const together = await tx.execute<{ product_id: string; product_code: string }[]>(
    `with w(code, q) as (values ${values}),
     locked as materialized (select i.id, p.product_code from w
                             join product p on p.product_code = w.code
                             join inventory_item i on i.product_id = p.id
                             order by i.product_id for update of i)
     update inventory_item i set reserved = i.reserved + w.q, updated_at = now()
     from locked l join w on w.code = l.product_code
     where i.id = l.id and i.on_hand - i.reserved >= w.q
     returning i.product_id, l.product_code`,
    params,
  );
  const productIds = new Map(together.map((r) => [r.product_code, r.product_id]));
  const granted: Waiter[] = batch.filter((w) => productIds.has(w.productCode));

  const short = codes.filter((c) => !productIds.has(c));
  if (short.length > 0) {
    // Still locked by this transaction: what is available cannot change under us.
    const rows = await tx.execute<{ product_id: string; product_code: string; available: number }[]>(
      `select i.product_id, p.product_code, i.on_hand - i.reserved as available
       from product p join inventory_item i on i.product_id = p.id
       where p.product_code in (${short.map(() => '?').join(', ')})`,
      short,
    );
    const shares: { productId: string; quantity: number }[] = [];
    for (const code of short) {
      const row = rows.find((r) => r.product_code === code);
      const waiters = batch.filter((w) => w.productCode === code);
      if (!row) {
        for (const w of waiters) outcome.set(w.id, new NotFoundError('Product', code));
        continue;
      }
      let left = row.available;
      let share = 0;
      for (const w of waiters) {
        if (w.quantity <= left) {
          left -= w.quantity;
          share += w.quantity;
          granted.push(w);
        } else outcome.set(w.id, new InsufficientStockError(code, w.quantity, left));
      }
      productIds.set(code, row.product_id);
      if (share > 0) shares.push({ productId: row.product_id, quantity: share });
    }
    for (const s of shares) {
      const taken = await tx.execute<{ id: string }[]>(
        `update inventory_item set reserved = reserved + ?, updated_at = now()
         where product_id = ? and on_hand - reserved >= ? returning id`,
        [s.quantity, s.productId, s.quantity],
      );
      // Cannot happen while the row is locked; refuse rather than oversell if it ever did.
      if (taken.length === 0) throw new Error(`stock of product ${s.productId} changed under its lock`);
    }
  }

  if (granted.length > 0) {
    const rows = await tx.execute<ReservationRow[]>(
      `insert into reservation (id, product_id, product_code, quantity, status, expires_at, channel_code, api_key_id)
       values ${granted.map(() => "(?, ?, ?, ?, 'HELD', now() + make_interval(secs => ?), ?, ?)").join(', ')}
       returning *`,
      granted.flatMap((w) => [
        w.id,
        productIds.get(w.productCode)!,
        w.productCode,
        w.quantity,
        w.ttlSeconds,
        w.channelCode,
        w.apiKeyId,
      ]),
    );
    for (const row of rows) outcome.set(row.id as string, row);
    // Safety stock: a product whose hold took it to its threshold closes on non-core channels.
    await evaluateStockLevels(
      tx,
      granted.map((w) => productIds.get(w.productCode)!),
      settings,
    );
  }
  return outcome;
}

/**
 * Refuses, with HOLD_LIMIT_EXCEEDED, the holds of capped keys that would go over their open-holds
 * cap, in arrival order; answers the rest. The key locks are held until the batch commits. A hold
 * counted here that is then short of stock leaves its slot unused in this batch: refusing one too
 * many is safe, granting one too many is not.
 */
async function withinOpenCaps(
  tx: EntityManager,
  batch: Waiter[],
  outcome: Map<string, ReservationRow | Error>,
): Promise<Waiter[]> {
  const keys = [...new Set(batch.filter((w) => w.maxOpen !== null && w.apiKeyId).map((w) => w.apiKeyId!))];
  if (keys.length === 0) return batch;
  keys.sort();
  for (const key of keys) {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('order-hub:holds'), hashtext(?))`, [key]);
  }
  const rows = await tx.execute<{ key: string; open: string }[]>(
    `select api_key_id as key, count(*) as open from reservation
     where status = 'HELD' and api_key_id in (${keys.map(() => '?').join(', ')}) group by api_key_id`,
    keys,
  );
  const open = new Map(rows.map((r) => [r.key, Number(r.open)]));
  return batch.filter((w) => {
    if (w.maxOpen === null || !w.apiKeyId) return true;
    const held = open.get(w.apiKeyId) ?? 0;
    if (held < w.maxOpen) {
      open.set(w.apiKeyId, held + 1);
      return true;
    }
    outcome.set(
      w.id,
      new HoldLimitExceededError(
        'openHolds',
        w.maxOpen,
        `This key has ${held} holds open, its most; release one or let one expire first.`,
      ),
    );
    return false;
  });
}
