import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import { connectorFor, type CanonicalRefund } from '../connectors/index.js';
import type { PushHeaders } from '../connectors/canonical.js';
import { NO_CURRENCY, parseRefundBody, storefrontRefund } from '../connectors/refunds.js';
import {
  IngestOutcome,
  IngestSource,
  OrderEventType,
  OrderStatus,
  Platform,
  RefundKind,
  RefundStatus,
} from '../common/enums.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { refundCsvColumns, refundRecordFromRows } from '../connectors/csv-refunds.js';
import {
  BadUserInputError,
  HubError,
  NotEnoughQuarantinedError,
  NotFoundError,
  RefundCurrencyMismatchError,
} from '../common/errors.js';
import type { ReturnUpdateDetail } from '../common/order-event-details.js';
import { Product, Return, type Channel } from '../entities/index.js';
import { assertChannelAccess, channelScope, requirePrincipal } from './access.js';
import { requireChannelByCode } from './channels.js';
import type { RequestContext } from './context.js';
import { pageSize, parseId } from './ids.js';
import { logFailed, logReceivedMany, logRefundOutcome } from './ingest-log.js';
import { isRefusedData } from './order-gateway.js';
import {
  canTransition,
  carryToChildren,
  recordOrderEvents,
  transitionOrders,
  type LockedOrder,
} from './order-transitions.js';
import { actorOf, evaluateStockLevels } from './stock-levels.js';
import { acceptQuarantined, giveBackUnshipped, receiveReturnedUnits } from './stock.js';
import { evaluateRefundRisk } from './risk.js';
import { inTransaction } from './transactions.js';

/**
 * The one owner of after-sale cases (order_return, its lines and timeline): a platform's refund record is
 * logged like an order body, mapped by the channel's connector (connectors/refunds.ts) and stored once per
 * (channel, refundId) in one transaction with its effects:
 *
 * - the case only moves forward (REQUESTED → APPROVED → RETURN_IN_TRANSIT → RETURN_RECEIVED → REFUNDED, or to
 *   REJECTED / CANCELLED, which like REFUNDED are final); an older or backward record changes nothing;
 * - returned goods go back on hand once received (or into quarantine when the product's returns are inspected);
 *   a refund without goods on an order not yet shipped gives its units back as a cancellation does; the lines'
 *   `restocked` / `quarantined` say what was done, so nothing moves twice;
 * - the order's refundedAmount and its lines' refundedQuantity are the sums of its REFUNDED cases, clamped to the
 *   order's total and the lines' quantities; refunded in full, a paid order moves to REFUNDED;
 * - every change is a row of the case's timeline and, once the case has its order, a RETURN_UPDATED entry of the
 *   order's timeline (order-transitions.ts).
 * - a case's money is in its order's currency: a record in another is refused (REFUND_CURRENCY_MISMATCH, kept in
 *   the ingest log as FAILED); a waiting case in another currency is not attached when its order arrives; a record
 *   naming no money (NO_CURRENCY, a Shopify return) takes its case's or its order's.
 *
 * A case whose order the hub has not seen waits with order null; the order's arrival attaches it
 * (attachWaitingReturns, called by the order gateway in the order's transaction). An advisory lock on
 * (channel, externalId), taken by both sides, keeps the two from missing each other.
 */

export interface RefundResult {
  returnId: string;
  outcome: IngestOutcome.CREATED | IngestOutcome.UPDATED | IngestOutcome.DUPLICATE;
}

const { REQUESTED, APPROVED, RETURN_IN_TRANSIT, RETURN_RECEIVED, REFUNDED, REJECTED, CANCELLED } =
  RefundStatus;

const RANK: Readonly<Record<RefundStatus, number>> = {
  [REQUESTED]: 0,
  [APPROVED]: 1,
  [RETURN_IN_TRANSIT]: 2,
  [RETURN_RECEIVED]: 3,
  [REFUNDED]: 4,
  [REJECTED]: 5,
  [CANCELLED]: 5,
};
const FINAL: ReadonlySet<RefundStatus> = new Set([REFUNDED, REJECTED, CANCELLED]);

/** Whether a case may move from one status to another: forward only, never out of a final one. */
export function canMoveCase(from: RefundStatus, to: RefundStatus): boolean {
  return !FINAL.has(from) && RANK[to] > RANK[from];
}

/** Logs a refund body, maps it and stores its case: the one path of every door (webhook, API, replay). */
export async function ingestRefundRaw(
  ctx: RequestContext,
  channel: Channel,
  source: IngestSource,
  rawBody: string,
  logId?: string,
): Promise<RefundResult> {
  const [logged] = logId
    ? [{ logId, returnId: null }]
    : await logReceivedMany(ctx.em, channel.code, source, [rawBody]);
  if (logged.returnId) {
    ctx.hub.metrics.refundIngested(channel.code, source, 'duplicate');
    return { returnId: logged.returnId, outcome: IngestOutcome.DUPLICATE };
  }
  let refund: CanonicalRefund;
  try {
    // A CSV backfill's refund is the storefront's canonical record, whatever the channel's platform.
    const toRefund = source === IngestSource.CSV ? storefrontRefund : connectorFor(channel.platform).toRefund;
    refund = toRefund(parseRefundBody(rawBody));
    validateRefund(refund);
  } catch (err) {
    await logFailed(ctx.em, logged.logId, err);
    ctx.hub.metrics.refundIngested(channel.code, source, 'rejected');
    throw err;
  }
  const result = await inTransaction(ctx, async (tx) => {
    const stored = await storeRefund(ctx, tx, channel, refund, rawBody);
    await logRefundOutcome(tx, { logId: logged.logId, externalId: refund.externalId, ...stored });
    return stored;
  }).catch(async (err: unknown) => {
    // Refused by the database or by a rule of ours (a currency not the order's): kept in the log, as a mapping failure.
    if (isRefusedData(err) || err instanceof HubError) await logFailed(ctx.em, logged.logId, err);
    ctx.hub.metrics.refundIngested(channel.code, source, 'failed');
    throw err;
  });
  ctx.hub.metrics.refundIngested(channel.code, source, OUTCOME_LABEL[result.outcome]);
  return result;
}

const OUTCOME_LABEL = {
  [IngestOutcome.CREATED]: 'created',
  [IngestOutcome.UPDATED]: 'updated',
  [IngestOutcome.DUPLICATE]: 'duplicate',
} as const;

/**
 * Whether a body a channel pushed is an after-sale record (connectors' isRefund: a header, else its shape). A body
 * that is not JSON is left to the order path, which says so.
 */
export function isRefundBody(channel: Channel, rawBody: string, headers?: PushHeaders): boolean {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    return false;
  }
  return connectorFor(channel.platform).isRefund(payload, headers);
}

/**
 * A refund CSV backfill (docs/refunds-csv.md): each refund's rows, next to each other, go through
 * ingestRefundRaw as one record (source CSV), in file order. Reported like an order import.
 */
export async function importRefundsCsv(
  ctx: RequestContext,
  channelCode: string,
  csv: string,
): Promise<{
  channelCode: string;
  rows: number;
  created: number;
  duplicates: number;
  failed: number;
  errors: { row: number; message: string }[];
}> {
  assertChannelAccess(ctx, channelCode);
  const channel = await requireChannelByCode(ctx.em, channelCode);
  let records: string[][];
  try {
    records = parseCsv(csv, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    throw new BadUserInputError(`The file cannot be read: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new BadUserInputError('The file has no header row.');
  const columns = refundCsvColumns(records[0]);
  const report = {
    channelCode,
    rows: records.length - 1,
    created: 0,
    duplicates: 0,
    failed: 0,
    errors: [] as { row: number; message: string }[],
  };
  const idAt = columns.get('refund_id')!;
  const seen = new Set<string>();
  // Spreadsheet rows: the header is row 1.
  for (let start = 1; start < records.length;) {
    const key = records[start][idAt]?.trim() ?? '';
    let end = start + 1;
    while (end < records.length && key !== '' && (records[end][idAt]?.trim() ?? '') === key) end++;
    const row = start + 1;
    try {
      if (key && seen.has(key))
        throw new BadUserInputError(
          `The rows of refund "${key}" are not together (sort the file by refund_id).`,
        );
      seen.add(key);
      const body = JSON.stringify(refundRecordFromRows(columns, records.slice(start, end)));
      const { outcome } = await ingestRefundRaw(ctx, channel, IngestSource.CSV, body);
      if (outcome === IngestOutcome.CREATED) report.created++;
      else report.duplicates++;
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      report.failed++;
      report.errors.push({ row, message: err.message });
    }
    start = end;
  }
  return report;
}

/** A CSV-logged body that is a refund record (importRefundsCsv), not a logged CSV order. */
export function isCsvRefund(rawBody: string): boolean {
  return connectorFor(Platform.STOREFRONT).isRefund(JSON.parse(rawBody));
}

/** `ingestChannelRefund`: the API door. */
export async function ingestChannelRefund(
  ctx: RequestContext,
  channelCode: string,
  payload: unknown,
): Promise<Return> {
  assertChannelAccess(ctx, channelCode);
  const channel = await requireChannelByCode(ctx.em, channelCode);
  const { returnId } = await ingestRefundRaw(ctx, channel, IngestSource.API, JSON.stringify(payload));
  return ctx.em.findOneOrFail(Return, { id: returnId });
}

const MAX_AMOUNT = new Decimal('999999999999.99');

/** Column limits, checked before the database so a long value is a clear 400. */
function validateRefund(refund: CanonicalRefund) {
  const tooLong = (value: string | null, max: number, field: string) => {
    if (value && value.length > max)
      throw new BadUserInputError(`${field} must be at most ${max} characters.`, field);
  };
  if (!refund.refundId) throw new BadUserInputError('refundId must not be empty.', 'refundId');
  if (!refund.externalId) throw new BadUserInputError('externalId must not be empty.', 'externalId');
  tooLong(refund.refundId, 128, 'refundId');
  tooLong(refund.externalId, 128, 'externalId');
  tooLong(refund.platformStatus, 64, 'platformStatus');
  tooLong(refund.reasonCode, 64, 'reasonCode');
  tooLong(refund.returnTrackingNumber, 128, 'returnTrackingNumber');
  tooLong(refund.returnCarrier, 64, 'returnCarrier');
  refund.lines.forEach((line, i) => {
    tooLong(line.productCode, 128, `lines[${i}].productCode`);
    tooLong(line.platformSkuId, 128, `lines[${i}].platformSkuId`);
    tooLong(line.platformLineId, 128, `lines[${i}].platformLineId`);
  });
  if (new Decimal(refund.refundAmount).gt(MAX_AMOUNT))
    throw new BadUserInputError('refundAmount must be below 10^12.', 'refundAmount');
}

/** An order as a case's effects need it, locked. */
interface CaseOrder extends LockedOrder {
  shipped_at: Date | null;
  currency_code: string;
}

/**
 * Serialises a case's arrival with its order's: both take this lock on (channel, externalId) before looking
 * for the other, so a case stored while its order is being stored is seen by one of the two.
 */
async function lockOrderKeys(tx: EntityManager, channelId: string, externalIds: string[]) {
  const keys = [...new Set(externalIds)].map((e) => `${channelId}/${e}`);
  if (keys.length === 0) return;
  // Taken in one order by every transaction, so two batches sharing keys wait rather than deadlock.
  await tx.execute(
    `select pg_advisory_xact_lock(h) from (select hashtextextended(k, 17) as h
       from (values ${keys.map(() => '(?)').join(', ')}) as t(k) order by h) as s`,
    keys,
  );
}

async function lockOrderByKey(tx: EntityManager, channel: Channel, externalId: string) {
  const [order] = await tx.execute<CaseOrder[]>(
    `select o.id, o.status, o.parent_id, o.shipped_at, o.currency_code, ? as channel_code from "order" o
     where o.channel_id = ? and o.external_id = ? for update`,
    [channel.code, channel.id, externalId],
  );
  return order ?? null;
}

interface CaseRow {
  id: string;
  refund_id: string;
  kind: RefundKind;
  status: RefundStatus;
  platform_status: string;
  platform_updated_at: Date;
  goods_returned: boolean | null;
  refund_amount: string;
  currency_code: string;
  return_tracking_number: string | null;
  order_id: string | null;
}

const CASE_COLUMNS = `id, refund_id, kind, status, platform_status, platform_updated_at, goods_returned,
  refund_amount::text as refund_amount, currency_code, return_tracking_number, order_id`;

async function storeRefund(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  refund: CanonicalRefund,
  raw: string,
): Promise<RefundResult> {
  await lockOrderKeys(tx, channel.id, [refund.externalId]);
  const order = await lockOrderByKey(tx, channel, refund.externalId);
  if (order && refund.currencyCode !== NO_CURRENCY && order.currency_code !== refund.currencyCode)
    throw new RefundCurrencyMismatchError(refund.refundId, refund.currencyCode, order.currency_code);
  // A first record outside the common statuses (an exchange's step) opens the case as asked for.
  const status = refund.status ?? REQUESTED;
  const [created] = await tx.execute<CaseRow[]>(
    `insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
       goods_returned, refund_amount, currency_code, reason_text, reason_code, reason_class, responsible,
       return_tracking_number, return_carrier, requested_at, platform_updated_at, received_at, refunded_at, raw)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (channel_id, refund_id) do nothing returning ${CASE_COLUMNS}`,
    [
      channel.id,
      refund.refundId,
      refund.externalId,
      order?.id ?? null,
      refund.kind,
      status,
      refund.platformStatus,
      refund.goodsReturned,
      refund.refundAmount,
      refund.currencyCode === NO_CURRENCY ? (order?.currency_code ?? NO_CURRENCY) : refund.currencyCode,
      refund.reasonText,
      refund.reasonCode,
      refund.reasonClass,
      refund.responsible,
      refund.returnTrackingNumber,
      refund.returnCarrier,
      refund.requestedAt,
      refund.updatedAt,
      goodsReceived(status, refund.goodsReturned) ? refund.updatedAt : null,
      status === REFUNDED ? refund.updatedAt : null,
      raw,
    ],
  );
  if (created) {
    if (refund.lines.length)
      await tx.execute(
        `insert into order_return_line (return_id, line_no, product_code, platform_sku_id, platform_line_id, quantity)
         values ${refund.lines.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        refund.lines.flatMap((l, i) => [
          created.id,
          i + 1,
          l.productCode,
          l.platformSkuId,
          l.platformLineId,
          l.quantity,
        ]),
      );
    await recordCaseChange(tx, created, null, channel.code, order);
    if (order) {
      await applyEffects(ctx, tx, created.id, order, channel.code, false);
      await evaluateRefundRisk(tx, [order.id]);
    }
    return { returnId: created.id, outcome: IngestOutcome.CREATED };
  }

  const [current] = await tx.execute<CaseRow[]>(
    `select ${CASE_COLUMNS} from order_return where channel_id = ? and refund_id = ? for update`,
    [channel.id, refund.refundId],
  );
  const to = refund.status ?? current.status;
  // A record naming no money keeps the case's currency (or takes its order's); the case's must be its order's.
  const currency = [refund.currencyCode, current.currency_code, order?.currency_code ?? NO_CURRENCY].find(
    (code) => code !== NO_CURRENCY,
  );
  if (order && current.order_id === null && currency && currency !== order.currency_code)
    throw new RefundCurrencyMismatchError(refund.refundId, currency, order.currency_code);
  // Raw rows carry timestamps as the driver gives them (text): compared as instants.
  const storedAt = new Date(current.platform_updated_at).getTime();
  const older = refund.updatedAt.getTime() < storedAt;
  const backward = to !== current.status && !canMoveCase(current.status, to);
  const same =
    to === current.status &&
    refund.platformStatus === current.platform_status &&
    refund.updatedAt.getTime() === storedAt &&
    new Decimal(refund.refundAmount).eq(current.refund_amount);
  if (older || backward || same) return { returnId: current.id, outcome: IngestOutcome.DUPLICATE };

  const [updated] = await tx.execute<CaseRow[]>(
    `update order_return set status = ?, platform_status = ?, goods_returned = coalesce(?, goods_returned),
       refund_amount = ?, currency_code = ?, reason_text = coalesce(?, reason_text),
       reason_code = coalesce(?, reason_code), return_tracking_number = coalesce(?, return_tracking_number),
       return_carrier = coalesce(?, return_carrier), platform_updated_at = ?, raw = ?::jsonb, updated_at = now(),
       received_at = coalesce(received_at, case when ? = 'RETURN_RECEIVED'
         or (? = 'REFUNDED' and coalesce(?, goods_returned)) then ?::timestamptz end),
       refunded_at = coalesce(refunded_at, case when ? = 'REFUNDED' then ?::timestamptz end)
     where id = ? returning ${CASE_COLUMNS}`,
    [
      to,
      refund.platformStatus,
      refund.goodsReturned,
      refund.refundAmount,
      currency ?? NO_CURRENCY,
      refund.reasonText,
      refund.reasonCode,
      refund.returnTrackingNumber,
      refund.returnCarrier,
      refund.updatedAt,
      raw,
      to,
      to,
      refund.goodsReturned,
      refund.updatedAt,
      to,
      refund.updatedAt,
      current.id,
    ],
  );
  const caseOrder = order && (current.order_id === null || current.order_id === order.id) ? order : null;
  if (caseOrder && current.order_id === null)
    await tx.execute(`update order_return set order_id = ? where id = ?`, [caseOrder.id, current.id]);
  await recordCaseChange(tx, updated, current.status, channel.code, caseOrder);
  if (caseOrder) {
    await applyEffects(ctx, tx, current.id, caseOrder, channel.code, false);
    // A case rejected or cancelled stops counting against its buyer; one attached now starts to.
    await evaluateRefundRisk(tx, [caseOrder.id]);
  }
  return { returnId: current.id, outcome: IngestOutcome.UPDATED };
}

function goodsReceived(status: RefundStatus, goodsReturned: boolean | null): boolean {
  return status === RETURN_RECEIVED || (status === REFUNDED && goodsReturned === true);
}

/** One entry in the case's timeline and, when it has its order, a RETURN_UPDATED entry in the order's. */
async function recordCaseChange(
  tx: EntityManager,
  c: CaseRow,
  from: RefundStatus | null,
  source: string,
  order: CaseOrder | null,
  detail: Record<string, unknown> | null = null,
) {
  await tx.execute(
    `insert into order_return_event (return_id, from_status, to_status, platform_status, source, detail)
     values (?, ?, ?, ?, ?, ?::jsonb)`,
    [c.id, from, c.status, c.platform_status, source, detail ? JSON.stringify(detail) : null],
  );
  if (!order) return;
  const note: ReturnUpdateDetail = {
    returnId: c.id,
    refundId: c.refund_id,
    kind: c.kind,
    fromStatus: from,
    status: c.status,
    platformStatus: c.platform_status,
    refundAmount: c.refund_amount,
    currencyCode: c.currency_code,
  };
  await recordOrderEvents(tx, OrderEventType.RETURN_UPDATED, [
    { orderId: order.id, channelCode: order.channel_code, status: order.status, source, detail: note },
  ]);
}

interface EffectLine {
  id: string;
  quantity: number | null;
  restocked: number;
  quarantined: number;
  line_quantity: number;
  product_id: string | null;
  inspect_returns: boolean | null;
}

/**
 * A case's effects on its order, from its stored state, so running them again (a re-delivery, a replay, the
 * order arriving) does nothing twice: lines matched, units back, refunded sums, and the order REFUNDED when
 * refunded in full. Lines are matched to the order's by the platform's line id, else its SKU id, else the
 * product code (the first such line).
 */
async function applyEffects(
  ctx: RequestContext,
  tx: EntityManager,
  returnId: string,
  order: CaseOrder,
  source: string,
  historical: boolean,
): Promise<void> {
  await tx.execute(
    `update order_return_line rl set order_line_id = m.order_line_id, updated_at = now()
     from (select rl2.id, (select ol.id from order_line ol
             where ol.order_id = ? and (ol.platform_line_id = rl2.platform_line_id
               or ol.platform_sku_id = rl2.platform_sku_id or ol.product_code = rl2.product_code)
             order by case when ol.platform_line_id = rl2.platform_line_id then 0
                           when ol.platform_sku_id = rl2.platform_sku_id then 1 else 2 end, ol.line_no
             limit 1) as order_line_id
           from order_return_line rl2 where rl2.return_id = ? and rl2.order_line_id is null) m
     where rl.id = m.id and m.order_line_id is not null`,
    [order.id, returnId],
  );
  const [c] = await tx.execute<CaseRow[]>(`select ${CASE_COLUMNS} from order_return where id = ?`, [
    returnId,
  ]);
  const touched: string[] = [];
  if (!historical) {
    const lines = await tx.execute<EffectLine[]>(
      `select rl.id, rl.quantity, rl.restocked, rl.quarantined, ol.quantity as line_quantity, ol.product_id,
         p.inspect_returns
       from order_return_line rl join order_line ol on ol.id = rl.order_line_id
       left join product p on p.id = ol.product_id
       where rl.return_id = ? and ol.product_id is not null order by rl.line_no for update of rl`,
      [returnId],
    );
    const due = lines
      .map((l) => ({
        ...l,
        units: Math.min(l.quantity ?? l.line_quantity, l.line_quantity) - l.restocked - l.quarantined,
      }))
      .filter((l) => l.units > 0);
    const shipped = order.shipped_at !== null;
    const refundedWithoutGoods =
      c.status === REFUNDED &&
      !goodsReceived(c.status, c.goods_returned) &&
      (c.kind === RefundKind.REFUND_ONLY || c.goods_returned === false);
    if (goodsReceived(c.status, c.goods_returned) && due.length) {
      // Goods back from an order the hub never saw ship: they are no longer the order's reserved units, so a later
      // cancellation does not put them back a second time.
      if (!shipped)
        await giveBackUnshipped(
          tx,
          order.id,
          due.map((l) => ({ productId: l.product_id!, quantity: l.units })),
          source,
          { onHand: false },
        );
      touched.push(
        ...(await receiveReturnedUnits(
          tx,
          due.map((l) => ({ productId: l.product_id!, quantity: l.units, quarantine: !!l.inspect_returns })),
          source,
          order.id,
        )),
      );
      for (const l of due)
        await tx.execute(
          `update order_return_line set ${l.inspect_returns ? 'quarantined = quarantined' : 'restocked = restocked'} + ?,
             updated_at = now() where id = ?`,
          [l.units, l.id],
        );
    } else if (refundedWithoutGoods && !shipped && due.length) {
      // Units never sent: given back as a cancellation gives them (holds released, committed units on hand).
      const given = await giveBackUnshipped(
        tx,
        order.id,
        due.map((l) => ({ productId: l.product_id!, quantity: l.units })),
        source,
      );
      for (const l of due) {
        const left = given.get(l.product_id!) ?? 0;
        const units = Math.min(left, l.units);
        if (units === 0) continue;
        given.set(l.product_id!, left - units);
        await tx.execute(
          `update order_return_line set restocked = restocked + ?, updated_at = now() where id = ?`,
          [units, l.id],
        );
        touched.push(l.product_id!);
      }
    }
  }
  if (c.status === REFUNDED) await applyRefundedSums(tx, order, c, source);
  if (touched.length) await evaluateStockLevels(tx, touched, ctx.hub.settings);
}

/**
 * The order's refunded money and units, summed from its REFUNDED cases and clamped to the order's total and
 * each line's quantity (a platform's figures may include freight or overlap; the hub never shows more refunded
 * than was sold). Written only when they change. Refunded in full (the money, or every unit), an order that was
 * paid moves to REFUNDED, a split order's sub-orders with it; an unpaid one keeps its status.
 */
async function applyRefundedSums(tx: EntityManager, order: CaseOrder, c: CaseRow, source: string) {
  await tx.execute(
    `with sums as (select ol.id, least(ol.quantity, coalesce(sum(coalesce(rl.quantity, ol.quantity))
                     filter (where r.status = 'REFUNDED'), 0))::int as refunded
                   from order_line ol
                   left join order_return_line rl on rl.order_line_id = ol.id
                   left join order_return r on r.id = rl.return_id
                   where ol.order_id = ? group by ol.id)
     update order_line ol set refunded_quantity = s.refunded, updated_at = now()
     from sums s where ol.id = s.id and ol.refunded_quantity <> s.refunded`,
    [order.id],
  );
  const [o] = await tx.execute<{ full: boolean }[]>(
    `with amount as (select least(o.total_amount, coalesce((select sum(r.refund_amount) from order_return r
                       where r.order_id = o.id and r.status = 'REFUNDED'), 0)) as refunded
                     from "order" o where o.id = ?),
          changed as (update "order" o set refunded_amount = a.refunded, updated_at = now() from amount a
                      where o.id = ? and o.refunded_amount <> a.refunded)
     select (a.refunded >= o.total_amount and o.total_amount > 0)
         or not exists (select 1 from order_line ol where ol.order_id = o.id and ol.refunded_quantity < ol.quantity)
         as full
     from "order" o, amount a where o.id = ?`,
    [order.id, order.id, order.id],
  );
  if (!o?.full || !canTransition(order.status, OrderStatus.REFUNDED)) return;
  const detail = { reason: `refunded in full (after-sale case ${c.refund_id})` };
  await transitionOrders(tx, [order], OrderStatus.REFUNDED, { source, detail });
  await carryToChildren(tx, [order.id], OrderStatus.REFUNDED, { source, detail });
}

/**
 * New orders of a batch (order-gateway.ts, in its transaction): cases that waited for them are attached, their
 * lines matched and their effects applied. Historical orders (a CSV backfill) get their cases without stock.
 */
export async function attachWaitingReturns(
  ctx: RequestContext,
  tx: EntityManager,
  channel: Channel,
  externalIds: string[],
  historical: boolean,
): Promise<void> {
  if (externalIds.length === 0) return;
  await lockOrderKeys(tx, channel.id, externalIds);
  const waiting = await tx.execute<(CaseRow & { external_id: string })[]>(
    `select ${CASE_COLUMNS}, external_id from order_return
     where channel_id = ? and order_id is null and external_id in (${externalIds.map(() => '?').join(', ')})
     order by id for update`,
    [channel.id, ...externalIds],
  );
  const attachedTo = new Set<string>();
  for (const c of waiting) {
    const order = await lockOrderByKey(tx, channel, c.external_id);
    if (!order) continue;
    if (c.currency_code !== NO_CURRENCY && order.currency_code !== c.currency_code) {
      // The order cannot be refused for its case: the case stays waiting, unapplied, and says why (its later
      // records are refused at the door, as a first record in the wrong currency is).
      const refused = new RefundCurrencyMismatchError(c.refund_id, c.currency_code, order.currency_code);
      await recordCaseChange(tx, c, c.status, 'system', null, {
        notAttachedTo: order.id,
        code: refused.code,
        reason: refused.message,
      });
      ctx.logger.warn(
        { channel: channel.code, returnId: c.id, orderId: order.id },
        'an after-sale case was not attached to its order: not in the order’s currency',
      );
      continue;
    }
    attachedTo.add(order.id);
    // A case that named no money yet (a Shopify return) takes its order's currency.
    c.currency_code = order.currency_code;
    await tx.execute(
      `update order_return set order_id = ?, currency_code = ?, updated_at = now() where id = ?`,
      [order.id, order.currency_code, c.id],
    );
    await recordCaseChange(tx, c, c.status, 'system', order, { attachedTo: order.id });
    await applyEffects(ctx, tx, c.id, order, channel.code, historical);
  }
  // The gateway judged these orders before their cases were attached; history is not judged.
  if (!historical) await evaluateRefundRisk(tx, [...attachedTo]);
}

/**
 * Inspected returned units of a case go into stock (OPS/ADMIN): released from quarantine line by line, each a
 * stock movement. More than the case holds in quarantine is NOT_ENOUGH_QUARANTINED, and nothing moves.
 */
export async function acceptReturnedStock(
  ctx: RequestContext,
  returnId: string,
  quantity: number,
): Promise<Return> {
  requirePrincipal(ctx);
  const id = parseId(returnId, 'returnId');
  if (!Number.isInteger(quantity) || quantity < 1)
    throw new BadUserInputError('quantity must be a whole number of at least 1.', 'quantity');
  await inTransaction(ctx, async (tx) => {
    const [c] = await tx.execute<{ id: string; channel_code: string; order_id: string | null }[]>(
      `select r.id, ch.code as channel_code, r.order_id from order_return r join channel ch on ch.id = r.channel_id
       where r.id = ? for update of r`,
      [id],
    );
    if (!c) throw new NotFoundError('Return', id);
    assertChannelAccess(ctx, c.channel_code);
    const lines = await tx.execute<{ id: string; quarantined: number; product_id: string }[]>(
      `select rl.id, rl.quarantined, ol.product_id from order_return_line rl
       join order_line ol on ol.id = rl.order_line_id
       where rl.return_id = ? and rl.quarantined > 0 and ol.product_id is not null order by rl.line_no`,
      [id],
    );
    const held = lines.reduce((sum, l) => sum + l.quarantined, 0);
    if (held < quantity) throw new NotEnoughQuarantinedError(id, quantity, held);
    let left = quantity;
    for (const l of lines) {
      const units = Math.min(left, l.quarantined);
      if (units === 0) break;
      left -= units;
      if (!(await acceptQuarantined(tx, l.product_id, units, actorOf(ctx), c.order_id)))
        throw new NotEnoughQuarantinedError(id, quantity, held);
      await tx.execute(
        `update order_return_line set quarantined = quarantined - ?, restocked = restocked + ?, updated_at = now()
         where id = ?`,
        [units, units, l.id],
      );
    }
    await evaluateStockLevels(
      tx,
      lines.map((l) => l.product_id),
      ctx.hub.settings,
    );
  });
  return ctx.em.findOneOrFail(Return, { id }, { refresh: true });
}

/** Whether a product's returned units wait in quarantine for inspection before going back into stock. */
export async function setInspectReturns(
  ctx: RequestContext,
  productCode: string,
  inspect: boolean,
): Promise<Product> {
  requirePrincipal(ctx);
  const product = await ctx.em.findOne(Product, { productCode });
  if (!product) throw new NotFoundError('Product', productCode);
  product.inspectReturns = inspect;
  await ctx.em.flush();
  return product;
}

// ---------------------------------------------------------------------------
// Reading: one case, or a page of them (newest request first).
// ---------------------------------------------------------------------------

/** A case, or null; a channel key asking for another channel's case is FORBIDDEN, as for orders. */
export async function findReturn(ctx: RequestContext, id: string): Promise<Return | null> {
  const found = await ctx.em.findOne(Return, { id: parseId(id) }, { populate: ['channel'] });
  if (found) assertChannelAccess(ctx, found.channel.code);
  return found;
}

export interface ReturnPage {
  edges: { cursor: string; node: Return }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const MAX_PAGE = 200;

/** Cases by channel, status and order, newest request first; `after` is the endCursor of the page before. */
export async function listReturns(
  ctx: RequestContext,
  args: {
    channelCode: string | null;
    status: RefundStatus | null;
    orderId: string | null;
    first: number | null;
    after: string | null;
  },
): Promise<ReturnPage> {
  const limit = pageSize(args.first, 50, MAX_PAGE);
  const scope = channelScope(ctx);
  if (args.channelCode) assertChannelAccess(ctx, args.channelCode);
  const channelCode = args.channelCode ?? scope;
  const where: FilterQuery<Return> = {
    ...(channelCode ? { channel: { code: channelCode } } : {}),
    ...(args.status ? { status: args.status } : {}),
    ...(args.orderId ? { order: parseId(args.orderId, 'orderId') } : {}),
  };
  if (args.after) {
    const { requestedAt, id } = decodeReturnCursor(args.after);
    Object.assign(where, {
      $or: [{ requestedAt: { $lt: requestedAt } }, { requestedAt, id: { $lt: id } }],
    });
  }
  const rows = await ctx.em.find(Return, where, {
    orderBy: { requestedAt: 'desc', id: 'desc' },
    limit: limit + 1,
  });
  const edges = rows.slice(0, limit).map((node) => ({ cursor: encodeReturnCursor(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}

function encodeReturnCursor(r: Return): string {
  return Buffer.from(JSON.stringify({ t: r.requestedAt.toISOString(), id: r.id })).toString('base64url');
}

function decodeReturnCursor(raw: string): { requestedAt: Date; id: string } {
  try {
    const { t, id } = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { t: string; id: string };
    const requestedAt = new Date(t);
    if (Number.isNaN(requestedAt.getTime())) throw new Error('bad time');
    return { requestedAt, id: parseId(id, 'after') };
  } catch {
    throw new BadUserInputError('after is not a cursor of this list.', 'after');
  }
}
