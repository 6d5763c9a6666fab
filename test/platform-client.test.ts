import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fetchJson,
  PlatformClients,
  PlatformRequestError,
  type Attempt,
  type PlatformClientOptions,
} from '../services/platform-client.js';

/**
 * The platform client's contract: which failures it retries and how long it waits between attempts, the
 * deadline of each attempt, the circuit breaker per key, and stopping. Time is vitest's fake time, which
 * drives the client's clock and the breaker's reset timer alike; the HTTP part runs against a real server.
 */

const clientSets: PlatformClients[] = [];

function clients(options: PlatformClientOptions = {}): PlatformClients {
  const made = new PlatformClients({
    timeoutMs: 1_000,
    retries: 2,
    backoffBaseMs: 100,
    backoffMaxMs: 300,
    ...options,
    breaker: {
      resetTimeoutMs: 5_000,
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
      rollingWindowMs: 60_000,
      ...options.breaker,
    },
  });
  clientSets.push(made);
  return made;
}

const httpError = (status: number) =>
  new PlatformRequestError('http', `The platform answered HTTP ${status}.`, status);

/** An attempt that fails with each of `failures` in turn, then answers 'ok'; it counts its calls. */
function scripted(...failures: Error[]) {
  const attempt = vi.fn<Attempt<string>>(async () => {
    const failure = failures.shift();
    if (failure) throw failure;
    return 'ok';
  });
  return attempt;
}

/** The settled outcome of a promise without letting its rejection go unhandled meanwhile. */
function settle<T>(promise: Promise<T>) {
  const outcome = promise.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as PlatformRequestError }),
  );
  return outcome;
}

afterEach(() => {
  for (const made of clientSets.splice(0)) made.close();
});

describe('call', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it.each([
    ['HTTP 500', httpError(500)],
    ['HTTP 503', httpError(503)],
    ['HTTP 408', httpError(408)],
    ['HTTP 429', httpError(429)],
    ['a timeout', new PlatformRequestError('timeout', 'No complete reply within 1000 ms.')],
    ['a network error', new PlatformRequestError('network', 'The platform could not be reached.')],
    ['any other error of the attempt', new Error('socket hang up')],
  ])('retries after %s', async (_, failure) => {
    const attempt = scripted(failure);
    const result = settle(clients().call('k', attempt));
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toEqual({ value: { value: 'ok', attempts: 2, latencyMs: 0 }, error: undefined });
    expect(attempt).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['HTTP 400', httpError(400)],
    ['HTTP 401', httpError(401)],
    ['HTTP 404', httpError(404)],
    [
      'an unreadable reply',
      new PlatformRequestError('protocol', 'The platform answered with a body that is not JSON.'),
    ],
  ])('does not retry %s', async (_, failure) => {
    const attempt = scripted(failure);
    const { error } = await settle(clients().call('k', attempt));
    expect(error).toBe(failure);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('gives up after its retries, with the last failure', async () => {
    const last = httpError(502);
    const attempt = scripted(httpError(500), httpError(503), last);
    const result = settle(clients({ breaker: { volumeThreshold: 100 } }).call('k', attempt));
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await result).error).toBe(last);
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['half the step', 0, [50, 100, 150, 150]],
    ['the whole step', 0.999_999, [100, 200, 300, 300]],
  ])('backs off exponentially with equal jitter, capped: at least %s', async (_, random, gaps) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const times: number[] = [];
    const attempt: Attempt<string> = async () => {
      times.push(performance.now());
      if (times.length < 5) throw httpError(500);
      return 'ok';
    };
    const result = settle(clients({ retries: 4, breaker: { volumeThreshold: 100 } }).call('k', attempt));
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await result).value).toMatchObject({ value: 'ok', attempts: 5 });
    // Steps of 100, 200, then 400 and 800 capped at backoffMaxMs: 300.
    expect(times.slice(1).map((t, n) => t - times[n])).toEqual(gaps);
  });

  it('gives an attempt up at its deadline, even one that ignores its signal, and reports the latency', async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const attempt: Attempt<string> = (signal) => {
      signals.push(signal);
      // The first never settles; the second answers after 250 ms.
      return ++calls === 1
        ? new Promise<string>(() => {})
        : new Promise<string>((resolve) => setTimeout(() => resolve('late but in time'), 250));
    };
    const result = settle(clients().call('k', attempt));
    await vi.advanceTimersByTimeAsync(999);
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals[0].aborted).toBe(true);
    expect((signals[0].reason as Error).name).toBe('TimeoutError');
    // The backoff, then the second attempt.
    await vi.advanceTimersByTimeAsync(100 + 250);
    expect(await result).toEqual({
      value: { value: 'late but in time', attempts: 2, latencyMs: 250 },
      error: undefined,
    });
  });

  it('opens the breaker of a key after repeated failures, fails fast, then lets one trial through', async () => {
    const client = clients({ retries: 0 });
    const down = () => Promise.reject(httpError(503));
    for (let n = 0; n < 3; n++) {
      expect((await settle(client.call('shop-a', down))).error?.status).toBe(503);
    }
    expect(client.breakerState('shop-a')).toBe('OPEN');
    // Another key has a breaker of its own.
    expect(client.breakerState('shop-b')).toBe('CLOSED');
    expect((await settle(client.call('shop-b', scripted()))).value?.value).toBe('ok');

    // Open: fails at once, without calling the platform.
    const untouched = scripted();
    const { error } = await settle(client.call('shop-a', untouched));
    expect(error).toMatchObject({ kind: 'breaker-open', retryable: false });
    expect(untouched).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(4_999);
    expect(client.breakerState('shop-a')).toBe('OPEN');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.breakerState('shop-a')).toBe('HALF_OPEN');
    // A failed trial opens it again for another reset timeout.
    expect((await settle(client.call('shop-a', down))).error?.status).toBe(503);
    expect(client.breakerState('shop-a')).toBe('OPEN');

    await vi.advanceTimersByTimeAsync(5_000);
    expect(client.breakerState('shop-a')).toBe('HALF_OPEN');
    // One trial at a time: a call while it runs fails fast.
    let answer!: (value: string) => void;
    const trial = settle(client.call('shop-a', () => new Promise<string>((resolve) => (answer = resolve))));
    expect((await settle(client.call('shop-a', untouched))).error?.kind).toBe('breaker-open');
    answer('back');
    expect((await trial).value?.value).toBe('back');
    expect(client.breakerState('shop-a')).toBe('CLOSED');
    expect(untouched).not.toHaveBeenCalled();
  });

  it('does not count refused requests against the platform', async () => {
    const client = clients({ retries: 0, breaker: { volumeThreshold: 1 } });
    for (let n = 0; n < 5; n++) {
      expect((await settle(client.call('k', () => Promise.reject(httpError(401))))).error?.status).toBe(401);
    }
    expect(client.breakerState('k')).toBe('CLOSED');
  });

  it('stops before, during and between attempts; a stop neither retries nor counts as a failure', async () => {
    const client = clients({ breaker: { volumeThreshold: 1 } });

    const before = scripted();
    expect((await settle(client.call('k', before, AbortSignal.abort()))).error?.kind).toBe('aborted');
    expect(before).not.toHaveBeenCalled();

    const during = new AbortController();
    let seen!: AbortSignal;
    const hanging = settle(
      client.call(
        'k',
        (signal) => {
          seen = signal;
          return new Promise<string>(() => {});
        },
        during.signal,
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    during.abort();
    expect((await hanging).error?.kind).toBe('aborted');
    expect(seen.aborted).toBe(true);
    expect(client.breakerState('k')).toBe('CLOSED');

    const between = new AbortController();
    const attempt = scripted(httpError(500));
    const backingOff = settle(client.call('other', attempt, between.signal));
    await vi.advanceTimersByTimeAsync(0);
    expect(attempt).toHaveBeenCalledTimes(1);
    between.abort();
    expect((await backingOff).error?.kind).toBe('aborted');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('fails a call in flight at its next attempt after close()', async () => {
    const client = clients();
    const attempt = scripted(httpError(500));
    const result = settle(client.call('k', attempt));
    await vi.advanceTimersByTimeAsync(0);
    client.close();
    await vi.advanceTimersByTimeAsync(100);
    expect((await result).error).toMatchObject({
      kind: 'breaker-open',
      message: 'The platform client is shut down.',
    });
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});

describe('fetchJson', () => {
  let server: Server;
  let base: string;
  let abandoned = 0;

  beforeEach(async () => {
    abandoned = 0;
    server = createServer((req, res) => {
      res.on('close', () => {
        if (!res.writableFinished) abandoned++;
      });
      const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
      if (req.url?.startsWith('/text')) return res.end('<html>busy</html>');
      if (req.url?.startsWith('/big')) return res.end('{"tid": 3487216655190412345, "num": 2, "fee": 1.5}');
      // Headers, then a body that never comes.
      if (req.url?.startsWith('/stall')) return res.writeHead(200).write('{"orders": [');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = (path: string) => fetchJson({ url: base + path }, new AbortController().signal);

  it('answers the JSON body of a 2xx reply', async () => {
    expect(await get('/?status=200')).toEqual({ status: 200 });
  });

  it('keeps an integer beyond 2^53 as its digits, which JSON.parse would change', async () => {
    expect(await get('/big')).toEqual({ tid: '3487216655190412345', num: 2, fee: 1.5 });
  });

  it('turns an HTTP status, a body that is not JSON and an unreachable host into request errors', async () => {
    expect(await settle(get('/?status=503'))).toMatchObject({
      error: { kind: 'http', status: 503, retryable: true },
    });
    expect(await settle(get('/?status=404'))).toMatchObject({
      error: { kind: 'http', status: 404, retryable: false, isCallerSide: true },
    });
    expect(await settle(get('/text'))).toMatchObject({ error: { kind: 'protocol', retryable: false } });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await settle(
      fetchJson({ url: `http://127.0.0.1:${port}/` }, new AbortController().signal),
    );
    expect(refused.error).toMatchObject({ kind: 'network', retryable: true });
    expect(refused.error?.message).toContain('ECONNREFUSED');
  });

  it('through call: a reply that stalls halfway times out at the deadline and the request is dropped', async () => {
    // Real time: the server never finishes, so only the deadline can end the attempt.
    const client = clients({ timeoutMs: 100, retries: 0 });
    const { error } = await settle(client.call('k', (signal) => fetchJson({ url: `${base}/stall` }, signal)));
    expect(error).toMatchObject({ kind: 'timeout', message: 'No complete reply within 100 ms.' });
    await vi.waitFor(() => expect(abandoned).toBe(1), { timeout: 20_000 });
  });
});
