import { createClient, type Client } from 'graphql-ws';

export interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

/** An answer with errors: the codes say whether the key was refused. */
export class HubRequestError extends Error {
  constructor(readonly errors: GraphQLError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
  get keyRefused(): boolean {
    return this.errors.some((e) => ['UNAUTHENTICATED', 'FORBIDDEN'].includes(e.extensions?.code ?? ''));
  }
}

/** One operation over HTTP POST /graphql with the key as a bearer token. */
export async function gql<T>(
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: GraphQLError[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new HubRequestError([{ message: `the hub answered ${response.status}` }]);
  }
  if (body.errors?.length) throw new HubRequestError(body.errors);
  return body.data as T;
}

export interface LiveHandlers {
  /** The socket is (again) acknowledged; `again` after a lost connection. */
  connected(again: boolean): void;
  /** The socket closed and the client is trying again. */
  reconnecting(): void;
  /** The hub refused the key (closed 4403 or 4401): no more attempts. */
  refused(): void;
}

/** A graphql-ws client that keeps trying while the hub is away, and says when it is up or down. */
export function liveClient(key: string, handlers: LiveHandlers): Client {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  let everConnected = false;
  return createClient({
    url,
    connectionParams: { Authorization: `Bearer ${key}` },
    lazy: false,
    retryAttempts: Infinity,
    // Up to 2 s between attempts: a restarted hub is seen back soon, a down one is not hammered.
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 2000))),
    shouldRetry: (event) => !isRefusal(event),
    on: {
      connected: () => {
        handlers.connected(everConnected);
        everConnected = true;
      },
      closed: (event) => (isRefusal(event) ? handlers.refused() : handlers.reconnecting()),
    },
    onNonLazyError: () => undefined,
  });
}

function isRefusal(event: unknown): boolean {
  const code = (event as { code?: number } | null)?.code;
  return code === 4401 || code === 4403;
}

/**
 * Subscribes and hands each result's data to `next`; answers the function that ends it. `ended` hears of a
 * subscription the hub ended with an error (SUBSCRIBER_FELL_BEHIND, say).
 */
export function subscribe<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  next: (data: T) => void,
  ended: (error: unknown) => void = (error) => console.warn('board: subscription ended', error),
): () => void {
  return client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.data) next(result.data as T);
      },
      error: ended,
      complete: () => undefined,
    },
  );
}
