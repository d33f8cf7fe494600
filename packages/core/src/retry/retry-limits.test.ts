import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  drain,
  flaky,
  inMemoryTracing,
  NetworkError,
  recordingLogger,
  recordingSystemClock,
} from '../../test/support.js';
import { CircuitOpenError, type MaxAttemptsReachedError, RateLimitExceededError } from '../errors/errors.js';
import { isMaxAttemptsReachedError } from '../errors/guards.js';
import type { MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Retry } from './retry.js';
import { RetryBudget } from './retry-budget.js';

describe('Retry: server hints', () => {
  it('waits retryAfterMs from the cause chain instead of the backoff, capped by maxDelay', async () => {
    const clock = new FakeClock();
    // Listing CircuitOpenError asks to retry into an open breaker, honouring its retryAfterMs.
    const retry = new Retry({ clock, maxDelay: 5000, maxAttempts: 4, retryableErrors: [CircuitOpenError, Error] });
    const errors = [
      new CircuitOpenError({ retryAfterMs: 1234 }),
      new Error('wrapped', { cause: new RateLimitExceededError({ retryAfterMs: 50 }) }),
      new CircuitOpenError({ retryAfterMs: 60_000 }),
    ];
    const { fn, calls } = flaky(clock, 3, 'ok', (n) => errors[n - 1]);
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(calls.map((c) => c.at)).toEqual([0, 1234, 1284, 6284]);
  });

  it('ignores a retryAfterMs that is not a number', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock });
    const { fn, calls } = flaky(clock, 1, 'ok', () => Object.assign(new Error('x'), { retryAfterMs: 'soon' }));
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(calls.map((c) => c.at)).toEqual([0, 100]);
  });

  it('a delay function overrides the backoff; undefined falls back to it; a throw is logged', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const seen: unknown[] = [];
    const retry = new Retry({
      clock,
      logger,
      maxAttempts: 4,
      delay: (err, attempt) => {
        seen.push([(err as Error).message, attempt]);
        if (attempt === 1) return 42;
        if (attempt === 2) return undefined;
        throw new Error('hint broke');
      },
    });
    const { fn, calls } = flaky(clock, 3, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(calls.map((c) => c.at)).toEqual([0, 42, 242, 642]);
    expect(seen).toEqual([
      ['fail 1', 1],
      ['fail 2', 2],
      ['fail 3', 3],
    ]);
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'delay threw' }));
  });

  it('gives a delay function the value of a result-based retry', async () => {
    const clock = new FakeClock();
    const retry = new Retry<{ status: number; retryAfter: number }>({
      clock,
      retryOnResult: (r) => r.status === 429,
      delay: (r) => (r as { retryAfter: number }).retryAfter,
    });
    const answers = [
      { status: 429, retryAfter: 700 },
      { status: 200, retryAfter: 0 },
    ];
    let n = 0;
    const done = retry.execute(() => answers[n++] as { status: number; retryAfter: number });
    await clock.advance(699);
    expect(n).toBe(1);
    await clock.advance(1);
    await expect(done).resolves.toEqual({ status: 200, retryAfter: 0 });
  });
});

describe('Retry: limits', () => {
  it('gives up when the next delay would pass maxElapsed', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 10, maxElapsed: 500 });
    const { fn, calls } = flaky(clock, 10, 'never');
    const caught = retry.execute(fn).catch((e: unknown) => e);
    await drain(clock);
    const err = (await caught) as MaxAttemptsReachedError;
    // attempts at 0, 100, 300; the next would start at 700
    expect(calls.map((c) => c.at)).toEqual([0, 100, 300]);
    expect(err.attempts).toBe(3);
    expect(err.message).toBe('Gave up after 3 attempts: a 400 ms delay would pass maxElapsed (500 ms)');
  });

  it('starts no delay that cannot end before the deadline', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 10 });
    const { fn, calls } = flaky(clock, 10, 'never');
    const caught = retry.execute(fn, { deadline: 300 }).catch((e: unknown) => e);
    await drain(clock);
    const err = (await caught) as MaxAttemptsReachedError;
    expect(calls.map((c) => c.at)).toEqual([0, 100]);
    expect(err.message).toBe('Gave up after 2 attempts: a 200 ms delay would not end before the deadline');
    expect(clock.pendingTimers).toBe(0);
  });

  it('measures maxElapsed from the start of the call with metrics on', async () => {
    const clock = new FakeClock();
    const metrics = { recordRetryAttempt: () => {} } as unknown as MetricsRecorder;
    const retry = new Retry({ clock, metrics, maxAttempts: 10, maxElapsed: 150 });
    const { fn, calls } = flaky(clock, 10, 'never');
    const caught = retry.execute(fn).catch((e: unknown) => e);
    await drain(clock);
    expect(isMaxAttemptsReachedError(await caught)).toBe(true);
    expect(calls.map((c) => c.at)).toEqual([0, 100]);
  });

  it('returns the last value when a result retry would pass the deadline', async () => {
    const clock = new FakeClock();
    const retry = new Retry<number>({ clock, retryOnResult: () => true });
    await expect(retry.execute(() => 5, { deadline: 50 })).resolves.toBe(5);
  });
});

describe('Retry: abort', () => {
  it('rejects at once with the reason of an already aborted signal, without calling the work', async () => {
    const retry = new Retry();
    const fn = vi.fn(() => 'x');
    const reason = new Error('cancelled');
    await expect(retry.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('ends a delay at once on abort, with the reason, leaving no listener and no timer', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, initialDelay: 1000 });
    const controller = new AbortController();
    const { fn, calls } = flaky(clock, 10, 'never');
    const done = retry.execute(fn, { signal: controller.signal });
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes the listener after a delay that ran to its end', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock });
    const controller = new AbortController();
    const { fn } = flaky(clock, 1, 'ok');
    const done = retry.execute(fn, { signal: controller.signal });
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not retry once the signal aborted during an attempt', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const retry = new Retry({ initialDelay: 0 });
    let n = 0;
    const done = retry.execute(
      () => {
        n++;
        controller.abort(reason);
        return Promise.reject(new NetworkError());
      },
      { signal: controller.signal },
    );
    await expect(done).rejects.toBe(reason);
    expect(n).toBe(1);
  });

  it('a zero delay still checks the signal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const retry = new Retry({ initialDelay: 0, retryOnResult: () => true });
    let n = 0;
    const done = retry.execute(
      () => {
        n++;
        return 1;
      },
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(n).toBe(1);
  });
});

describe('Retry: abort from onRetry', () => {
  it.each([0, 100])('rejects with the reason when onRetry aborts before a %i ms delay', async (initialDelay) => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error('enough');
    const retry = new Retry({ clock, initialDelay, onRetry: () => controller.abort(reason) });
    const { fn, calls } = flaky(clock, 5, 'ok');
    const done = retry.execute(fn, { signal: controller.signal });
    await expect(done).rejects.toBe(reason);
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('Retry: hooks and telemetry', () => {
  it('calls onRetry with the failed attempt, its error and the delay; a throwing hook is logged', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const seen: unknown[] = [];
    const retry = new Retry({
      clock,
      logger,
      onRetry: (attempt, err, delayMs) => {
        seen.push([attempt, (err as Error).message, delayMs]);
        throw new Error('hook broke');
      },
    });
    const { fn } = flaky(clock, 2, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(seen).toEqual([
      [1, 'fail 1', 100],
      [2, 'fail 2', 200],
    ]);
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'onRetry threw' }));
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'debug', msg: 'retrying' }));
  });

  it('records each attempt in metrics and opens a span per attempt', async () => {
    const { exporter, provider } = inMemoryTracing();
    const attempts: unknown[] = [];
    const metrics = { recordRetryAttempt: (...args: unknown[]) => attempts.push(args) } as unknown as MetricsRecorder;
    const clock = new FakeClock();
    const retry = new Retry({ clock, name: 'orders', metrics, tracer: provider.getTracer('t') });
    const { fn } = flaky(clock, 2, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(attempts).toEqual([
      ['orders', 1, false],
      ['orders', 2, false],
      ['orders', 3, true],
    ]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['resilience.retry.attempt'], s.status.code])).toEqual([
      ['resilience.retry.attempt', 1, 2],
      ['resilience.retry.attempt', 2, 2],
      ['resilience.retry.attempt', 3, 0],
    ]);
    expect(spans[0]?.attributes['resilience.name']).toBe('orders');
  });

  it('records a non-retryable failure as an unsuccessful attempt', async () => {
    const attempts: unknown[] = [];
    const metrics = { recordRetryAttempt: (...args: unknown[]) => attempts.push(args) } as unknown as MetricsRecorder;
    const retry = new Retry({ metrics, nonRetryableErrors: [AuthError] });
    await expect(retry.execute(() => Promise.reject(new AuthError()))).rejects.toBeInstanceOf(AuthError);
    expect(attempts).toEqual([['retry', 1, false]]);
  });
});

describe('Retry: budget', () => {
  it('stops retrying across instances once the budget is spent', async () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, clock });
    const a = new Retry({ clock, budget, initialDelay: 0, maxAttempts: 5 });
    const b = new Retry({ clock, budget, initialDelay: 0, maxAttempts: 5 });
    const failing = () => Promise.reject(new NetworkError());
    // 2 calls allow 1 retry; each call then has no budget left for more
    const first = await a.execute(failing).catch((e: unknown) => e);
    expect((first as MaxAttemptsReachedError).message).toBe('Gave up after 1 attempt: the retry budget is spent');
    const pending = b.execute(failing).catch((e: unknown) => e);
    await clock.advance(0); // the zero delay before the retry is a timer on the clock
    const second = await pending;
    expect((second as MaxAttemptsReachedError).attempts).toBe(2);
    expect(budget.calls).toBe(2);
    expect(budget.retries).toBe(1);
  });
});

describe('Retry: configuration', () => {
  it.each([
    [{ maxAttempts: 0 }, 'Retry: maxAttempts must be an integer (or Infinity) >= 1, got 0'],
    [{ maxAttempts: 1.5 }, 'maxAttempts'],
    [{ initialDelay: -1 }, 'Retry: initialDelay must be a finite number >= 0, got -1'],
    [{ maxDelay: -1 }, 'maxDelay'],
    [{ maxDelay: 2 ** 31 }, 'maxDelay'],
    [{ multiplier: 0.5 }, 'Retry: multiplier must be a finite number >= 1, got 0.5'],
    [{ backoff: 'fibonacci' }, 'backoff'],
    [{ jitter: 'half' }, 'Retry: jitter must be a boolean, "full", "equal" or a function, got "half"'],
    [{ maxElapsed: 0 }, 'maxElapsed'],
    [{ retryableErrors: 'x' }, 'retryableErrors'],
    [{ nonRetryableErrors: [1] }, 'nonRetryableErrors'],
    [{ isRetryable: true }, 'isRetryable'],
    [{ onRetry: 1 }, 'onRetry'],
    [{ random: 1 }, 'random'],
    [{ budget: {} }, 'budget'],
    [{ clock: {} }, 'clock'],
  ])('rejects %o', (config, message) => {
    expect(() => new Retry(config as never)).toThrow(message);
  });

  it('accepts Infinity attempts and exposes maxAttempts', () => {
    expect(new Retry({ maxAttempts: Number.POSITIVE_INFINITY }).maxAttempts).toBe(Number.POSITIVE_INFINITY);
    expect(new Retry().maxAttempts).toBe(3);
    expect(() => new Retry(null as never)).toThrow('Retry: config must be an object');
  });
});

describe('Retry: process lifetime', () => {
  it('keeps the process alive during a back-off (a caller awaits it)', async () => {
    const { clock, handles } = recordingSystemClock();
    const retry = new Retry({ clock, initialDelay: 5 });
    let n = 0;
    await expect(retry.execute(() => (n++ === 0 ? Promise.reject(new NetworkError()) : 'ok'))).resolves.toBe('ok');
    expect(handles).toHaveLength(1);
    expect(handles[0]?.hasRef()).toBe(true);
  });
});

describe('Retry: a custom jitter or random that throws', () => {
  it('is logged and the plain backoff is waited instead', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const retry = new Retry({
      clock,
      logger,
      maxAttempts: 2,
      initialDelay: 100,
      jitter: () => {
        throw new Error('bad jitter');
      },
    });
    const { fn, calls } = flaky(clock, 1, 'ok');
    const result = retry.execute(fn);
    await drain(clock);
    await expect(result).resolves.toBe('ok');
    expect(calls.map((c) => c.at)).toEqual([0, 100]);
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'jitter failed' }));
  });
});
