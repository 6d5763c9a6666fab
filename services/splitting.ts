import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { Order } from '../entities/index.js';
import { OrderEventType, OrderStatus } from '../common/enums.js';
import { requirePrincipal } from './access.js';
import type { RequestContext } from './context.js';
import { BadUserInputError, ConflictError, InvalidTransitionError } from '../common/errors.js';
import { parseId } from './ids.js';
import { childIds, lockOrder, recordOrderEvents } from './order-transitions.js';
import { inTransaction } from './transactions.js';
import { copyLines, insertSubOrders } from './order-rows.js';
import { isRemoteProvince } from './provinces.js';

/**
 * Order splitting: rules kept in the `split_rule` table turn an order into
 * sub-orders (the parcels) while the order itself stays the sale. A sub-order has
 * the parent's channel, customer and address, its own share of the lines, its own
 * status (from the parent's at the split) and `parent` set; its externalId is the
 * parent's plus `#<group label>`, so the (channel, externalId) key makes a second
 * split of the same order impossible. Stock stays with the parent's lines and
 * reservations: sub-orders take and give back nothing, so no unit counts twice.
 */

/** The longest externalId the order table holds. */
const MAX_EXTERNAL_ID = 128;

/** Statuses in which an order may still be split: nothing of it has left the warehouse. */
const SPLITTABLE = new Set([OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PACKED]);

const ruleShape = z.object({
  name: z.string(),
  condition: z.strictObject({
    /** Applies only to addresses that are (true) or are not (false) remote; absent: either. */
    remote: z.boolean().optional(),
    /** Applies only to orders of these channels; absent: every channel. */
    channels: z.array(z.string().min(1)).min(1).optional(),
  }),
  grouping: z.strictObject({
    by: z.literal('coldChain'),
    groups: z
      .array(
        z.strictObject({
          // Becomes part of the sub-order's externalId.
          label: z.string().regex(/^[a-z0-9][a-z0-9-]{0,15}$/, 'label: 1 to 16 of a-z, 0-9 and -'),
          coldChain: z.boolean(),
        }),
      )
      .length(2)
      .refine((g) => g[0].coldChain !== g[1].coldChain && g[0].label !== g[1].label, {
        message: 'one group per coldChain value, with different labels',
      }),
  }),
});

export type SplitRule = z.infer<typeof ruleShape>;

/** What a rule looks at before reading the order's lines. */
export interface SplitCandidate {
  id: string;
  externalId: string;
  channelCode: string;
  status: OrderStatus;
  remote: boolean;
}

interface CandidateLine {
  id: string;
  coldChain: boolean;
  lineTotal: string;
}

export interface SplitPlan {
  rule: string;
  groups: { label: string; lineIds: string[] }[];
}

/** The enabled rules in evaluation order. A malformed rule is logged and left out, never half-applied. */
export async function loadSplitRules(ctx: RequestContext, tx: EntityManager): Promise<SplitRule[]> {
  const rows = await tx.execute<{ name: string; condition: unknown; grouping: unknown }[]>(
    'select name, condition, grouping from split_rule where enabled order by priority, name',
  );
  const rules: SplitRule[] = [];
  for (const row of rows) {
    const parsed = ruleShape.safeParse(row);
    if (parsed.success) rules.push(parsed.data);
    else
      ctx.logger.error(
        {
          splitRule: row.name,
          problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
        },
        'split rule is malformed and is skipped',
      );
  }
  return rules;
}

function conditionHolds(rule: SplitRule, order: SplitCandidate): boolean {
  const { remote, channels } = rule.condition;
  return (
    (remote === undefined || remote === order.remote) && (!channels || channels.includes(order.channelCode))
  );
}

/**
 * The first rule whose condition holds and whose grouping leaves at least two
 * non-empty groups (an all-ambient order is no split), or null. A line without a
 * product in the catalog counts as not cold-chain.
 */
export function planSplit(
  rules: SplitRule[],
  order: SplitCandidate,
  lines: CandidateLine[],
): SplitPlan | null {
  for (const rule of rules) {
    if (!conditionHolds(rule, order)) continue;
    const groups = rule.grouping.groups
      .map((g) => ({
        label: g.label,
        lineIds: lines.filter((l) => l.coldChain === g.coldChain).map((l) => l.id),
      }))
      .filter((g) => g.lineIds.length > 0);
    if (groups.length >= 2) return { rule: rule.name, groups };
  }
  return null;
}

/** `<parent>#<label>`, shortened with a hash of the parent's id when that is too long for the column. */
export function childExternalId(parent: string, label: string): string {
  const suffix = `#${label}`;
  if (parent.length + suffix.length <= MAX_EXTERNAL_ID) return parent + suffix;
  const hash = createHash('sha256').update(parent).digest('hex').slice(0, 12);
  return `${parent.slice(0, MAX_EXTERNAL_ID - suffix.length - hash.length - 1)}~${hash}${suffix}`;
}

/**
 * Applies the rules to orders just stored (or locked by the caller) in the caller's
 * transaction: creates the sub-orders, their lines and a SPLIT entry on each split
 * order's timeline. Returns the sub-order ids by split order id.
 */
export async function splitOrders(
  ctx: RequestContext,
  tx: EntityManager,
  candidates: SplitCandidate[],
  source: string,
): Promise<Map<string, string[]>> {
  const made = new Map<string, string[]>();
  if (candidates.length === 0) return made;
  const rules = await loadSplitRules(ctx, tx);
  // Most orders meet no rule's condition (not remote): their lines are not even read. An order
  // first seen shipped or ended (a late webhook, a historical import) has no parcels left to plan.
  const eligible = candidates.filter(
    (o) => SPLITTABLE.has(o.status) && rules.some((r) => conditionHolds(r, o)),
  );
  if (eligible.length === 0) return made;
  const lineRows = await tx.execute<(CandidateLine & { order_id: string })[]>(
    `select l.order_id, l.id, coalesce(p.cold_chain, false) as "coldChain", l.line_total as "lineTotal"
     from order_line l left join product p on p.id = l.product_id
     where l.order_id in (${eligible.map(() => '?').join(', ')}) order by l.order_id, l.line_no`,
    eligible.map((o) => o.id),
  );
  const children = eligible.flatMap((order) => {
    const lines = lineRows.filter((l) => l.order_id === order.id);
    const plan = planSplit(rules, order, lines);
    if (!plan) return [];
    return plan.groups.map((g) => ({
      parent: order,
      rule: plan.rule,
      label: g.label,
      externalId: childExternalId(order.externalId, g.label),
      lineIds: g.lineIds,
      // Each sub-order's total is the sum of its own lines.
      total: lines
        .filter((l) => g.lineIds.includes(l.id))
        .reduce((sum, l) => sum.plus(l.lineTotal), new Decimal(0))
        .toFixed(2),
    }));
  });
  if (children.length === 0) return made;

  const inserted = await insertSubOrders(
    tx,
    children.map((c) => ({ parentId: c.parent.id, externalId: c.externalId, total: c.total })),
  );
  const idOf = new Map(inserted.map((r) => [`${r.parent_id} ${r.external_id}`, r.id]));
  const taken = children.find((c) => !idOf.has(`${c.parent.id} ${c.externalId}`));
  if (taken)
    throw new ConflictError(
      `Order ${taken.parent.id} cannot be split: another order of its channel already has the externalId "${taken.externalId}".`,
    );

  const lineCopies = children.flatMap((c) =>
    c.lineIds.map((lineId, i) => ({
      orderId: idOf.get(`${c.parent.id} ${c.externalId}`)!,
      lineId,
      lineNo: i + 1,
    })),
  );
  await copyLines(tx, lineCopies);

  for (const c of children) {
    const ids = made.get(c.parent.id) ?? [];
    ids.push(idOf.get(`${c.parent.id} ${c.externalId}`)!);
    made.set(c.parent.id, ids);
  }
  const parents = [...new Set(children.map((c) => c.parent))];
  await recordOrderEvents(
    tx,
    OrderEventType.SPLIT,
    parents.map((parent) => {
      const mine = children.filter((c) => c.parent === parent);
      return {
        orderId: parent.id,
        channelCode: parent.channelCode,
        status: parent.status,
        source,
        detail: {
          rule: mine[0].rule,
          children: mine.map((c) => ({
            id: idOf.get(`${parent.id} ${c.externalId}`)!,
            externalId: c.externalId,
            label: c.label,
          })),
        },
      };
    }),
  );
  return made;
}

/**
 * `splitOrder`: applies the rules to one order by hand and answers its sub-orders.
 * An order split before answers the sub-orders it has; one no rule applies to
 * answers []. A sub-order is not split again, and an order that has shipped (or
 * ended) is INVALID_TRANSITION.
 */
export async function splitOrder(ctx: RequestContext, orderId: string): Promise<Order[]> {
  requirePrincipal(ctx);
  const id = parseId(orderId, 'orderId');
  const ids = await inTransaction(ctx, async (tx) => {
    const order = await lockOrder(ctx, tx, id);
    if (order.parent_id)
      throw new BadUserInputError(
        `Order ${id} is a sub-order of ${order.parent_id}; sub-orders are not split again.`,
        'orderId',
      );
    const existing = await childIds(tx, id);
    if (existing.length) return existing;
    if (!SPLITTABLE.has(order.status))
      throw new InvalidTransitionError(
        id,
        order.status,
        OrderEventType.SPLIT,
        `Order ${id} is ${order.status}: only an order that has not shipped can be split.`,
      );
    const [row] = await tx.execute<
      { external_id: string; ship_province: string | null; ship_remote: boolean }[]
    >('select external_id, ship_province, ship_remote from "order" where id = ?', [id]);
    // The rules see the address through today's REMOTE_PROVINCES; the stored flag is brought in line with them.
    const remote = isRemoteProvince(row.ship_province, ctx.hub.settings.remoteProvinces);
    if (remote !== row.ship_remote)
      await tx.execute('update "order" set ship_remote = ?, updated_at = now() where id = ?', [remote, id]);
    const made = await splitOrders(
      ctx,
      tx,
      [{ id, externalId: row.external_id, channelCode: order.channel_code, status: order.status, remote }],
      'api',
    );
    return made.get(id) ?? [];
  });
  if (ids.length === 0) return [];
  return ctx.em.find(Order, { id: { $in: ids } }, { orderBy: { externalId: 'asc' }, refresh: true });
}
