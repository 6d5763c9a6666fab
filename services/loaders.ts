import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityName, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import {
  Channel,
  InventoryItem,
  Notice,
  Order,
  OrderEvent,
  OrderLine,
  Product,
  Reservation,
  Return,
  ReturnEvent,
  ReturnLine,
  RiskFlag,
  Shipment,
  ShipmentEvent,
} from '../entities/index.js';
import { loadChannelApis, loadChannelStockByProduct, loadStockSyncSummaries } from './channel-stock.js';
import {
  readEntityRows,
  type ChannelRow,
  type OrderLineRow,
  type OrderRow,
  type ProductRow,
} from './read-model.js';

/**
 * Per-request batch loaders: every relation of the read side goes through one, so a
 * page of orders costs a fixed number of statements whatever its size.
 */
export type Loaders = ReturnType<typeof createLoaders>;

/**
 * A DataLoader that answers a key it already holds at once, not through a promise: a field whose value a page
 * read beforehand (listOrders primes them) then completes synchronously, and graphql-js does the same work for
 * each of a page's objects without a promise and a microtask per field.
 */
export class HeldLoader<V> {
  private readonly held = new Map<string, V>();

  constructor(private readonly loader: DataLoader<string, V>) {}

  holds(key: string): boolean {
    return this.held.has(key);
  }

  prime(key: string, value: V): void {
    if (this.held.has(key)) return;
    this.held.set(key, value);
    this.loader.prime(key, value);
  }

  load(key: string): V | Promise<V> {
    return this.held.has(key) ? this.held.get(key)! : this.loader.load(key);
  }
}

/** `then` for a value that may already be there (HeldLoader): no promise when it is. */
export function whenLoaded<V, R>(value: V | Promise<V>, next: (value: V) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

export function createLoaders(em: EntityManager) {
  /** One row per key, by the column `key` names. */
  function one<T extends object>(entity: EntityName<T>, key: string, keyOf: (row: T) => string) {
    return new DataLoader<string, T | null>(async (keys) => {
      const rows = await em.find(entity, { [key]: { $in: [...keys] } } as FilterQuery<T>);
      const byKey = new Map(rows.map((r) => [keyOf(r), r]));
      return keys.map((k) => byKey.get(k) ?? null);
    });
  }

  /** All rows per key, in the order given. */
  function many<T extends object>(
    entity: EntityName<T>,
    key: string,
    keyOf: (row: T) => string,
    orderBy: QueryOrderMap<T>,
  ) {
    return new DataLoader<string, T[]>(async (keys) => {
      const rows = await em.find(entity, { [key]: { $in: [...keys] } } as FilterQuery<T>, { orderBy });
      const byKey = new Map<string, T[]>(keys.map((k) => [k, []]));
      for (const row of rows) byKey.get(keyOf(row))?.push(row);
      return keys.map((k) => byKey.get(k)!);
    });
  }

  /**
   * Plain rows (services/read-model.ts) by id: what the read side only shows, read without MikroORM's
   * hydration and identity map.
   */
  function rowById<T extends { id: string }>(entity: EntityName<object>) {
    return new HeldLoader(
      new DataLoader<string, T | null>(async (ids) => {
        const rows = await readEntityRows<T>(em, entity, 'id', ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
    );
  }

  return {
    channelById: rowById<ChannelRow>(Channel),
    productById: rowById<ProductRow>(Product),
    productByCode: one(Product, 'productCode', (p) => p.productCode),
    inventoryByProductId: one(InventoryItem, 'product', (i) => i.product.id),
    // Plain rows, as a page of orders primes it with (listOrders): `order(id:)` and a router's batch of `_entities`
    // read what a page does, without hydrating 1,000 entities for one request.
    orderById: rowById<OrderRow>(Order),
    linesByOrderId: new HeldLoader(
      new DataLoader<string, OrderLineRow[]>(async (orderIds) => {
        const rows = await readEntityRows<OrderLineRow>(em, OrderLine, 'order_id', orderIds, 't.line_no');
        const byOrder = new Map<string, OrderLineRow[]>(orderIds.map((k) => [k, []]));
        for (const row of rows) byOrder.get(row.order.id)?.push(row);
        return orderIds.map((k) => byOrder.get(k)!);
      }),
    ),
    childrenByParentId: many(Order, 'parent', (o) => o.parent!.id, {
      placedAt: 'asc',
      externalId: 'asc',
      id: 'asc',
    }),
    shipmentByTrackingNumber: one(Shipment, 'trackingNumber', (s) => s.trackingNumber),
    shipmentsByOrderId: many(Shipment, 'order', (s) => s.order.id, { createdAt: 'asc', id: 'asc' }),
    shipmentEventsByShipmentId: many(ShipmentEvent, 'shipment', (e) => e.shipment.id, {
      occurredAt: 'asc',
      id: 'asc',
    }),
    timelineByOrderId: new DataLoader<string, OrderEvent[]>(async (keys) => {
      // After numbering, read back from the primary that numbered them: a replica may be a moment behind.
      const find = (refresh: boolean) =>
        em.find(
          OrderEvent,
          { orderId: { $in: [...keys] } },
          { orderBy: { seq: 'asc' }, refresh, connectionType: refresh ? 'write' : undefined },
        );
      let rows = await find(false);
      // An event committed a moment ago may not have its public seq yet: give it one now.
      if (rows.some((e) => e.seq === null)) {
        await em.getConnection().execute('select 1 from hub_number_order_events()');
        rows = await find(true);
      }
      const byKey = new Map<string, OrderEvent[]>(keys.map((k) => [k, []]));
      for (const row of rows) byKey.get(row.orderId)?.push(row);
      return keys.map((k) => byKey.get(k)!);
    }),
    // The raw payload is a lazy column: read only for the orders whose `raw` is asked for.
    rawByOrderId: new DataLoader<string, unknown>(async (ids) => {
      const rows = await em
        .getConnection()
        .execute<{ id: string; raw: unknown }[]>(
          `select id, raw from "order" where id in (${ids.map(() => '?').join(', ')})`,
          [...ids],
        );
      const byId = new Map(rows.map((r) => [r.id, r.raw]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    returnsByOrderId: many(Return, 'order', (r) => r.order!.id, { requestedAt: 'asc', id: 'asc' }),
    returnLinesByReturnId: many(ReturnLine, 'return', (l) => l.return.id, { lineNo: 'asc' }),
    returnEventsByReturnId: many(ReturnEvent, 'return', (e) => e.return.id, { id: 'asc' }),
    returnUpdateSeqByReturnId: new DataLoader<string, string | null>(async (ids) => {
      const read = () =>
        em.getConnection('write').execute<{ id: string; seq: string | null; unnumbered: boolean }[]>(
          `select r.id, max(e.seq)::text as seq, bool_or(e.id is not null and e.seq is null) as unnumbered
             from order_return r
             left join order_event e on e.order_id = r.order_id and e.type = 'RETURN_UPDATED'
                                    and e.detail->>'returnId' = r.id::text
            where r.id in (${ids.map(() => '?').join(', ')})
            group by r.id`,
          [...ids],
        );
      let rows = await read();
      // As the timeline: an entry committed a moment ago may not have its public seq yet.
      if (rows.some((r) => r.unnumbered)) {
        await em.getConnection().execute('select 1 from hub_number_order_events()');
        rows = await read();
      }
      const byId = new Map(rows.map((r) => [r.id, r.seq]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    orderLineById: one(OrderLine, 'id', (l) => l.id),
    riskFlagsByOrderId: many(RiskFlag, 'order', (f) => f.order.id, { at: 'asc', id: 'asc' }),
    // A lazy column: read only for the products whose listPrice is asked for.
    listPriceByProductId: new DataLoader<string, string | null>(async (ids) => {
      const rows = await em
        .getConnection()
        .execute<{ id: string; list_price: string | null }[]>(
          `select id, list_price::text as list_price from product where id in (${ids.map(() => '?').join(', ')})`,
          [...ids],
        );
      const byId = new Map(rows.map((r) => [r.id, r.list_price]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    noticesByOrderId: many(Notice, 'order', (n) => n.order.id, { id: 'asc' }),
    reservationsByOrderId: many(Reservation, 'order', (r) => r.order!.id, { createdAt: 'asc', id: 'asc' }),
    // Live figures: batched but not cached, so a long-lived context (a subscription's) never shows old ones.
    channelStockByProductId: new DataLoader((ids: readonly string[]) => loadChannelStockByProduct(em, ids), {
      cache: false,
    }),
    channelApiById: new DataLoader((ids: readonly string[]) => loadChannelApis(em, ids), { cache: false }),
    stockSyncByChannelId: new DataLoader((ids: readonly string[]) => loadStockSyncSummaries(em, ids), {
      cache: false,
    }),
  };
}
