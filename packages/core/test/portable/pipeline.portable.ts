// Composition and the error guards on every runtime, against the built core.
import {
  asMiddleware,
  CircuitOpenError,
  chain,
  errorIs,
  isCircuitOpenError,
  isMaxAttemptsReachedError,
  isRetryable,
  pipeline,
  RateLimitExceededError,
  Retry,
  retryable,
  TimeoutError,
} from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, it, rejects, track } from './harness.ts';

describe('pipeline', () => {
  it('runs timeout + retry + breaker + bulkhead, and hands the caller CircuitOpenError once open', async () => {
    const clock = new FakeClock();
    const policy = pipeline<string>()
      .timeout({ clock, defaultTimeout: 10_000 })
      .retry({ clock, maxAttempts: 3, initialDelay: 200, jitter: false })
      .circuitBreaker({ clock, timeout: 30_000 })
      .bulkhead({ maxConcurrent: 10, maxQueue: 50 })
      .build();
    expect(await policy.execute(() => 'user')).toBe('user');
    const down = (): Promise<never> => Promise.reject(new Error('ECONNREFUSED'));
    for (let i = 0; i < 2; i++) {
      const call = track(policy.execute(down));
      await clock.runAll();
      expect(isMaxAttemptsReachedError((await call.result).error)).toBe(true);
    }
    const error = await rejects(
      policy.execute(() => 'user'),
      CircuitOpenError,
    );
    expect(isCircuitOpenError(error)).toBe(true);
  });

  it('hands a per-call key to its rate-limit step', async () => {
    const policy = pipeline<string>().rateLimit({ clock: new FakeClock(), rate: 1 }).build();
    expect(await policy.execute(() => 'a', { key: 'alice' })).toBe('a');
    expect(await policy.execute(() => 'b', { key: 'bob' })).toBe('b');
    await rejects(
      policy.execute(() => 'a again', { key: 'alice' }),
      RateLimitExceededError,
    );
  });

  it('times out the whole pipeline with TimeoutError', async () => {
    const clock = new FakeClock();
    const policy = pipeline().timeout({ clock, defaultTimeout: 100 }).build();
    const call = track(policy.execute(() => new Promise<never>(() => {})));
    await clock.advance(100);
    expect((await call.result).error).toBeInstanceOf(TimeoutError);
  });

  it('chain(asMiddleware(...)) runs the first middleware outermost', async () => {
    const order: string[] = [];
    const handler = chain<string>(
      (next) => async (ctx) => {
        order.push('outer');
        return next(ctx);
      },
      asMiddleware(new Retry<string>({ clock: new FakeClock(), maxAttempts: 1 })),
    )(async () => {
      order.push('work');
      return 'done';
    });
    expect(await handler({ signal: new AbortController().signal, attempt: 1 })).toBe('done');
    expect(order).toEqual(['outer', 'work']);
  });
});

describe('errors', () => {
  it('errorIs walks cause chains, retryable() marks an error and keeps it as cause', () => {
    const root = new Error('root');
    const wrapped = new Error('wrapped', { cause: root });
    expect(errorIs(wrapped, root)).toBe(true);
    expect(errorIs(wrapped, TypeError)).toBe(false);
    const marked = retryable(root);
    expect(isRetryable(marked)).toBe(true);
    expect((marked as Error).cause).toBe(root);
  });

  it('guards recognise an error by its code, as a second copy of the core would make it', () => {
    const foreign = Object.assign(new Error('open'), { code: 'ERR_CIRCUIT_OPEN' });
    expect(isCircuitOpenError(foreign)).toBe(true);
    expect(isCircuitOpenError(new Error('x'))).toBe(false);
    expect(new CircuitOpenError().code).toBe('ERR_CIRCUIT_OPEN');
  });
});
