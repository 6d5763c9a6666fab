// Every request the demo makes, to the one hub it was given, at most `concurrency` at a time.

/** A failure the user can act on, printed as it is (no stack). */
export class DemoError extends Error {}

/** The hub does not answer at all: nothing more can be done against it. */
export class HubUnreachable extends DemoError {}

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

/** At most `limit` tasks run at once; the rest wait in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Tasks started or waiting to start. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export interface HubClientOptions {
  /** The hub's base URL, e.g. http://127.0.0.1:4000 (a trailing /graphql is taken off). */
  url: string;
  key: string;
  concurrency: number;
}

/** A busy hub (503) is asked again this many times, as a platform would. */
const BUSY_RETRIES = 3;

export class HubClient {
  readonly base: string;
  private readonly limiter: Limiter;

  constructor(private readonly options: HubClientOptions) {
    this.base = options.url.replace(/\/+$/, '').replace(/\/graphql$/, '');
    this.limiter = new Limiter(options.concurrency);
  }

  /** Requests under way or waiting for a slot. */
  get pending(): number {
    return this.limiter.pending;
  }

  /** Runs one operation with the key; its data, or a DemoError naming the operation and the hub's reason. */
  async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await this.post('/graphql', JSON.stringify({ query, variables }), {
      'content-type': 'application/json',
      authorization: `Bearer ${this.options.key}`,
    });
    let body: { data?: T; errors?: GraphQLError[] };
    try {
      body = JSON.parse(response.text) as typeof body;
    } catch {
      throw new DemoError(
        `${this.base}/graphql answered ${response.status} with no GraphQL reply: is it the hub?`,
      );
    }
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code === 'UNAUTHENTICATED')
        throw new DemoError(`The hub refused the key (UNAUTHENTICATED): pass its HUB_ADMIN_KEY with --key.`);
      if (code === 'FORBIDDEN')
        throw new DemoError(
          `The key may not do this (FORBIDDEN): the demo sets up channels, which takes an ADMIN key.`,
        );
      const operation = /\{\s*(\w+)/.exec(query)?.[1] ?? 'request';
      throw new DemoError(`${operation}: ${error.message}${code ? ` (${code})` : ''}`);
    }
    return body.data as T;
  }

  /** POSTs a signed body to a webhook door; the status and the parsed reply. Retries while the hub is busy. */
  async webhook(path: string, body: string, headers: Record<string, string>) {
    for (let attempt = 0; ; attempt++) {
      const response = await this.post(path, body, headers);
      if (response.status !== 503 || attempt === BUSY_RETRIES) {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(response.text) as Record<string, unknown>;
        } catch {
          parsed = { error: response.text };
        }
        return { status: response.status, body: parsed };
      }
      const wait = Number(response.retryAfter ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5) * 1000));
    }
  }

  private post(path: string, body: string, headers: Record<string, string>) {
    return this.limiter.run(async () => {
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, { method: 'POST', headers, body });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new HubUnreachable(
          `Cannot reach the hub at ${this.base} (${cause?.code ?? cause?.message ?? (err as Error).message}). ` +
            'Start it first (npm start) or pass its address with --url.',
        );
      }
      return {
        status: response.status,
        text: await response.text(),
        retryAfter: response.headers.get('retry-after'),
      };
    });
  }
}
