import CircuitBreaker from 'opossum';
import { request as undiciRequest } from 'undici';
import { parseJsonKeepingBigIds } from '../common/json.js';

/**
 * The hub's HTTP client for the platforms' APIs (order polling, and any other call the hub makes to a platform):
 * a deadline on each attempt, retries with backoff while a failure is worth retrying, and one circuit breaker
 * per key (a channel's id, say). It knows nothing of orders: the caller says what one attempt is.
 */

export interface PlatformClientSettings {
  /** One HTTP attempt, headers and body, may take this long (POLL_TIMEOUT_MS). */
  timeoutMs: number;
  /** Attempts after the first for timeouts, network errors, 5xx, 408 and 429 (POLL_RETRIES). */
  retries: number;
  /** Exponential backoff between attempts: base × 2^n, capped, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  breaker: {
    /** How long an open breaker fails fast before it lets one trial request through. */
    resetTimeoutMs: number;
    /** Opens when more than this percentage of the attempts in the window failed… */
    errorThresholdPercentage: number;
    /** …and the window holds at least this many attempts. */
    volumeThreshold: number;
    rollingWindowMs: number;
  };
}

export const DEFAULT_CLIENT_SETTINGS: PlatformClientSettings = {
  timeoutMs: 10_000,
  retries: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  breaker: {
    resetTimeoutMs: 30_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    rollingWindowMs: 60_000,
  },
};

export type PlatformClientOptions = Partial<Omit<PlatformClientSettings, 'breaker'>> & {
  breaker?: Partial<PlatformClientSettings['breaker']>;
  /** The time the client reads and waits on; the system's by default. */
  clock?: Clock;
};

function clientSettings(options: PlatformClientOptions = {}): PlatformClientSettings {
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_CLIENT_SETTINGS.timeoutMs,
    retries: options.retries ?? DEFAULT_CLIENT_SETTINGS.retries,
    backoffBaseMs: options.backoffBaseMs ?? DEFAULT_CLIENT_SETTINGS.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs ?? DEFAULT_CLIENT_SETTINGS.backoffMaxMs,
    breaker: { ...DEFAULT_CLIENT_SETTINGS.breaker, ...options.breaker },
  };
}

/**
 * Where the client's time comes from: the deadline of each attempt, the backoff between attempts and the
 * latency it reports. The breaker's reset timeout is opossum's own timer.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale: only differences mean something. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A signal that aborts with a TimeoutError after `ms`. */
  timeout(ms: number): AbortSignal;
}

/** The system's time, on the global timers (so vitest's fake timers drive it too). */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  timeout: (ms) => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`No reply within ${ms} ms.`, 'TimeoutError')),
      ms,
    );
    // As with AbortSignal.timeout, a pending deadline does not keep the process alive.
    timer.unref();
    return controller.signal;
  },
};

export type RequestFailure = 'timeout' | 'network' | 'http' | 'protocol' | 'breaker-open' | 'aborted';

/** A call to a platform that did not give a usable answer. */
export class PlatformRequestError extends Error {
  override name = 'PlatformRequestError';
  constructor(
    readonly kind: RequestFailure,
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth another attempt: the platform may answer next time. A 4xx other than 408/429 will not change. */
  get retryable(): boolean {
    if (this.kind === 'timeout' || this.kind === 'network') return true;
    if (this.kind !== 'http' || this.status === null) return false;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /** Our own request was refused (or we stopped): says nothing about the platform being down. */
  get isCallerSide(): boolean {
    return this.kind === 'aborted' || (this.kind === 'http' && !this.retryable);
  }
}

const stopped = () => new PlatformRequestError('aborted', 'The request was stopped.');

export interface CallResult<T> {
  value: T;
  /** 1 when the first attempt succeeded. */
  attempts: number;
  /** Of the attempt that succeeded. */
  latencyMs: number;
}

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/**
 * One attempt: it gets a signal that aborts at its deadline or when the caller stops, and should stop its
 * request then; the call gives up on it at that moment all the same.
 */
export type Attempt<T> = (signal: AbortSignal) => Promise<T>;

/**
 * A hub's connections to the platforms: one circuit breaker per key, created on first use and kept for the
 * life of the hub, so every call with that key shares its failure record.
 */
export class PlatformClients {
  readonly settings: PlatformClientSettings;
  private readonly clock: Clock;
  private readonly breakers = new Map<string, CircuitBreaker<[() => Promise<unknown>], unknown>>();

  constructor(options: PlatformClientOptions = {}) {
    this.settings = clientSettings(options);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs `attempt` through the key's breaker, again after a backoff while it fails in a way worth retrying;
   * an open breaker fails at once. Throws PlatformRequestError.
   */
  async call<T>(key: string, attempt: Attempt<T>, signal?: AbortSignal): Promise<CallResult<T>> {
    const breaker = this.breakerFor(key);
    for (let n = 0; ; n++) {
      if (signal?.aborted) throw stopped();
      const started = this.clock.now();
      try {
        const value = (await breaker.fire(() => this.attemptOnce(attempt, signal))) as T;
        return { value, attempts: n + 1, latencyMs: Math.round(this.clock.now() - started) };
      } catch (err) {
        const failure = asRequestError(err);
        if (!failure.retryable || n >= this.settings.retries) throw failure;
        try {
          await this.clock.sleep(this.backoffMs(n), signal);
        } catch {
          throw stopped();
        }
      }
    }
  }

  /** CLOSED, OPEN or HALF_OPEN; CLOSED for a key not called yet. */
  breakerState(key: string): BreakerState {
    const breaker = this.breakers.get(key);
    if (!breaker || breaker.closed) return 'CLOSED';
    return breaker.halfOpen ? 'HALF_OPEN' : 'OPEN';
  }

  /** Stops every breaker's timers; a call in flight fails at its next attempt. */
  close(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }

  /**
   * Equal jitter on an exponential step: half the step for sure, so retries keep backing off, and a random
   * part of the other half, which spreads the retries of many hubs.
   */
  private backoffMs(n: number): number {
    const step = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** n);
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  /** One attempt under its deadline; its failure as the breaker should count it. */
  private async attemptOnce<T>(attempt: Attempt<T>, signal: AbortSignal | undefined): Promise<T> {
    const { timeoutMs } = this.settings;
    const deadline = this.clock.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([deadline, signal]) : deadline;
    let onAbort = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      onAbort = () => reject(both.reason);
      both.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([attempt(both), abandoned]);
    } catch (err) {
      if (deadline.aborted) {
        throw new PlatformRequestError('timeout', `No complete reply within ${timeoutMs} ms.`, null, {
          cause: err,
        });
      }
      if (signal?.aborted) throw stopped();
      throw asRequestError(err);
    } finally {
      both.removeEventListener('abort', onAbort);
    }
  }

  private breakerFor(key: string): CircuitBreaker<[() => Promise<unknown>], unknown> {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const b = this.settings.breaker;
      breaker = new CircuitBreaker((run: () => Promise<unknown>) => run(), {
        name: key,
        // Each attempt has its own deadline, which also stops the request; the breaker's would not.
        timeout: false,
        resetTimeout: b.resetTimeoutMs,
        errorThresholdPercentage: b.errorThresholdPercentage,
        volumeThreshold: b.volumeThreshold,
        rollingCountTimeout: b.rollingWindowMs,
        rollingPercentilesEnabled: false,
        // A refused request (401, 404…) or our own stop is no sign that the platform is down.
        errorFilter: (err: unknown) => err instanceof PlatformRequestError && err.isCallerSide,
      });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}

function asRequestError(err: unknown): PlatformRequestError {
  if (err instanceof PlatformRequestError) return err;
  if (err instanceof Error && CircuitBreaker.isOurError(err)) {
    const code = (err as Error & { code?: string }).code;
    return new PlatformRequestError(
      'breaker-open',
      code === 'ESHUTDOWN'
        ? 'The platform client is shut down.'
        : 'The circuit breaker is open after repeated failures; requests fail fast until it lets a trial through.',
    );
  }
  return new PlatformRequestError('network', `The request failed: ${(err as Error).message}`, null, {
    cause: err,
  });
}

export interface HttpRequest {
  url: string;
  init?: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
}

/**
 * One HTTP request whose reply must be a 2xx: its body as text. The body is read under the same signal: a reply
 * that stalls halfway times out too. Sent with undici's `request`, not `fetch`: the stock sync makes dozens of
 * calls a second beside the order path, and `fetch` took several times the CPU per call. Redirects are not
 * followed: a platform gateway answers where it is asked.
 */
export async function fetchText(request: HttpRequest, signal: AbortSignal): Promise<string> {
  let text: string;
  let status: number;
  try {
    const response = await undiciRequest(request.url, { ...request.init, signal });
    status = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    // `call` tells a deadline from a stop.
    if (signal.aborted) throw err;
    const { code, cause } = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const detail =
      (code?.startsWith('UND_') ? null : code) ?? cause?.code ?? cause?.message ?? (err as Error).message;
    throw new PlatformRequestError('network', `The platform could not be reached (${detail}).`, null, {
      cause: err,
    });
  }
  if (status < 200 || status > 299) {
    throw new PlatformRequestError('http', `The platform answered HTTP ${status}.`, status);
  }
  return text;
}

/**
 * One HTTP request whose reply must be a 2xx with a JSON body: an attempt for `call`, which gives it the signal.
 * An integer beyond 2^53 comes back as its digits (a string): the platforms' ids are that big.
 */
export async function fetchJson(request: HttpRequest, signal: AbortSignal): Promise<unknown> {
  const text = await fetchText(request, signal);
  try {
    return parseJsonKeepingBigIds(text);
  } catch {
    throw new PlatformRequestError('protocol', 'The platform answered with a body that is not JSON.');
  }
}
