// A hostile run at the outcome paths: many synchronous throws, one caller
// signal shared by 100,000 calls, aborted halfway, and callbacks that fail.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/circuit-breaker/index.js';
import { pipeline } from '../src/compose/index.js';
import { RateLimiter } from '../src/rate-limiter/index.js';
import { FakeClock } from '../src/testing/index.js';
import { failOnUnhandledRejection, outcome } from './support.js';

failOnUnhandledRejection();

describe('hostile use of the outcome paths', () => {
  it('10,000 synchronous throws on an abortable signal: every call settles with its own error, counts stay sane', async () => {
    const breaker = new CircuitBreaker({
      readyToTrip: () => false,
      onStateChange: async () => Promise.reject(new Error('x')),
    });
    const controller = new AbortController();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const own = new Error(`sync ${i}`);
      calls.push(
        breaker
          .execute(
            () => {
              throw own;
            },
            { signal: controller.signal },
          )
          .then(
            () => 'resolved?',
            (err: unknown) => err === own,
          ),
      );
    }
    expect((await Promise.all(calls)).every((same) => same === true)).toBe(true);
    expect(breaker.counts).toMatchObject({ requests: 10_000, totalFailures: 10_000 });
  });

  it('100,000 calls on one shared signal, aborted halfway: half cancelled, none counted as failures, no listener left', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock });
    const limiter = new RateLimiter({ clock, rate: 1e9 });
    const policy = pipeline().circuitBreaker(breaker).rateLimit(limiter).build();
    const controller = new AbortController();
    const pending: Promise<{ value?: unknown; error?: unknown }>[] = [];
    const release: (() => void)[] = [];
    for (let i = 0; i < 100_000; i++) {
      pending.push(
        outcome(
          policy.execute(
            ({ signal }) =>
              new Promise<string>((resolve, reject) => {
                release.push(() => (signal.aborted ? reject(signal.reason) : resolve('ok')));
              }),
            { signal: controller.signal, key: `user-${i % 100}` },
          ),
        ),
      );
    }
    // Every call is running; half finish, then the caller gives up on the rest, which then fail.
    for (const settle of release.splice(0, 50_000)) settle();
    await Promise.all(pending.slice(0, 50_000));
    controller.abort(new Error('shutting down'));
    for (const settle of release.splice(0)) settle();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.value === 'ok')).toHaveLength(50_000);
    expect(results.filter((r) => (r.error as Error | undefined)?.message === 'shutting down')).toHaveLength(50_000);
    expect(breaker.state).toBe('closed');
    expect(breaker.counts).toMatchObject({ totalSuccesses: 50_000, totalFailures: 0, requests: 50_000 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  }, 60_000);
});
