import { canonicalFromLoggedCsv } from '../connectors/csv.js';
import { IngestOutcome, IngestSource, OrderOrigin } from '../common/enums.js';
import { IngestLog } from '../entities/index.js';
import { requireChannelByCode } from './channels.js';
import type { RequestContext } from './context.js';
import { logFailed } from './ingest-log.js';
import { ingestCanonical, ingestRaw } from './order-gateway.js';
import { ingestRefundRaw, isCsvRefund, isRefundBody } from './returns.js';

/** Re-runs stored payloads that failed or were never finished; returns how each went. */
export async function replayIngestLog(
  ctx: RequestContext,
  filter: { failedOnly: boolean; channelCode?: string | null; limit: number },
): Promise<{ replayed: number; succeeded: number; failed: number }> {
  const rows = await ctx.em.find(
    IngestLog,
    {
      outcome: filter.failedOnly
        ? IngestOutcome.FAILED
        : { $in: [IngestOutcome.FAILED, IngestOutcome.RECEIVED] },
      ...(filter.channelCode ? { channelCode: filter.channelCode } : {}),
    },
    { orderBy: { id: 'asc' }, limit: filter.limit },
  );
  let succeeded = 0;
  for (const row of rows) {
    try {
      const channel = await requireChannelByCode(ctx.em, row.channelCode);
      if (row.source === IngestSource.CSV && isCsvRefund(row.rawBody)) {
        await ingestRefundRaw(ctx, channel, row.source, row.rawBody, row.id);
      } else if (row.source === IngestSource.CSV) {
        // A logged CSV order is its rows, mapped again the way the import mapped them.
        const { order, historical } = canonicalFromLoggedCsv(row.rawBody);
        await ingestCanonical(ctx, channel, order, {
          origin: OrderOrigin.CSV,
          logId: row.id,
          raw: row.rawBody,
          historical,
        });
      } else if (isRefundBody(channel, row.rawBody)) {
        await ingestRefundRaw(ctx, channel, row.source, row.rawBody, row.id);
      } else {
        await ingestRaw(ctx, channel, row.source, row.rawBody, row.id);
      }
      succeeded++;
    } catch (err) {
      await logFailed(ctx.em, row.id, err);
      ctx.logger.warn({ ingestLogId: row.id, err }, 'replay failed');
    }
  }
  return { replayed: rows.length, succeeded, failed: rows.length - succeeded };
}
