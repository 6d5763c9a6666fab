import type { Client } from 'graphql-ws';

// Shared by the tests and the benchmarks: nothing here imports vitest.

/** Subscribes `query` (an orderStatusChanged selecting `seq`) on `client`: each event's seq to `next`, errors to `errors`. */
export function followSeqs(
  client: Client,
  query: string,
  next: (seq: number) => void,
  errors: unknown[],
): void {
  client.subscribe<{ orderStatusChanged: { seq: string } }>(
    { query },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) next(Number(value.data.orderStatusChanged.seq));
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
}
