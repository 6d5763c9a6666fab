import { BadUserInputError } from '../common/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isId(value: string): boolean {
  return UUID.test(value);
}

/** Ids are UUIDs; anything else is the caller's mistake, not a database error. */
export function parseId(id: string, field = 'id'): string {
  if (!UUID.test(id)) throw new BadUserInputError(`${field} "${id}" is not a valid id.`, field);
  return id.toLowerCase();
}

/** Bounds a page size: `first` must be 0..max. */
export function pageSize(
  first: number | null | undefined,
  fallback: number,
  max: number,
  field = 'first',
): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0)
    throw new BadUserInputError(`${field} must be a whole number of 0 or more.`, field);
  if (n > max) throw new BadUserInputError(`${field} must be at most ${max}.`, field);
  return n;
}

/** How many items a list nested under another answers by default and at most. */
export interface NestedListBound {
  fallback: number;
  max: number;
}

/** The first `first` of a nested list, bounded like a page so a query's cost has a ceiling. */
export function firstItems<T>(
  items: readonly T[],
  first: number | null | undefined,
  bound: NestedListBound,
): T[] {
  return items.slice(0, pageSize(first, bound.fallback, bound.max));
}
