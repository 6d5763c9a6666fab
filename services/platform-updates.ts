import type { EntityManager } from '@mikro-orm/postgresql';
import type { CanonicalOrder } from '../connectors/canonical.js';
import { IngestOutcome, OrderEventType, OrderStatus, StockAlertKind } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import {
  canTransition,
  carryToChildren,
  recordOrderEvents,
  STOCK_TAKEN,
  transitionOrders,
  type LockedOrder,
} from './order-transitions.js';
import { stockLines, type ResolvedLine } from './order-rows.js';
import { commitLines, raiseAlert, releaseHolds, restockCommitted, type Shortfall } from './stock.js';

/**
 * What a platform says about an order the hub already has: a status it does not map
 * is noted on the timeline; a newer status moves the order (and a split sale's
 * sub-orders) through order-transitions.ts, with its stock effect; an older or equal one
 * changes nothing (DUPLICATE), so payloads arriving out of order cannot undo news.
 */

export async function applyPlatformUpdate(
  tx: EntityManager,
  channel: Channel,
  order: CanonicalOrder,
  lines: ResolvedLine[],
  historical: boolean,
): Promise<{ orderId: string; outcome: IngestOutcome.UPDATED | IngestOutcome.DUPLICATE }> {
  const [current] = await tx.execute<LockedOrder[]>(
    `select o.id, o.status, o.parent_id, ? as channel_code from "order" o
     where o.channel_id = ? and o.external_id = ? for update`,
    [channel.code, channel.id, order.externalId],
  );
  const from = current.status;
  const to = order.status;
  if (to === null) {
    await recordOrderEvents(tx, OrderEventType.HELD_BY_PLATFORM, [
      {
        orderId: current.id,
        channelCode: channel.code,
        status: from,
        source: channel.code,
        detail: { platformStatus: order.platformStatus },
      },
    ]);
    return { orderId: current.id, outcome: IngestOutcome.UPDATED };
  }
  if (!canTransition(from, to)) return { orderId: current.id, outcome: IngestOutcome.DUPLICATE };

  const detail = { platformStatus: order.platformStatus };
  await transitionOrders(tx, [current], to, { source: channel.code, detail, paidAt: order.paidAt });
  // The platform speaks for the whole sale: a split order's sub-orders follow it.
  await carryToChildren(tx, [current.id], to, { source: channel.code, detail });
  if (!historical) {
    const target = { id: current.id, channelCode: channel.code };
    const wasTaken = STOCK_TAKEN.has(from);
    if (!wasTaken && STOCK_TAKEN.has(to)) {
      const shortfalls = await commitLines(tx, target, stockLines(lines), channel.code);
      for (const s of shortfalls)
        await reportShortfall(tx, channel, order.externalId, { ...s, orderId: current.id });
    } else if (to === OrderStatus.CANCELLED) {
      if (wasTaken) await restockCommitted(tx, current.id, channel.code);
      else await releaseHolds(tx, current.id);
    }
  }
  return { orderId: current.id, outcome: IngestOutcome.UPDATED };
}

/** A marketplace sale already happened: the order is kept, and the shortfall is an OUT_OF_STOCK alert naming it. */
export async function reportShortfall(
  tx: EntityManager,
  channel: Channel,
  externalId: string,
  s: Shortfall & { orderId: string },
) {
  await raiseAlert(tx, {
    kind: StockAlertKind.OUT_OF_STOCK,
    productId: s.productId,
    productCode: s.productCode,
    available: s.available,
    orderId: s.orderId,
    message: `Order ${externalId} on ${channel.code} needs ${s.quantity} of "${s.productCode}" but only ${s.available} are available.`,
  });
}
