import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'order-hub' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
