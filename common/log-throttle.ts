import type { Logger } from 'pino';

/**
 * One warning at most every `intervalMs`, saying how many were left out since: a flood of bad
 * input must not become a flood of log lines.
 */
export class ThrottledWarning {
  private last = -Infinity;
  private leftOut = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
  ) {}

  warn(fields: Record<string, unknown> = {}): void {
    const now = performance.now();
    if (now - this.last < this.intervalMs) {
      this.leftOut++;
      return;
    }
    this.logger.warn({ ...fields, leftOut: this.leftOut }, this.message);
    this.last = now;
    this.leftOut = 0;
  }
}
