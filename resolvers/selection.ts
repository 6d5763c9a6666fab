import type { GraphQLResolveInfo } from 'graphql';
import { parseResolveInfo, type ResolveTree } from 'graphql-parse-resolve-info';
import type { PageIncludes } from '../services/orders.js';

/** The fields selected under a field, whatever their aliases, fragments or @skip/@include, by field name. */
function selected(tree: ResolveTree | undefined, name: string): ResolveTree[] {
  if (!tree) return [];
  const found: ResolveTree[] = [];
  for (const fields of Object.values(tree.fieldsByTypeName)) {
    for (const field of Object.values(fields)) if (field.name === name) found.push(field);
  }
  return found;
}

/** What an `orders` query shows of each order that the page can read in its own statement (listOrders). */
export function orderPageIncludes(info: GraphQLResolveInfo): PageIncludes {
  const root = parseResolveInfo(info) as ResolveTree | null;
  const nodes = selected(root ?? undefined, 'edges').flatMap((edges) => selected(edges, 'node'));
  const lines = nodes.flatMap((node) => selected(node, 'lines'));
  return {
    channel: nodes.some((node) => selected(node, 'channel').length > 0),
    lines: lines.length > 0,
    lineProducts: lines.some((line) => selected(line, 'product').length > 0),
  };
}
