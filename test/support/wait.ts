import { vi } from 'vitest';

/**
 * Polls `check` (vi.waitFor, every 10 ms) until it answers true; fails naming `what` after `ms`.
 * A check that throws is tried again; the last error is what a timeout reports. The deadline is a
 * safety net, not a speed limit: a passing test waits only as long as it needs, and a busy
 * two-core machine (another suite beside this one) must not fail it.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 60_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 10 },
  );
}
