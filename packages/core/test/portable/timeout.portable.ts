// Timeout on every runtime, against the built core, on a fake clock.
import { isTimeoutError, Timeout, TimeoutError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, flush, it, rejects, track } from './harness.ts';

const never = (): Promise<never> => new Promise<never>(() => {});

describe('Timeout', () => {
  it('returns the result of work that ends in time, leaving no timer armed for it', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1_000 });
    expect(await timeout.execute(async () => 'fast')).toBe('fast');
    expect(await timeout.execute(() => 7)).toBe(7);
  });

  it('rejects with TimeoutError when time is up, even when fn ignores its signal, and aborts ctx.signal', async () => {
    const clock = new FakeClock();
    let timedOut = 0;
    const timeout = new Timeout({ clock, defaultTimeout: 500, onTimeout: () => timedOut++ });
    let seen: AbortSignal | undefined;
    const call = track(
      timeout.execute(({ signal }) => {
        seen = signal;
        return never();
      }),
    );
    await clock.advance(499);
    expect(call.settled()).toBe(false);
    await clock.advance(1);
    const { error } = await call.result;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(500);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(timedOut).toBe(1);
  });

  it('takes a per-call timeout and hands the work its deadline', async () => {
    const clock = new FakeClock({ now: 1_000 });
    const timeout = new Timeout({ clock, defaultTimeout: 10_000 });
    let deadline: number | undefined;
    const call = track(
      timeout.execute(
        (ctx) => {
          deadline = ctx.deadline;
          return never();
        },
        { timeout: 50 },
      ),
    );
    await flush();
    expect(deadline).toBe(1_050);
    await clock.advance(50);
    expect((await call.result).error).toBeInstanceOf(TimeoutError);
  });

  it('rejects at once with the caller’s reason when the caller aborts: not a timeout', async () => {
    const clock = new FakeClock();
    let timedOut = 0;
    const timeout = new Timeout({ clock, defaultTimeout: 500, onTimeout: () => timedOut++ });
    const controller = new AbortController();
    const call = track(timeout.execute(never, { signal: controller.signal }));
    await flush();
    const reason = new Error('client left');
    controller.abort(reason);
    expect((await call.result).error).toBe(reason);
    await clock.advance(1_000);
    expect(timedOut).toBe(0);
  });

  it('passes the work’s own error through', async () => {
    const timeout = new Timeout({ clock: new FakeClock(), defaultTimeout: 100 });
    const own = new Error('own');
    expect(
      await rejects(
        timeout.execute(() => {
          throw own;
        }),
      ),
    ).toBe(own);
  });

  it('rejects a bad config at construction, naming the field and the value', () => {
    expect(() => new Timeout({ defaultTimeout: -5 })).toThrow(/defaultTimeout.*-5/);
    expect(() => new Timeout({ defaultTimeout: Number.NaN })).toThrow(/defaultTimeout.*NaN/);
  });
});
