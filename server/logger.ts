import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'order-hub' }, timestamp: pino.stdTimeFunctions.isoTime });
}
