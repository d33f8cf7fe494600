import { describe, expect, it } from 'vitest';
import { deferred, drain, failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { pipeline } from '../compose/pipeline.js';
import type { Operation } from '../context.js';
import { CircuitOpenError, MaxAttemptsReachedError } from '../errors/errors.js';
import { isCircuitOpenError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { Retry } from './retry.js';
import type { RetryConfig } from './types.js';

failOnUnhandledRejection();

const down = (): Promise<never> => Promise.reject(new Error('down'));

describe('Retry: an open breaker is not retried by default (issue 10, item 9)', () => {
  it('rethrows CircuitOpenError as it is, at once, with no sleep: isCircuitOpenError matches', async () => {
    const clock = new FakeClock();
    const policy = pipeline()
      .retry({ clock, maxAttempts: 3, initialDelay: 10 })
      .circuitBreaker({ clock, readyToTrip: (c) => c.consecutiveFailures >= 3, timeout: 30_000 })
      .build();
    const first = outcome(policy.execute(down));
    await drain(clock);
    expect((await first).error).toBeInstanceOf(MaxAttemptsReachedError);
    let calls = 0;
    const second = await outcome(
      policy.execute(() => {
        calls++;
        return 'never';
      }),
    );
    expect(isCircuitOpenError(second.error)).toBe(true);
    expect((second.error as CircuitOpenError).retryAfterMs).toBe(30_000);
    expect(calls).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not retry it when only nonRetryableErrors is given either', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, nonRetryableErrors: [TypeError] });
    const open = new CircuitOpenError({ retryAfterMs: 5 });
    let calls = 0;
    const result = await outcome(
      retry.execute(() => {
        calls++;
        throw open;
      }),
    );
    expect(result.error).toBe(open);
    expect(calls).toBe(1);
  });

  it('retries it, honouring retryAfterMs, when retryableErrors lists it', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, retryableErrors: [CircuitOpenError], maxAttempts: 2 });
    const starts: number[] = [];
    const done = retry.execute(() => {
      starts.push(clock.now());
      if (starts.length === 1) throw new CircuitOpenError({ retryAfterMs: 250 });
      return 'half-open now';
    });
    await clock.advance(250);
    await expect(done).resolves.toBe('half-open now');
    expect(starts).toEqual([0, 250]);
  });
});

describe('Retry: a non-function fn (issue 10, items 9 and 14)', () => {
  it.each([null, undefined, 42, 'fn', {}])(
    'rejects %s with a TypeError, not retried, onRetry not called',
    async (bad) => {
      let retried = 0;
      const retry = new Retry({ clock: new FakeClock(), onRetry: () => retried++ });
      const result = await outcome(retry.execute(bad as unknown as Operation<unknown>));
      expect(result.error).toBeInstanceOf(TypeError);
      expect((result.error as Error).message).toMatch(/^Retry: execute needs a function, got /);
      expect(retried).toBe(0);
    },
  );

  it('treats null options as none', async () => {
    await expect(new Retry().execute(() => 1, null as never)).resolves.toBe(1);
  });
});

describe('Retry: predicates and hooks (issue 10, items 3 and 12)', () => {
  it('refuses an async isRetryable or retryOnResult at construction', () => {
    expect(() => new Retry({ isRetryable: (async () => true) as never })).toThrow(
      /Retry: isRetryable must be a synchronous function returning a boolean, got an async function/,
    );
    expect(() => new Retry({ retryOnResult: (async () => false) as never })).toThrow(TypeError);
  });

  it('counts a promise returned by isRetryable as false, logs it, and catches its rejection', async () => {
    const logger = recordingLogger();
    const failure = new Error('x');
    const retry = new Retry({
      clock: new FakeClock(),
      logger,
      isRetryable: () => Promise.reject(new Error('predicate broke')) as unknown as boolean,
    });
    await expect(retry.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const messages = logger.records.map((r) => r.msg);
    expect(messages).toContain(
      'isRetryable returned a promise: predicates must answer synchronously, counted as false',
    );
    expect(messages).toContain('isRetryable returned a promise that rejected');
  });

  it('keeps JavaScript truthiness for a synchronous answer: (e) => e.code', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, isRetryable: (e) => (e as { code?: string }).code as unknown as boolean });
    let calls = 0;
    const done = retry.execute(() => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    });
    await drain(clock);
    await expect(done).resolves.toBe('ok');
  });

  it('catches and logs an onRetry that returns a rejected promise (no unhandled rejection)', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const retry = new Retry({
      clock,
      logger,
      onRetry: async () => {
        throw new Error('hook broke');
      },
    });
    const done = retry.execute((ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('once')) : 'ok'));
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(logger.records.map((r) => r.msg)).toContain('onRetry rejected');
  });

  it('waits the backoff when delay returns a promise', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const retry = new Retry({ clock, logger, initialDelay: 70, delay: (() => Promise.resolve(5)) as never });
    const starts: number[] = [];
    const done = retry.execute(() => {
      starts.push(clock.now());
      if (starts.length === 1) throw new Error('once');
      return 'ok';
    });
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(starts).toEqual([0, 70]);
  });

  it.each([
    ['a BigInt', () => 10n],
    ['a string', () => '10'],
    ['an object', () => ({})],
  ])('does not break the call when jitter returns %s: the plain backoff is waited', async (_kind, jitter) => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const retry = new Retry({ clock, logger, initialDelay: 40, jitter: jitter as never });
    const starts: number[] = [];
    const done = retry.execute(() => {
      starts.push(clock.now());
      if (starts.length === 1) throw new Error('once');
      return 'ok';
    });
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(starts).toEqual([0, 40]);
    expect(logger.records.map((r) => r.msg)).toContain('jitter failed');
  });

  it('does not break the call when random returns a BigInt', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, jitter: 'full', random: (() => 1n) as never });
    const done = retry.execute((ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('once')) : 'ok'));
    await drain(clock);
    await expect(done).resolves.toBe('ok');
  });
});

describe('Retry: unknown options (issue 10, item 16)', () => {
  it.each([
    [{ retries: 3 }, /Retry: unknown option "retries" \(p-retry's retries is "maxAttempts" here/],
    [{ minTimeout: 10 }, /"initialDelay"/],
    [{ maxAttemps: 3 }, /Retry: unknown option "maxAttemps" \(known options: maxAttempts, /],
  ])('refuses %o, naming the option to use', (config, message) => {
    expect(() => new Retry(config as RetryConfig)).toThrow(TypeError);
    expect(() => new Retry(config as RetryConfig)).toThrow(message);
  });
});

describe('Retry with a breaker inside: slots and ordering', () => {
  it('lets the caller see the open breaker while an earlier call is still retrying', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, readyToTrip: () => true });
    const retry = new Retry({ clock, initialDelay: 100, maxAttempts: 2 });
    const hung = deferred<never>();
    const first = outcome(retry.execute((ctx) => breaker.execute(() => hung.promise, ctx)));
    hung.reject(new Error('down'));
    await clock.advance(0);
    const second = await outcome(retry.execute((ctx) => breaker.execute(() => 'x', ctx)));
    expect(isCircuitOpenError(second.error)).toBe(true);
    await drain(clock);
    expect(isCircuitOpenError((await first).error)).toBe(true);
  });
});
