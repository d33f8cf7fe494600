import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection, outcome, recordingSystemClock } from '../../test/support.js';
import { listenersAfterTurn } from '../../test/waits-support.js';
import type { ExecutionContext } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { isTimeoutError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from './timeout.js';

failOnUnhandledRejection();

describe('Timeout: per-call limits and deadlines', () => {
  it('gives a call with its own timeout its own timer, cleared when it settles', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    const work = deferred<number>();
    const done = timeout.execute(() => work.promise, { timeout: 20 });
    expect(clock.pendingTimers).toBe(1);
    work.resolve(1);
    await expect(done).resolves.toBe(1);
    expect(clock.pendingTimers).toBe(0);
    const late = outcome(timeout.execute(() => new Promise(() => {}), { timeout: 20 }));
    await clock.advance(20);
    expect(((await late).error as TimeoutError).timeoutMs).toBe(20);
  });

  it('a timeout equal to the default shares the queue', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 10 });
    const done = outcome(timeout.execute(() => new Promise(() => {}), { timeout: 10 }));
    await clock.advance(10);
    expect(isTimeoutError((await done).error)).toBe(true);
  });

  it('keeps an earlier caller deadline and ignores a later one', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const deadlines: (number | undefined)[] = [];
    await timeout.execute(async (ctx) => deadlines.push(ctx.deadline), { deadline: 40 });
    await timeout.execute(async (ctx) => deadlines.push(ctx.deadline), { deadline: 400 });
    expect(deadlines).toEqual([40, 100]);
    const done = outcome(timeout.execute(() => new Promise(() => {}), { deadline: 40 }));
    await clock.advance(40);
    expect(((await done).error as TimeoutError).timeoutMs).toBe(40);
  });

  it('nested timeouts keep the earliest deadline', async () => {
    const clock = new FakeClock();
    const outer = new Timeout({ clock, defaultTimeout: 100 });
    const inner = new Timeout({ clock, defaultTimeout: 500 });
    let innerCtx: ExecutionContext | undefined;
    const done = outcome(
      outer.execute((ctx) =>
        inner.execute((c) => {
          innerCtx = c;
          return new Promise(() => {});
        }, ctx),
      ),
    );
    expect(innerCtx?.deadline).toBe(100);
    await clock.advance(100);
    expect(((await done).error as TimeoutError).timeoutMs).toBe(100);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects without calling the work when no time is left', async () => {
    const clock = new FakeClock({ now: 500 });
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, defaultTimeout: 100, onTimeout });
    const fn = vi.fn(async () => 1);
    const { error } = await outcome(timeout.execute(fn, { deadline: 500 }));
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(0);
    expect(fn).not.toHaveBeenCalled();
    expect(onTimeout).toHaveBeenCalledWith(0);
    await expect(timeout.execute(fn, { timeout: 0 })).rejects.toBeInstanceOf(TimeoutError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a caller deadline out of queue order gets its own timer', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const first = outcome(timeout.execute(() => new Promise(() => {})));
    const second = outcome(timeout.execute(() => new Promise(() => {}), { deadline: 30 }));
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(30);
    expect(((await second).error as TimeoutError).timeoutMs).toBe(30);
    await clock.advance(70);
    expect(isTimeoutError((await first).error)).toBe(true);
  });

  it('with an infinite limit arms no timer and passes no deadline', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: Number.POSITIVE_INFINITY });
    const work = deferred<number>();
    let ctx: ExecutionContext | undefined;
    const done = timeout.execute((c) => {
      ctx = c;
      return work.promise;
    });
    expect(clock.pendingTimers).toBe(0);
    expect(ctx?.deadline).toBeUndefined();
    work.resolve(2);
    await expect(done).resolves.toBe(2);
  });

  it('waits out limits longer than a Node timer can arm', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 3e9 });
    const shared = outcome(timeout.execute(() => new Promise(() => {})));
    const own = outcome(timeout.execute(() => new Promise(() => {}), { timeout: 4e9 }));
    expect(clock.nextTimerAt).toBe(2_147_483_647);
    await clock.advance(2_147_483_647);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(3e9 - 2_147_483_647);
    expect(isTimeoutError((await shared).error)).toBe(true);
    await clock.advance(1e9);
    expect(isTimeoutError((await own).error)).toBe(true);
  });

  it('rejects an invalid per-call timeout with a RangeError', async () => {
    const timeout = new Timeout({ clock: new FakeClock() });
    await expect(timeout.execute(async () => 1, { timeout: -1 })).rejects.toThrow(
      'Timeout: timeout must be a number >= 0 (or Infinity), got -1',
    );
    await expect(timeout.execute(async () => 1, { timeout: Number.NaN })).rejects.toBeInstanceOf(RangeError);
    await expect(timeout.execute(async () => 1, { timeout: '5' as never })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('Timeout: the caller signal', () => {
  it('rejects at once with the reason of an aborted signal, without calling the work', async () => {
    const timeout = new Timeout();
    const fn = vi.fn(async () => 1);
    const reason = new Error('gone');
    await expect(timeout.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('listens to the caller signal while the work is pending, whether or not it reads ctx.signal, and stops once it settled', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const controller = new AbortController();
    const work = deferred<number>();
    await timeout.execute(async () => 1, { signal: controller.signal });
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    let signal: AbortSignal | undefined;
    const done = timeout.execute(
      (ctx) => {
        signal = ctx.signal;
        return work.promise;
      },
      { signal: controller.signal },
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    work.resolve(1);
    await done;
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    expect(signal?.aborted).toBe(false);
  });

  it('passes the caller abort on to ctx.signal', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const controller = new AbortController();
    const reason = new Error('caller gone');
    const done = timeout.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a signal first read after the caller aborted is already aborted, and the call rejects at once; one read after settling is not linked', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const controller = new AbortController();
    const reason = new Error('caller gone');
    let ctx: ExecutionContext | undefined;
    const work = deferred<number>();
    const done = timeout.execute(
      (c) => {
        ctx = c;
        return work.promise;
      },
      { signal: controller.signal },
    );
    controller.abort(reason);
    expect(ctx?.signal.reason).toBe(reason);
    await expect(done).rejects.toBe(reason);
    work.resolve(1);

    const other = new AbortController();
    await timeout.execute(
      async (c) => {
        ctx = c;
      },
      { signal: other.signal },
    );
    expect(ctx?.signal.aborted).toBe(false);
    expect(await listenersAfterTurn(other.signal)).toBe(0);
  });
});

describe('Timeout: real clock', () => {
  it('times out on the system clock, swallows the late rejection and keeps nothing alive', async () => {
    const timeout = new Timeout({ defaultTimeout: 15 });
    const done = timeout.execute(() => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)));
    await expect(done).rejects.toBeInstanceOf(TimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 40));
  });
});

describe('Timeout: process lifetime', () => {
  it('holds its shared timer only while a call waits on it, and clears a per-call timer when the call settles', async () => {
    const { clock, handles } = recordingSystemClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    const first = deferred<number>();
    const done = timeout.execute(() => first.promise);
    expect(handles).toHaveLength(1);
    expect(handles[0]?.hasRef()).toBe(true); // a call waits on it: the process must not exit
    first.resolve(1);
    await done;
    expect(handles[0]?.hasRef()).toBe(false); // idle: armed, but it keeps nothing alive
    const second = deferred<number>();
    const again = timeout.execute(() => second.promise);
    expect(handles).toHaveLength(1); // the armed timer is reused, held again
    expect(handles[0]?.hasRef()).toBe(true);
    second.resolve(2);
    await again;
    expect(handles[0]?.hasRef()).toBe(false);

    const clearTimeoutSpy = vi.spyOn(clock, 'clearTimeout');
    const own = deferred<number>();
    const ownDone = timeout.execute(() => own.promise, { timeout: 500 });
    expect(handles).toHaveLength(2);
    expect(handles[1]?.hasRef()).toBe(true);
    own.resolve(3);
    await ownDone;
    expect(clearTimeoutSpy).toHaveBeenCalledWith(handles[1]);
    for (const h of handles) clearTimeout(h);
  });
});

describe('Timeout: configuration', () => {
  it.each([
    [{ defaultTimeout: 0 }, 'Timeout: defaultTimeout must be a finite number (or Infinity) > 0, got 0'],
    [{ defaultTimeout: -5 }, 'defaultTimeout'],
    [{ defaultTimeout: Number.NaN }, 'defaultTimeout'],
    [{ onTimeout: 'x' }, 'onTimeout'],
    [{ clock: { now: () => 0 } }, 'clock'],
  ])('rejects %o', (config, message) => {
    expect(() => new Timeout(config as never)).toThrow(message);
  });

  it('defaults to 30 s', () => {
    expect(new Timeout().defaultTimeout).toBe(30_000);
  });
});

describe('Timeout: a caller deadline earlier than the shared timer', () => {
  it('fires at the caller deadline even while the shared timer is armed for later', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    await timeout.execute(async () => 1); // arms the shared timer for t=1000, then settles
    const result = outcome(timeout.execute(() => new Promise<never>(() => {}), { deadline: 10 }));
    await clock.advance(20);
    const { error } = await result;
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(10);
  });
});
