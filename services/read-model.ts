import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityMetadata, EntityName } from '@mikro-orm/core';
import type { Channel, Order, OrderLine, Product } from '../entities/index.js';
import { readRows } from './read-db.js';

/**
 * The read side's plain rows: what a page of orders shows, read with one statement per table and shaped as
 * the entities are (property names, a many-to-one as `{ id }`, an embeddable as a nested object, decimals as
 * strings, times as Date), but never hydrated, tracked or put in the identity map. The field resolvers read
 * either, so a page need not pay MikroORM's hydration for rows it only shows.
 */
export interface Ref {
  id: string;
}

export type OrderRow = Omit<Order, 'channel' | 'parent' | 'raw'> & { channel: Ref; parent: Ref | null };
export type OrderLineRow = Omit<OrderLine, 'order' | 'product'> & { order: Ref; product: Ref | null };
/** The webhook secret is hidden: it is never read into a row. */
export type ChannelRow = Omit<Channel, 'webhookSecret'>;
export type ProductRow = Product;

interface Column {
  /** The column's name, as selected. */
  field: string;
  /** The property, or [embeddable, property] for an embedded one. */
  name: string;
  embedded: string | null;
  kind: 'value' | 'date' | 'ref';
  /** A value JS keeps as a string (a decimal, a uuid): sent through JSON as text, so no decimal is rounded. */
  text: boolean;
}

interface RowShape {
  table: string;
  columns: Column[];
  /** `alias."column"` for each column, for a select list. */
  select: (alias: string) => string;
}

const shapes = new WeakMap<EntityMetadata, RowShape>();

/** The stored columns of an entity but the lazy ones (a raw payload) and the hidden ones (secrets). */
function shapeOf(em: EntityManager, entity: EntityName<object>): RowShape {
  const meta = em.getMetadata().get(entity);
  let shape = shapes.get(meta);
  if (shape) return shape;
  const columns: Column[] = meta.props
    .filter(
      (p) =>
        !p.lazy &&
        !p.hidden &&
        p.persist !== false &&
        (p.kind === 'scalar' || p.kind === 'm:1') &&
        p.fieldNames.length === 1,
    )
    .map((p) => ({
      field: p.fieldNames[0],
      name: p.embedded ? p.embedded[1] : p.name,
      embedded: p.embedded ? p.embedded[0] : null,
      kind: p.kind === 'm:1' ? 'ref' : p.runtimeType === 'Date' ? 'date' : 'value',
      text: p.kind === 'm:1' || p.runtimeType === 'string',
    }));
  const list = (alias: string) => columns.map((c) => `${alias}."${c.field}"`).join(', ');
  shape = { table: meta.tableName, columns, select: list };
  shapes.set(meta, shape);
  return shape;
}

/** The select list of an entity's row, for a statement of one's own (`o."id", o."channel_id", …`). */
export function rowColumns(em: EntityManager, entity: EntityName<object>, alias: string): string {
  return shapeOf(em, entity).select(alias);
}

/**
 * An entity's row as a JSON object keyed by column name (`json_build_object('id', t."id", …)`), to nest rows
 * in one statement; `toRow` shapes what it parses to as it does a row read with `rowColumns`. (PostgreSQL takes
 * at most 50 columns this way; the rows nested, a line, a product and a channel, have far fewer.)
 */
export function rowJson(em: EntityManager, entity: EntityName<object>, alias: string): string {
  const pairs = shapeOf(em, entity).columns.map(
    (c) => `'${c.field}', ${alias}."${c.field}"${c.text ? '::text' : ''}`,
  );
  return `json_build_object(${pairs.join(', ')})`;
}

/** Shapes a row read with `rowColumns` (column names) as the entity's properties. */
export function toRow<T>(em: EntityManager, entity: EntityName<object>, raw: Record<string, unknown>): T {
  const { columns } = shapeOf(em, entity);
  const platform = em.getPlatform();
  const row: Record<string, unknown> = {};
  for (const c of columns) {
    let value = raw[c.field];
    if (value !== null && value !== undefined) {
      if (c.kind === 'date' && !(value instanceof Date)) value = platform.parseDate(value as string);
      else if (c.kind === 'ref') value = { id: value };
    } else {
      value = null;
    }
    if (c.embedded) {
      const holder = (row[c.embedded] ??= {}) as Record<string, unknown>;
      holder[c.name] = value;
    } else {
      row[c.name] = value;
    }
  }
  return row as T;
}

/**
 * Rows of `entity` whose `column` is one of `keys`, on the request's connection for reads (readRows), in
 * `orderBy` order (SQL, with the table aliased `t`).
 */
export async function readEntityRows<T>(
  em: EntityManager,
  entity: EntityName<object>,
  column: string,
  keys: readonly string[],
  orderBy?: string,
): Promise<T[]> {
  if (keys.length === 0) return [];
  const shape = shapeOf(em, entity);
  const raw = await readRows<Record<string, unknown>>(
    em,
    `select ${shape.select('t')} from "${shape.table}" t where t."${column}" in (${keys.map(() => '?').join(', ')})${
      orderBy ? ` order by ${orderBy}` : ''
    }`,
    [...keys],
  );
  return raw.map((r) => toRow<T>(em, entity, r));
}
