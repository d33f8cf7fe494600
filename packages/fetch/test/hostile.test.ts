import { getEventListeners } from 'node:events';
import { isCircuitOpenError } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { createFetch, type FetchLike } from '../src/index.js';

const ok: FetchLike = async () => new Response('ok');

/** A fetch that never answers until its signal aborts. */
const stalled: FetchLike = (_input, init) =>
  new Promise((_resolve, reject) => {
    const signal = init?.signal;
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('createFetch under hostile use', () => {
  it('30,000 calls on one shared signal: one listener on it, no warning, every call answered', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const fetch = createFetch({ fetch: ok, retry: false });
      const statuses = await Promise.all(
        Array.from({ length: 30_000 }, () =>
          fetch('http://a.test/', { signal: controller.signal }).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
      controller.abort(new Error('late')); // reaches every follower still alive, quickly
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('20,000 stalled calls on one signal all reject with its reason when it aborts', async () => {
    const controller = new AbortController();
    const fetch = createFetch({
      fetch: stalled,
      timeout: Number.POSITIVE_INFINITY,
      attemptTimeout: Number.POSITIVE_INFINITY,
    });
    const reason = new Error('shutdown');
    const calls = Array.from({ length: 20_000 }, () =>
      fetch('http://a.test/', { signal: controller.signal }).then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    const results = await Promise.all(calls);
    expect(results.every((r) => r === reason)).toBe(true);
  });

  it('thousands of synchronous throws: each call gets its own error until the breaker opens', async () => {
    let n = 0;
    const fetch = createFetch({
      fetch: () => {
        throw new Error(`sync ${++n}`);
      },
      retry: false,
    });
    const results = await Promise.all(
      Array.from({ length: 5000 }, () =>
        fetch('http://a.test/').then(
          () => 'resolved',
          (e: unknown) => e,
        ),
      ),
    );
    const own = results.filter((r) => r instanceof Error && /^sync \d+$/.test(r.message));
    expect(own.length).toBe(n);
    expect(n).toBeGreaterThanOrEqual(6);
    expect(results.slice(n).every((r) => isCircuitOpenError(r))).toBe(true);
  });

  it('an onRetry that throws or returns a rejected promise changes nothing', async () => {
    let calls = 0;
    const flaky: FetchLike = async () => new Response('', { status: ++calls < 3 ? 503 : 200 });
    const logged: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (msg: string) => logged.push(msg) };
    const throwing = createFetch({
      fetch: flaky,
      logger,
      retry: {
        initialDelay: 1,
        onRetry: () => {
          throw new Error('hook');
        },
      },
    });
    expect((await throwing('http://a.test/')).status).toBe(200);
    calls = 0;
    const rejecting = createFetch({
      fetch: flaky,
      retry: { initialDelay: 1, onRetry: (() => Promise.reject(new Error('async hook'))) as never },
    });
    expect((await rejecting('http://a.test/')).status).toBe(200);
    expect(logged.length).toBeGreaterThan(0);
  });

  it('a huge Retry-After waits maxDelay, a garbage one the backoff', async () => {
    const hints = ['99999999999999999999', 'soon', '-5'];
    let calls = 0;
    const fetch = createFetch({
      fetch: async () =>
        new Response('', { status: calls < 3 ? 429 : 200, headers: { 'retry-after': hints[calls++] ?? '' } }),
      retry: { maxAttempts: 4, initialDelay: 3, maxDelay: 7, jitter: false, onRetry: (_a, _r, ms) => delays.push(ms) },
    });
    const delays: number[] = [];
    expect((await fetch('http://a.test/')).status).toBe(200);
    expect(delays).toEqual([7, 6, 7]);
  });

  it('breakers report under "<name> <origin>" and only once an origin is called', async () => {
    const states: string[] = [];
    const metrics = {
      recordCircuitBreakerState: (name: string, state: string) => states.push(`${name}=${state}`),
      recordRetryAttempt() {},
      recordRateLimitHit() {},
      recordBulkheadUtilization() {},
      recordTimeout() {},
    };
    const fetch = createFetch({ fetch: ok, metrics, name: 'upstream' });
    expect(states).toEqual([]);
    await fetch('https://api.example.test:8443/x');
    expect(states).toEqual(['upstream https://api.example.test:8443=closed']);
  });

  it('a Retry-After that would end past the overall deadline returns that response at once', async () => {
    let calls = 0;
    const fetch = createFetch({
      fetch: async () => {
        calls++;
        return new Response('slow down', { status: 429, headers: { 'retry-after': '5' } });
      },
      timeout: 1000,
    });
    const res = await fetch('http://a.test/');
    expect(res.status).toBe(429);
    expect(await res.text()).toBe('slow down');
    expect(calls).toBe(1);
  });

  it('huge timeouts are accepted and a NaN is refused at construction', () => {
    expect(() => createFetch({ timeout: 1e20, attemptTimeout: 2 ** 40 })).not.toThrow();
    expect(() => createFetch({ timeout: Number.NaN })).toThrow(/timeout must be/);
    expect(() => createFetch({ maxOrigins: Number.POSITIVE_INFINITY })).toThrow(/maxOrigins/);
  });
});
