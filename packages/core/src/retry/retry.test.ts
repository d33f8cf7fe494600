import { describe, expect, it } from 'vitest';
import { AuthError, drain, flaky, NetworkError, recordingLogger } from '../../test/support.js';
import type { ExecutionContext } from '../context.js';
import { MaxAttemptsReachedError } from '../errors/errors.js';
import { isMaxAttemptsReachedError } from '../errors/guards.js';
import { retryable } from '../errors/retryable.js';
import { rootContext } from '../internal/context.js';
import { FakeClock } from '../testing/index.js';
import { Retry } from './retry.js';

describe('Retry: attempts and backoff on the clock', () => {
  it('returns the first success without retrying and hands the root context to the work', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock });
    const { fn, calls } = flaky(clock, 0, 'ok');
    await expect(retry.execute(fn)).resolves.toBe('ok');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ctx).toBe(rootContext);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    ['exponential', [0, 100, 300, 700, 1500]],
    ['linear', [0, 100, 300, 600, 1000]],
    ['constant', [0, 100, 200, 300, 400]],
  ] as const)('%s backoff waits on the clock between attempts', async (backoff, times) => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, backoff, maxAttempts: 5 });
    const { fn, calls } = flaky(clock, 4, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await expect(done).resolves.toBe('ok');
    expect(calls.map((c) => c.at)).toEqual(times);
    expect(calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  it('decorrelated jitter draws from the random option', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, backoff: 'decorrelated-jitter', random: () => 1, maxAttempts: 4 });
    const { fn, calls } = flaky(clock, 3, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(calls.map((c) => c.at)).toEqual([0, 300, 1200, 3900]);
  });

  it('jitter uses the random option', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, jitter: true, random: () => 0.5, maxAttempts: 3 });
    const { fn, calls } = flaky(clock, 2, 'ok');
    const done = retry.execute(fn);
    await drain(clock);
    await done;
    expect(calls.map((c) => c.at)).toEqual([0, 50, 150]);
  });

  it('does not start the next attempt before its delay is over', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, initialDelay: 100 });
    const { fn, calls } = flaky(clock, 1, 'ok');
    const done = retry.execute(fn);
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    await expect(done).resolves.toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('rejects with MaxAttemptsReachedError carrying the last error and the attempts', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 3 });
    const { fn, calls } = flaky(clock, 10, 'never');
    const done = retry.execute(fn);
    const caught = done.catch((err: unknown) => err);
    await drain(clock);
    const err = (await caught) as MaxAttemptsReachedError;
    expect(err).toBeInstanceOf(MaxAttemptsReachedError);
    expect(err.attempts).toBe(3);
    expect((err.cause as Error).message).toBe('fail 3');
    expect(err.message).toBe('Gave up after 3 attempts');
    expect(calls).toHaveLength(3);
  });

  it('maxAttempts 1 never retries', async () => {
    const retry = new Retry({ maxAttempts: 1 });
    const failure = new NetworkError('x');
    const err = await retry.execute(() => Promise.reject(failure)).catch((e: unknown) => e);
    expect(isMaxAttemptsReachedError(err)).toBe(true);
    expect((err as MaxAttemptsReachedError).cause).toBe(failure);
    expect((err as Error).message).toBe('Gave up after 1 attempt');
  });

  it('treats sync throws and non-Error values as failures and keeps the value', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 2, initialDelay: 0 });
    let n = 0;
    const done = retry
      .execute(() => {
        n++;
        if (n === 1) throw 'a string';
        throw undefined;
      })
      .catch((e: unknown) => e);
    await clock.advance(0); // a zero delay is still a timer on the clock
    const err = (await done) as MaxAttemptsReachedError;
    expect(err.cause).toBeUndefined();
    expect('cause' in err).toBe(true);
    expect(n).toBe(2);
  });

  it('accepts sync values', async () => {
    const retry = new Retry<number>({ maxAttempts: 2 });
    await expect(retry.execute(() => 7)).resolves.toBe(7);
  });

  it('passes the caller signal and deadline to every attempt, with its own attempt numbers', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, initialDelay: 10 });
    const controller = new AbortController();
    const { fn, calls } = flaky(clock, 2, 'ok');
    const done = retry.execute(fn, { signal: controller.signal, deadline: 1000, attempt: 5 });
    await drain(clock);
    await done;
    expect(calls.map((c) => [c.ctx.signal, c.ctx.attempt, c.ctx.deadline])).toEqual([
      [controller.signal, 1, 1000],
      [controller.signal, 2, 1000],
      [controller.signal, 3, 1000],
    ]);
  });

  it("reuses an outer pattern's context for the first attempt", async () => {
    const retry = new Retry();
    const outer: ExecutionContext = { signal: new AbortController().signal, attempt: 1, deadline: 50 };
    let seen: ExecutionContext | undefined;
    await retry.execute((ctx) => {
      seen = ctx;
    }, outer);
    expect(seen).toBe(outer);
  });
});

describe('Retry: classification', () => {
  it('retries every error when no classifier is given', async () => {
    const retry = new Retry({ initialDelay: 0 });
    const { fn, calls } = flaky(new FakeClock(), 2, 'ok', () => new AuthError());
    await expect(retry.execute(fn)).resolves.toBe('ok');
    expect(calls).toHaveLength(3);
  });

  it('rethrows a non-retryable error as it is, by class, identity or cause', async () => {
    const fatal = new Error('fatal');
    const retry = new Retry({ initialDelay: 0, nonRetryableErrors: [AuthError, fatal] });
    const auth = new AuthError();
    await expect(retry.execute(() => Promise.reject(auth))).rejects.toBe(auth);
    await expect(retry.execute(() => Promise.reject(fatal))).rejects.toBe(fatal);
    const wrapped = new Error('wrapped', { cause: fatal });
    await expect(retry.execute(() => Promise.reject(wrapped))).rejects.toBe(wrapped);
  });

  it('retries only matching errors when retryableErrors is given', async () => {
    const retry = new Retry({ initialDelay: 0, retryableErrors: [NetworkError] });
    const { fn, calls } = flaky(new FakeClock(), 1, 'ok', () => new Error('x', { cause: new NetworkError() }));
    await expect(retry.execute(fn)).resolves.toBe('ok');
    expect(calls).toHaveLength(2);
    const auth = new AuthError();
    await expect(retry.execute(() => Promise.reject(auth))).rejects.toBe(auth);
  });

  it('non-retryable beats retryableErrors, isRetryable and retryable() marks', async () => {
    const retry = new Retry({
      initialDelay: 0,
      retryableErrors: [AuthError],
      nonRetryableErrors: [AuthError],
      isRetryable: () => true,
    });
    const marked = retryable(new AuthError());
    let n = 0;
    await expect(
      retry.execute(() => {
        n++;
        throw marked;
      }),
    ).rejects.toBe(marked);
    expect(n).toBe(1);
  });

  it('isRetryable decides, and one that throws counts as not retryable and is logged', async () => {
    const logger = recordingLogger();
    const retry = new Retry({
      initialDelay: 0,
      logger,
      isRetryable: (err) => {
        if (err === 'boom') throw new Error('classifier broke');
        return err === 'again';
      },
    });
    let n = 0;
    await expect(retry.execute(() => (n++ === 0 ? Promise.reject('again') : 'ok'))).resolves.toBe('ok');
    await expect(retry.execute(() => Promise.reject('nope'))).rejects.toBe('nope');
    await expect(retry.execute(() => Promise.reject('boom'))).rejects.toBe('boom');
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'isRetryable threw' }));
  });

  it('retries errors marked with retryable() even when the classifiers would not', async () => {
    const retry = new Retry({ initialDelay: 0, retryableErrors: [NetworkError] });
    let n = 0;
    await expect(retry.execute(() => (n++ === 0 ? Promise.reject(retryable(new AuthError())) : 'ok'))).resolves.toBe(
      'ok',
    );
  });
});

describe('Retry: an empty allow-list', () => {
  it('retries nothing but marked errors', async () => {
    const retry = new Retry({ initialDelay: 0, retryableErrors: [] });
    const failure = new NetworkError();
    await expect(retry.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    let n = 0;
    await expect(retry.execute(() => (n++ === 0 ? Promise.reject(retryable(failure)) : 'ok'))).resolves.toBe('ok');
  });
});

describe('Retry: result-based retry', () => {
  it('retries a value retryOnResult rejects, then returns a good one', async () => {
    const clock = new FakeClock();
    const retry = new Retry<{ status: number }>({ clock, retryOnResult: (res) => res.status === 503 });
    const answers = [{ status: 503 }, { status: 503 }, { status: 200 }];
    let n = 0;
    const done = retry.execute(() => answers[n++] as { status: number });
    await drain(clock);
    await expect(done).resolves.toEqual({ status: 200 });
    expect(n).toBe(3);
  });

  it('returns the last value when attempts run out', async () => {
    const clock = new FakeClock();
    const retry = new Retry<number>({ clock, maxAttempts: 2, retryOnResult: () => true });
    let n = 0;
    const done = retry.execute(() => ++n);
    await drain(clock);
    await expect(done).resolves.toBe(2);
  });

  it('a retryOnResult that throws accepts the value and is logged', async () => {
    const logger = recordingLogger();
    const retry = new Retry<number>({
      logger,
      retryOnResult: () => {
        throw new Error('bad');
      },
    });
    await expect(retry.execute(() => 1)).resolves.toBe(1);
    expect(logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'retryOnResult threw' }));
  });

  it('rejects with the abort reason when the signal aborted before a result retry', async () => {
    const controller = new AbortController();
    const retry = new Retry<number>({ retryOnResult: () => true });
    const reason = new Error('stop');
    await expect(
      retry.execute(
        () => {
          controller.abort(reason);
          return 1;
        },
        { signal: controller.signal },
      ),
    ).rejects.toBe(reason);
  });
});
