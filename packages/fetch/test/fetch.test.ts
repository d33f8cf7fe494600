import {
  type CircuitOpenError,
  handleAll,
  isCircuitOpenError,
  isMaxAttemptsReachedError,
  isTimeoutError,
  type MaxAttemptsReachedError,
} from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch, type FetchLike } from '../src/index.js';
import { answer, eventually, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
async function server(script: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(script);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const quick = { initialDelay: 1, jitter: false } as const;

describe('createFetch over real HTTP (undici)', () => {
  it('retries a GET on 503 and returns the first good response', async () => {
    const s = await server((_req, res, n) => answer(res, n < 3 ? 503 : 200, `attempt ${n}`));
    const fetch = createFetch({ retry: quick });
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('attempt 3');
    expect(s.count()).toBe(3);
  });

  it('returns the last Response when retries run out on responses, its body unread', async () => {
    const s = await server((_req, res, n) => answer(res, 503, `attempt ${n}`));
    const seen: Response[] = [];
    const global = globalThis.fetch;
    const recording: FetchLike = async (input, init) => {
      const res = await global(input, init);
      seen.push(res);
      return res;
    };
    const fetch = createFetch({ fetch: recording, retry: { ...quick, maxAttempts: 4 }, breaker: false });
    const res = await fetch(s.url);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('attempt 4');
    expect(s.count()).toBe(4);
    // The three discarded responses had their bodies cancelled (their sockets freed).
    expect(seen.slice(0, 3).map((r) => r.bodyUsed)).toEqual([true, true, true]);
  });

  it('honours Retry-After on 429 (seconds), capped by maxDelay, and a 429 does not open the breaker', async () => {
    const s = await server((_req, res, n) => answer(res, n < 4 ? 429 : 200, '', { 'retry-after': '120' }));
    const delays: number[] = [];
    const fetch = createFetch({
      retry: { ...quick, maxAttempts: 4, maxDelay: 20, onRetry: (_a, _r, ms) => delays.push(ms) },
      breaker: { readyToTrip: (c) => c.consecutiveFailures >= 1 },
    });
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(delays).toEqual([20, 20, 20]);
  });

  it('honours Retry-After as an HTTP date on 503', async () => {
    const at = new Date(Date.now() + 1500).toUTCString();
    const s = await server((_req, res, n) => answer(res, n < 2 ? 503 : 200, '', { 'retry-after': at }));
    const delays: number[] = [];
    const fetch = createFetch({ retry: { ...quick, onRetry: (_a, _r, ms) => delays.push(ms) }, breaker: false });
    expect((await fetch(s.url)).status).toBe(200);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(0);
    expect(delays[0]).toBeLessThanOrEqual(1500);
  });

  it('does not retry a POST unless the caller says it is safe', async () => {
    const s = await server((_req, res) => answer(res, 503));
    const fetch = createFetch({ retry: quick, breaker: false });
    expect((await fetch(s.url, { method: 'POST', body: 'x' })).status).toBe(503);
    expect(s.count()).toBe(1);
    const res = await fetch(s.url, { method: 'POST', body: 'x', resilience: { idempotent: true } });
    expect(res.status).toBe(503);
    expect(s.count()).toBe(4);
  });

  it('retries a POST that carries an Idempotency-Key header, and no request marked idempotent: false', async () => {
    const s = await server((_req, res) => answer(res, 503));
    const fetch = createFetch({ retry: quick, breaker: false });
    const keyed = { method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'order-42' } };
    expect((await fetch(s.url, keyed)).status).toBe(503);
    expect(s.count()).toBe(3);
    expect((await fetch(s.url, { resilience: { idempotent: false } })).status).toBe(503);
    expect(s.count()).toBe(4);
  });

  it('sends a replayable body again on each attempt', async () => {
    const bodies: string[] = [];
    const s = await server((req, res, n) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        bodies.push(body);
        answer(res, n < 2 ? 502 : 200);
      });
    });
    const fetch = createFetch({ retry: quick });
    expect((await fetch(s.url, { method: 'PUT', body: 'payload' })).status).toBe(200);
    expect(bodies).toEqual(['payload', 'payload']);
  });

  it('never retries a streamed body', async () => {
    const s = await server((req, res) => {
      req.resume();
      req.on('end', () => answer(res, 503));
    });
    const fetch = createFetch({ retry: quick, breaker: false });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk'));
        controller.close();
      },
    });
    const res = await fetch(s.url, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(503);
    expect(s.count()).toBe(1);
  });

  it('a stalled attempt times out, is aborted on the wire, and the next attempt answers', async () => {
    const s = await server((_req, res, n) => {
      if (n > 1) answer(res, 200, 'ok');
    });
    const fetch = createFetch({ retry: quick, attemptTimeout: 200, timeout: 5000 });
    const res = await fetch(s.url);
    expect(await res.text()).toBe('ok');
    expect(s.count()).toBe(2);
    await eventually(() => s.abandoned() === 1);
  });

  it('the overall timeout rejects with TimeoutError and aborts the request', async () => {
    const s = await server(() => {});
    const fetch = createFetch({ timeout: 200, attemptTimeout: 10_000 });
    const error = await fetch(s.url).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    await eventually(() => s.abandoned() === 1);
  });

  it('the overall timeout is not a failure of the origin: its breaker stays closed', async () => {
    const s = await server((_req, res, n) => {
      if (n > 1) answer(res, 200);
    });
    const fetch = createFetch({
      timeout: 150,
      retry: false,
      breaker: { readyToTrip: (c) => c.consecutiveFailures >= 1 },
    });
    expect(isTimeoutError(await fetch(s.url).catch((e: unknown) => e))).toBe(true);
    expect((await fetch(s.url)).status).toBe(200);
  });

  it("the caller's signal cancels the request with its own reason", async () => {
    const s = await server(() => {});
    const fetch = createFetch();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = fetch(s.url, { signal: controller.signal });
    await eventually(() => s.count() === 1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await eventually(() => s.abandoned() === 1);
    await expect(fetch(s.url, { signal: controller.signal })).rejects.toBe(reason);
    expect(s.count()).toBe(1);
  });

  it("the caller's signal still cancels the body after the response was handed out", async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
    });
    const fetch = createFetch();
    const controller = new AbortController();
    const res = await fetch(s.url, { signal: controller.signal });
    const reading = res.text();
    controller.abort(new Error('stop reading'));
    await expect(reading).rejects.toThrow();
    await eventually(() => s.abandoned() === 1);
  });

  it('a failing origin opens its own breaker only; the error carries retryAfterMs', async () => {
    const bad = await server((_req, res) => answer(res, 500));
    const good = await server((_req, res) => answer(res, 200));
    const fetch = createFetch({
      retry: false,
      breaker: { readyToTrip: (c) => c.consecutiveFailures >= 2, timeout: 30_000 },
    });
    expect((await fetch(bad.url)).status).toBe(500);
    expect((await fetch(`${bad.origin}/other`)).status).toBe(500);
    const error = await fetch(bad.url).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect((error as CircuitOpenError).retryAfterMs).toBeGreaterThan(0);
    expect(bad.count()).toBe(2);
    expect((await fetch(good.url)).status).toBe(200);
  });

  it('a retry never runs into an open breaker: the CircuitOpenError reaches the caller', async () => {
    const s = await server((_req, res) => answer(res, 503));
    const fetch = createFetch({
      retry: { ...quick, maxAttempts: 5 },
      breaker: { readyToTrip: (c) => c.consecutiveFailures >= 2 },
    });
    const error = await fetch(s.url).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(s.count()).toBe(2);
  });

  it('network errors are retried, then reported as MaxAttemptsReachedError with the last error as cause', async () => {
    const s = await server(() => {});
    const url = s.url;
    await s.close();
    servers.length = 0;
    const fetch = createFetch({ retry: quick });
    const error = await fetch(url).catch((e: unknown) => e);
    expect(isMaxAttemptsReachedError(error)).toBe(true);
    expect((error as MaxAttemptsReachedError).attempts).toBe(3);
    expect((error as MaxAttemptsReachedError).cause).toBeInstanceOf(TypeError);
  });

  it('works with a Request object as input', async () => {
    const s = await server((req, res, n) => answer(res, n < 2 ? 503 : 200, req.method ?? ''));
    const fetch = createFetch({ retry: quick });
    const res = await fetch(new Request(s.url, { method: 'DELETE' }));
    expect(await res.text()).toBe('DELETE');
    expect(s.count()).toBe(2);
  });
});

describe('createFetch validation', () => {
  it('throws at construction for bad options, naming them', () => {
    expect(() => createFetch({ retries: 3 } as never)).toThrow(/unknown option "retries"/);
    expect(() => createFetch({ timeout: -1 })).toThrow(/timeout/);
    expect(() => createFetch({ attemptTimeout: Number.NaN })).toThrow(/attemptTimeout/);
    expect(() => createFetch({ maxOrigins: 0 })).toThrow(/maxOrigins/);
    expect(() => createFetch({ breaker: { isFailureResult: () => true } as never })).toThrow(/failureStatuses/);
    // The core's classifier option: createFetch classifies responses itself, so it names what to use instead.
    expect(() => createFetch({ breaker: { handle: handleAll() } as never })).toThrow(
      /breaker\.handle is set by createFetch; use the failureStatuses option for responses, and breaker\.isSuccessful/,
    );
    expect(() => createFetch({ breaker: { timeout: -5 } })).toThrow(/timeout/);
    expect(() => createFetch({ retry: { maxAttempts: 0 } })).toThrow(/maxAttempts/);
    expect(() => createFetch({ retry: { statuses: [42] } })).toThrow(/retry.statuses/);
    expect(() => createFetch({ retry: { methods: 'GET' as never } })).toThrow(/retry.methods/);
    expect(() => createFetch({ failureStatuses: 'x' as never })).toThrow(/failureStatuses/);
    expect(() => createFetch({ fetch: 42 as never })).toThrow(/fetch must be a function/);
    expect(() => createFetch(null as never)).toThrow(/options must be an object/);
  });

  it('rejects bad per-request input with a TypeError naming it', async () => {
    const fetch = createFetch({ fetch: async () => new Response('x') });
    await expect(fetch('/relative')).rejects.toThrow(/must be absolute, got "\/relative"/);
    await expect(fetch('http://x.test/', { resilience: { timeout: 0 } })).rejects.toThrow(/resilience.timeout/);
    await expect(fetch('http://x.test/', { resilience: { retry: 1 } as never })).rejects.toThrow(/resilience.retry/);
    await expect(fetch('http://x.test/', { resilience: { idempotent: 'yes' } as never })).rejects.toThrow(
      /idempotent must be a boolean/,
    );
  });

  it('rejects when the wrapped fetch returns something that is not a Response', async () => {
    const fetch = createFetch({ fetch: (async () => 'nope') as never, retry: false });
    await expect(fetch('http://x.test/')).rejects.toThrow(/not a Response/);
  });

  it('a wrapped fetch that throws synchronously rejects with its own error', async () => {
    const boom = new Error('sync');
    const fetch = createFetch({
      fetch: () => {
        throw boom;
      },
      retry: false,
    });
    await expect(fetch('http://x.test/')).rejects.toBe(boom);
  });
});
