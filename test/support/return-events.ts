import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  OrderEventType,
  RefundKind,
  RefundReasonClass,
  RefundResponsible,
  RefundStatus,
  type OrderStatus,
} from '../../common/enums.js';
import type { ReturnUpdateDetail } from '../../common/order-event-details.js';
import { recordOrderEvents } from '../../services/order-transitions.js';

/**
 * After-sale cases as the returns service leaves them, without it: each change writes the order_return row
 * and the order's RETURN_UPDATED entry (recordOrderEvents) in one transaction, so notification tests depend
 * only on what that service promises to write.
 */

export interface NewCase {
  orderId: string;
  refundId: string;
  kind?: RefundKind;
  status?: RefundStatus;
  platformStatus?: string;
  refundAmount?: string;
  currencyCode?: string;
  reasonClass?: RefundReasonClass;
  responsible?: RefundResponsible;
  requestedAt?: Date;
}

export interface CaseChange {
  status: RefundStatus;
  platformStatus?: string;
  refundAmount?: string;
  returnTrackingNumber?: string | null;
  refundedAt?: Date | null;
}

interface CaseRow {
  id: string;
  refund_id: string;
  kind: RefundKind;
  status: RefundStatus;
  platform_status: string;
  refund_amount: string;
  currency_code: string;
  order_id: string;
  order_status: OrderStatus;
  channel_code: string;
}

const CASE = `r.id, r.refund_id, r.kind, r.status, r.platform_status, r.refund_amount::text as refund_amount,
  r.currency_code, r.order_id, o.status as order_status, c.code as channel_code`;

/** Stores a case of the order (REQUESTED unless told) with its first RETURN_UPDATED entry; answers its id. */
export async function openCase(orm: MikroORM, input: NewCase): Promise<string> {
  return orm.em.fork().transactional(async (tx) => {
    const [row] = await tx.execute<CaseRow[]>(
      `with made as (
         insert into order_return (channel_id, refund_id, external_id, order_id, kind, status, platform_status,
                                   refund_amount, currency_code, reason_class, responsible, requested_at,
                                   platform_updated_at)
         select o.channel_id, ?, o.external_id, o.id, ?, ?, ?, ?, ?, ?, ?, ?, ?
           from "order" o where o.id = ?
         returning *)
       select ${CASE} from made r join "order" o on o.id = r.order_id join channel c on c.id = o.channel_id`,
      [
        input.refundId,
        input.kind ?? RefundKind.RETURN_AND_REFUND,
        input.status ?? RefundStatus.REQUESTED,
        input.platformStatus ?? 'WAIT_SELLER_AGREE',
        input.refundAmount ?? '12.50',
        input.currencyCode ?? 'CNY',
        input.reasonClass ?? RefundReasonClass.QUALITY,
        input.responsible ?? RefundResponsible.MERCHANT,
        input.requestedAt ?? new Date(),
        input.requestedAt ?? new Date(),
        input.orderId,
      ],
    );
    if (!row) throw new Error(`No order ${input.orderId} to open a case for.`);
    await recordChange(tx, row, null);
    return row.id;
  });
}

/** Moves a stored case (status, and what else `change` names) with its RETURN_UPDATED entry. */
export async function changeCase(orm: MikroORM, returnId: string, change: CaseChange): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    const [before] = await tx.execute<{ status: RefundStatus }[]>(
      `select status from order_return where id = ? for update`,
      [returnId],
    );
    if (!before) throw new Error(`No case ${returnId}.`);
    const [row] = await tx.execute<CaseRow[]>(
      `with moved as (
         update order_return set status = ?, platform_status = coalesce(?, platform_status),
                refund_amount = coalesce(?::numeric, refund_amount),
                return_tracking_number = case when ? then ? else return_tracking_number end,
                refunded_at = case when ? then ?::timestamptz else refunded_at end,
                platform_updated_at = now(), updated_at = now()
          where id = ?
         returning *)
       select ${CASE} from moved r join "order" o on o.id = r.order_id join channel c on c.id = o.channel_id`,
      [
        change.status,
        change.platformStatus ?? null,
        change.refundAmount ?? null,
        change.returnTrackingNumber !== undefined,
        change.returnTrackingNumber ?? null,
        change.refundedAt !== undefined,
        change.refundedAt ?? null,
        returnId,
      ],
    );
    await recordChange(tx, row, before.status);
  });
}

async function recordChange(tx: EntityManager, row: CaseRow, fromStatus: RefundStatus | null) {
  const detail: ReturnUpdateDetail = {
    returnId: row.id,
    refundId: row.refund_id,
    kind: row.kind,
    fromStatus,
    status: row.status,
    platformStatus: row.platform_status,
    refundAmount: row.refund_amount,
    currencyCode: row.currency_code,
  };
  await recordOrderEvents(tx, OrderEventType.RETURN_UPDATED, [
    {
      orderId: row.order_id,
      channelCode: row.channel_code,
      status: row.order_status,
      source: row.channel_code,
      detail,
    },
  ]);
}
