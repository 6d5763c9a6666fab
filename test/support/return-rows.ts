import type { EntityManager } from '@mikro-orm/postgresql';
import type { RefundKind, RefundReasonClass, RefundResponsible, RefundStatus } from '../../common/enums.js';

export interface ReturnRow {
  /** The order the case is attached to (a sale or one of its sub-orders); its channel and externalId are the case's. */
  orderId: string;
  refundId: string;
  kind: RefundKind;
  status: RefundStatus;
  refundAmount: string;
  currency?: string;
  reasonClass: RefundReasonClass;
  responsible: RefundResponsible;
  /** Null: the platform did not say. */
  goodsReturned?: boolean | null;
  requestedAt: string;
  receivedAt?: string;
  refundedAt?: string;
  /** The order's lines the case covers, by line number; quantity null or left out: the whole line. */
  lines?: { lineNo: number; quantity?: number | null }[];
}

/**
 * One after-sale case and its lines, matched to the order's lines, written straight with SQL: the reports are
 * tested apart from the service that stores cases. Order.refundedAmount and OrderLine.refundedQuantity, which
 * the reports do not read, are left as they are.
 */
export async function insertReturn(em: EntityManager, row: ReturnRow): Promise<string> {
  const [stored] = await em.execute<{ id: string }[]>(
    `insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
       goods_returned, refund_amount, currency_code, reason_class, responsible, requested_at, platform_updated_at,
       received_at, refunded_at)
     select o.channel_id, ?, o.external_id, o.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
     from "order" o where o.id = ?
     returning id`,
    [
      row.refundId,
      row.kind,
      row.status,
      row.status,
      row.goodsReturned ?? null,
      row.refundAmount,
      row.currency ?? 'CNY',
      row.reasonClass,
      row.responsible,
      row.requestedAt,
      row.refundedAt ?? row.receivedAt ?? row.requestedAt,
      row.receivedAt ?? null,
      row.refundedAt ?? null,
      row.orderId,
    ],
  );
  if (!stored) throw new Error(`No order ${row.orderId} to attach refund ${row.refundId} to.`);
  for (const [i, line] of (row.lines ?? []).entries()) {
    const added = await em.execute<{ id: string }[]>(
      `insert into order_return_line (return_id, line_no, order_line_id, product_code, quantity)
       select ?, ?, l.id, l.product_code, ? from order_line l where l.order_id = ? and l.line_no = ?
       returning id`,
      [stored.id, i + 1, line.quantity ?? null, row.orderId, line.lineNo],
    );
    if (added.length === 0) throw new Error(`Order ${row.orderId} has no line ${line.lineNo}.`);
  }
  return stored.id;
}
