// Retry on every runtime, against the built core, on a fake clock.
import { isMaxAttemptsReachedError, MaxAttemptsReachedError, Retry } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, flush, it, rejects, track } from './harness.ts';

describe('Retry', () => {
  it('retries with exponential backoff on the clock, then succeeds', async () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    const retry = new Retry({
      clock,
      maxAttempts: 4,
      initialDelay: 100,
      jitter: false,
      onRetry: (_attempt, _err, delay) => delays.push(delay),
    });
    const attempts: number[] = [];
    const call = track(
      retry.execute(({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 4) throw new Error(`attempt ${attempt}`);
        return 'ok';
      }),
    );
    await flush();
    expect(attempts).toEqual([1]);
    await clock.advance(99);
    expect(attempts).toEqual([1]);
    await clock.advance(1);
    expect(attempts).toEqual([1, 2]);
    await clock.advance(200);
    expect(attempts).toEqual([1, 2, 3]);
    await clock.advance(400);
    expect((await call.result).value).toBe('ok');
    expect(delays).toEqual([100, 200, 400]);
  });

  it('rejects with MaxAttemptsReachedError carrying the last error once attempts run out', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 3, initialDelay: 10, backoff: 'constant', jitter: false });
    const last = new Error('last');
    let n = 0;
    const call = track(
      retry.execute(() => {
        n++;
        throw n === 3 ? last : new Error(`attempt ${n}`);
      }),
    );
    await clock.runAll();
    const { error } = await call.result;
    expect(error).toBeInstanceOf(MaxAttemptsReachedError);
    expect(isMaxAttemptsReachedError(error)).toBe(true);
    expect((error as MaxAttemptsReachedError).attempts).toBe(3);
    expect((error as MaxAttemptsReachedError).cause).toBe(last);
  });

  it('rethrows a non-retryable error as it is, without another attempt', async () => {
    class Fatal extends Error {}
    const retry = new Retry({ clock: new FakeClock(), nonRetryableErrors: [Fatal] });
    const fatal = new Fatal('no');
    let n = 0;
    const error = await rejects(
      retry.execute(() => {
        n++;
        throw fatal;
      }),
    );
    expect(error).toBe(fatal);
    expect(n).toBe(1);
  });

  it('ends a backoff wait at once when the caller’s signal aborts, with its reason', async () => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, initialDelay: 10_000, jitter: false });
    const controller = new AbortController();
    let n = 0;
    const call = track(
      retry.execute(
        () => {
          n++;
          throw new Error('down');
        },
        { signal: controller.signal },
      ),
    );
    await flush();
    expect(call.settled()).toBe(false);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect((await call.result).error).toBe(reason);
    expect(n).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('never starts work for an already aborted signal', async () => {
    const retry = new Retry({ clock: new FakeClock() });
    const reason = new Error('already');
    let called = false;
    const error = await rejects(
      retry.execute(
        () => {
          called = true;
        },
        { signal: AbortSignal.abort(reason) },
      ),
    );
    expect(error).toBe(reason);
    expect(called).toBe(false);
  });

  it('rejects a bad config at construction, naming the field and the value', () => {
    expect(() => new Retry({ maxAttempts: 0 })).toThrow(/maxAttempts.*0/);
    expect(() => new Retry({ initialDelay: Number.NaN })).toThrow(/initialDelay.*NaN/);
    expect(() => new Retry({ retries: 2 } as never)).toThrow('retries');
  });
});
