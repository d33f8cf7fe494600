// Work that returns a hostile promise or thenable: a promise whose `constructor`
// or `then` getter throws (which `Promise.resolve` and `.then` hit synchronously),
// a thenable that calls back synchronously, before the Timeout has subscribed
// anything. Every `execute` still returns a promise that settles exactly once,
// and nothing it took (a breaker's request, a bulkhead slot, a timer, a signal
// listener) stays behind.
import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../src/bulkhead/index.js';
import { CircuitBreaker } from '../src/circuit-breaker/index.js';
import type { Operation } from '../src/context.js';
import { signalHub } from '../src/internal/signal-hub.js';
import { RateLimiter } from '../src/rate-limiter/index.js';
import { Retry } from '../src/retry/index.js';
import { FakeClock } from '../src/testing/index.js';
import { Timeout } from '../src/timeout/index.js';
import { failOnUnhandledRejection } from './support.js';

failOnUnhandledRejection();

/** A real promise of `value` whose `key` getter throws `error`. */
function poisoned(key: 'constructor' | 'then', error: Error): Promise<number> {
  const promise = Promise.resolve(7);
  Object.defineProperty(promise, key, {
    get() {
      throw error;
    },
  });
  return promise;
}

/** Calls `execute` and reports whether it threw synchronously, and how the promise it returned settled. */
async function run(execute: () => Promise<unknown>): Promise<string> {
  let promise: Promise<unknown>;
  try {
    promise = execute();
  } catch (err) {
    return `threw synchronously: ${(err as Error).message}`;
  }
  try {
    return `fulfilled with ${String(await promise)}`;
  } catch (err) {
    return `rejected with ${(err as Error).message}`;
  }
}

describe('work returning a promise whose constructor or then getter throws', () => {
  for (const key of ['constructor', 'then'] as const) {
    it(`CircuitBreaker (shared settlers and per-call closures): no synchronous throw, the request is counted (${key})`, async () => {
      const clock = new FakeClock();
      const plain = new CircuitBreaker();
      const timed = new CircuitBreaker({ clock, window: { kind: 'count', size: 10 }, slowCallDuration: 1000 });
      const controller = new AbortController();
      for (const [breaker, options] of [
        [plain, undefined],
        [timed, undefined],
        [plain, { signal: controller.signal }],
      ] as const) {
        const error = new Error(`${key} getter`);
        const result = await run(() => breaker.execute(() => poisoned(key, error), options));
        expect(result).not.toMatch(/^threw synchronously/);
      }
      // Every admitted request settled through the breaker (counted, not left in flight).
      expect(plain.counts.requests).toBe(2);
      expect(plain.counts.totalSuccesses + plain.counts.totalFailures).toBe(2);
      expect(timed.counts.totalSuccesses + timed.counts.totalFailures).toBe(1);
    });

    it(`CircuitBreaker half-open: the probe slot is not lost (${key})`, async () => {
      const clock = new FakeClock();
      const breaker = new CircuitBreaker({ clock, timeout: 1000, maxRequests: 1, readyToTrip: () => true });
      await expect(breaker.execute(() => Promise.reject(new Error('trip')))).rejects.toThrow('trip');
      expect(breaker.state).toBe('open');
      await clock.advance(1001);
      expect(breaker.state).toBe('half-open');
      await run(() => breaker.execute(() => poisoned(key, new Error(`${key} getter`))));
      // The probe reported: the breaker is not stuck half-open with its only slot taken.
      expect(breaker.state).not.toBe('half-open');
    });

    it(`Bulkhead: no synchronous throw and the slot comes back (${key})`, async () => {
      const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
      const result = await run(() => bulkhead.execute(() => poisoned(key, new Error(`${key} getter`))));
      expect(result).not.toMatch(/^threw synchronously/);
      expect(bulkhead.active).toBe(0);
      await expect(bulkhead.execute(() => 'next')).resolves.toBe('next');
    });

    it(`Retry: no synchronous throw; the failed first attempt is decided like any other (${key})`, async () => {
      const retry = new Retry({ maxAttempts: 2, initialDelay: 0 });
      let calls = 0;
      const result = await run(() =>
        retry.execute((() => {
          calls++;
          return calls === 1 ? poisoned(key, new Error(`${key} getter`)) : 'second';
        }) as Operation<unknown>),
      );
      expect(result).not.toMatch(/^threw synchronously/);
    });

    it(`RateLimiter without maxWait: no synchronous throw (${key})`, async () => {
      const limiter = new RateLimiter({ rate: 10 });
      const result = await run(() => limiter.execute(() => poisoned(key, new Error(`${key} getter`))));
      expect(result).not.toMatch(/^threw synchronously/);
    });
  }
});

describe('Timeout given a thenable that calls back synchronously', () => {
  it('leaves no timer and no waiter on the caller signal: the process is not held until the deadline', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 5000 });
    const controller = new AbortController();
    const syncThenable = (value: number): PromiseLike<number> => ({
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a hand-made thenable
      then(resolve) {
        return (resolve as (v: number) => unknown)(value) as never;
      },
    });
    const results: Promise<number>[] = [];
    for (let i = 0; i < 1000; i++) results.push(timeout.execute(() => syncThenable(i), { signal: controller.signal }));
    expect((await Promise.all(results)).at(-1)).toBe(999);
    // Nothing left armed on the clock: each call settled before it was scheduled.
    expect(clock.pendingTimers).toBe(0);
    // No settled call is left waiting on the caller's signal.
    expect(signalHub(controller.signal).size).toBe(0);
  });
});
