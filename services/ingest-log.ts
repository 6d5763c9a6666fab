import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { IngestOutcome, IngestSource } from '../common/enums.js';
import { databaseErrorOf, describeDatabaseError } from '../common/database-errors.js';
import { HubError } from '../common/errors.js';

/**
 * The ingest log: every raw body a channel sends is written here first, in a statement
 * of its own, so nothing received is lost; each row then records how its payload went
 * (created, updated, duplicate, or failed and why), and replay.ts runs the failed and
 * unfinished ones again.
 */

/** How a body stands in the ingest log. */
export interface LoggedBody {
  logId: string;
  /** The same bytes were stored before and came to an order: answer it, do no work. */
  orderId: string | null;
  /** The same, for a refund body: the after-sale case it came to. */
  returnId: string | null;
}

/** Outcomes after which a body needs no more work. */
const FINISHED = `('CREATED', 'UPDATED', 'DUPLICATE')`;

export function bodyHash(rawBody: string): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/**
 * Writes raw bodies to the ingest log in one statement of their own, before any is processed:
 * nothing received is lost. A body the channel sent before (the same bytes) gets no new row:
 * its row is answered, with its order when it was stored, so a flood of replays fills no disk.
 */
export async function logReceivedMany(
  em: EntityManager,
  channelCode: string,
  source: IngestSource,
  rawBodies: string[],
): Promise<LoggedBody[]> {
  const hashes = rawBodies.map(bodyHash);
  const unique = new Map<string, string>();
  rawBodies.forEach((body, i) => unique.has(hashes[i]) || unique.set(hashes[i], body));
  const inserted = await em.execute<{ id: string; body_sha256: string }[]>(
    `insert into ingest_log (channel_code, source, raw_body, body_sha256)
     values ${[...unique.keys()].map(() => '(?, ?, ?, ?)').join(', ')}
     on conflict (channel_code, body_sha256) do nothing
     returning id, body_sha256`,
    [...unique].flatMap(([hash, body]) => [channelCode, source, body, hash]),
  );
  const logged = new Map<string, LoggedBody>(
    inserted.map((r) => [r.body_sha256, { logId: String(r.id), orderId: null, returnId: null }]),
  );
  const seen = [...unique.keys()].filter((hash) => !logged.has(hash));
  if (seen.length > 0) {
    const rows = await em.execute<
      { id: string; body_sha256: string; order_id: string | null; return_id: string | null }[]
    >(
      `select id, body_sha256, case when outcome in ${FINISHED} then order_id end as order_id,
         case when outcome in ${FINISHED} then return_id end as return_id
       from ingest_log where channel_code = ? and body_sha256 in (${seen.map(() => '?').join(', ')})`,
      [channelCode, ...seen],
    );
    for (const r of rows)
      logged.set(r.body_sha256, { logId: String(r.id), orderId: r.order_id, returnId: r.return_id });
  }
  return hashes.map((hash) => logged.get(hash)!);
}

/** Records why a payload could not be stored, in words safe to show an operator: never the payload's values. */
export async function logFailed(em: EntityManager, logId: string, error: unknown) {
  await em.execute(
    `update ingest_log set outcome = 'FAILED', error = ?, processed_at = now()
     where id = ? and outcome not in ${FINISHED}`,
    [failureMessage(error), logId],
  );
}

/** A HubError's own message, a database error's code and names (its message holds the row), else a pointer to the log. */
export function failureMessage(error: unknown): string {
  if (error instanceof HubError) return error.message;
  const database = databaseErrorOf(error);
  return database ? describeDatabaseError(database) : 'internal error; see the hub log';
}

/**
 * Records on their log rows how the payloads of a batch went, in the batch's transaction. A row
 * already finished keeps its outcome: the same body delivered twice at once runs twice, and the
 * second run (a DUPLICATE) must not hide that the first created the order.
 */
export async function logOutcomes(
  tx: EntityManager,
  logged: { logId: string; outcome: IngestOutcome; externalId: string; orderId: string }[],
): Promise<void> {
  if (logged.length === 0) return;
  await tx.execute(
    `update ingest_log l set outcome = v.outcome, external_id = v.external_id, order_id = v.order_id::uuid,
       error = null, processed_at = now()
     from (values ${logged.map(() => '(?::bigint, ?, ?, ?)').join(', ')}) as v(id, outcome, external_id, order_id)
     where l.id = v.id and l.outcome not in ${FINISHED}`,
    logged.flatMap((l) => [l.logId, l.outcome, l.externalId, l.orderId]),
  );
}

/** Records how a refund body went on its log row, in the transaction that stored its case (as logOutcomes). */
export async function logRefundOutcome(
  tx: EntityManager,
  logged: { logId: string; outcome: IngestOutcome; externalId: string; returnId: string },
): Promise<void> {
  await tx.execute(
    `update ingest_log set outcome = ?, external_id = ?, return_id = ?, error = null, processed_at = now()
     where id = ? and outcome not in ${FINISHED}`,
    [logged.outcome, logged.externalId, logged.returnId, logged.logId],
  );
}

/** The order a delivery the platform sent before (by its delivery id) came to; null when new. */
export async function deliveredBefore(
  em: EntityManager,
  channelId: string,
  deliveryId: string,
): Promise<string | null> {
  const [row] = await em.execute<{ order_id: string }[]>(
    'select order_id from webhook_delivery where channel_id = ? and delivery_id = ?',
    [channelId, deliveryId],
  );
  return row?.order_id ?? null;
}

/** Records the platform's delivery ids of a batch with their orders, in the batch's transaction. */
export async function recordDeliveries(
  tx: EntityManager,
  channelId: string,
  deliveries: { deliveryId: string; orderId: string }[],
): Promise<void> {
  const once = new Map(deliveries.map((d) => [d.deliveryId, d.orderId]));
  if (once.size === 0) return;
  await tx.execute(
    `insert into webhook_delivery (channel_id, delivery_id, order_id)
     values ${[...once].map(() => '(?, ?, ?)').join(', ')}
     on conflict (channel_id, delivery_id) do nothing`,
    [...once].flatMap(([deliveryId, orderId]) => [channelId, deliveryId, orderId]),
  );
}
