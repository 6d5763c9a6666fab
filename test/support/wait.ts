import { vi } from 'vitest';

/**
 * Polls `check` (vi.waitFor, every 10 ms) until it answers true; fails naming `what` after `ms`.
 * A check that throws is tried again; the last error is what a timeout reports.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 10 },
  );
}
