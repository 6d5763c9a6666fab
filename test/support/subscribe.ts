import type { Client } from 'graphql-ws';
import { expect } from 'vitest';
import { waitFor } from './wait.js';

export interface Feed<T> {
  events: T[];
  errors: unknown[];
  /** Resolves with the first `n` events once they arrived. */
  take(n: number): Promise<T[]>;
  stop(): void;
}

/** Subscribes on `client` and collects what arrives under `field`. */
export function feed<T>(
  client: Client,
  query: string,
  field: string,
  variables: Record<string, unknown>,
): Feed<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) events.push(value.data[field]);
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
  return {
    events,
    errors,
    async take(n) {
      await waitFor(() => events.length >= n || errors.length > 0, `${n} ${field} event(s)`);
      expect(errors).toEqual([]);
      return events.slice(0, n);
    },
    stop,
  };
}
