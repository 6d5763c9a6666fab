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

/** Writes raw bodies to the ingest log in one statement of their own, before any is processed: nothing received is lost. */
export async function logReceivedMany(
  em: EntityManager,
  channelCode: string,
  source: IngestSource,
  rawBodies: string[],
): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into ingest_log (channel_code, source, raw_body) values ${rawBodies.map(() => '(?, ?, ?)').join(', ')}
     returning id`,
    rawBodies.flatMap((body) => [channelCode, source, body]),
  );
  return rows.map((r) => String(r.id));
}

/** Records why a payload could not be stored, in words safe to show an operator: never the payload's values. */
export async function logFailed(em: EntityManager, logId: string, error: unknown) {
  await em.execute(`update ingest_log set outcome = 'FAILED', error = ?, processed_at = now() where id = ?`, [
    failureMessage(error),
    logId,
  ]);
}

/** A HubError's own message, a database error's code and names (its message holds the row), else a pointer to the log. */
export function failureMessage(error: unknown): string {
  if (error instanceof HubError) return error.message;
  const database = databaseErrorOf(error);
  return database ? describeDatabaseError(database) : 'internal error; see the hub log';
}

/** Records on their log rows how the payloads of a batch went, in the batch's transaction. */
export async function logOutcomes(
  tx: EntityManager,
  logged: { logId: string; outcome: IngestOutcome; externalId: string; orderId: string }[],
): Promise<void> {
  if (logged.length === 0) return;
  await tx.execute(
    `update ingest_log l set outcome = v.outcome, external_id = v.external_id, order_id = v.order_id::uuid,
       error = null, processed_at = now()
     from (values ${logged.map(() => '(?::bigint, ?, ?, ?)').join(', ')}) as v(id, outcome, external_id, order_id)
     where l.id = v.id`,
    logged.flatMap((l) => [l.logId, l.outcome, l.externalId, l.orderId]),
  );
}
