import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../common/errors.js';
import type { RequestContext } from '../services/context.js';
import {
  exportOrders,
  parseExportQuery,
  type ExportConnections,
  type ExportFormat,
} from '../services/order-export.js';

const TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/**
 * `GET /exports/orders.csv` and `/exports/orders.ndjson` (ANALYST, OPS and ADMIN keys): the orders the query
 * string's filter matches, streamed. Registered in the scope that identifies callers and counts their requests.
 */
export function registerExports(
  scope: FastifyInstance,
  deps: { pool: ExportConnections; contextOf(request: FastifyRequest): Promise<RequestContext> },
): void {
  for (const format of Object.keys(TYPES) as ExportFormat[]) {
    scope.get(`/exports/orders.${format}`, async (request, reply) => {
      try {
        const ctx = await deps.contextOf(request);
        const query = parseExportQuery(request.query as Record<string, unknown>, format);
        const body = await exportOrders(ctx, deps.pool, query);
        return reply
          .header('content-type', TYPES[format])
          .header(
            'content-disposition',
            `attachment; filename="orders${query.lines ? '-lines' : ''}.${format}"`,
          )
          .header('cache-control', 'no-store')
          .send(body);
      } catch (err) {
        if (!(err instanceof HubError)) throw err;
        return reply
          .code(err.httpStatus)
          .send({ errors: [{ message: err.message, extensions: err.extensions }] });
      }
    });
  }
}
