import { pino, type DestinationStream, type Logger } from 'pino';
import { databaseErrorOf, describeDatabaseError } from '../common/database-errors.js';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'order-hub' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
    },
    destination,
  );
}

/**
 * Errors as pino writes them, except that one PostgreSQL raised is written as its SQL state and
 * names: its message carries the statement with the values inlined, and its detail the row.
 */
function serializeError(error: Error): object {
  const summary = databaseErrorOf(error);
  if (!summary) return pino.stdSerializers.err(error);
  return {
    type: error.name,
    message: describeDatabaseError(summary),
    ...summary,
    // The first line of a stack repeats the message; the frames are safe.
    stack: error.stack
      ?.split('\n')
      .filter((line) => line.trim().startsWith('at '))
      .join('\n'),
  };
}
