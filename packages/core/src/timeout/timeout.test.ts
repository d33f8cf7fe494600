import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection, inMemoryTracing, outcome } from '../../test/support.js';
import type { ExecutionContext } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { isTimeoutError } from '../errors/guards.js';
import type { Logger, MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from './timeout.js';

failOnUnhandledRejection();

describe('Timeout: in time', () => {
  it('returns the value and aborts nothing', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    let signal: AbortSignal | undefined;
    await expect(
      timeout.execute(async (ctx) => {
        signal = ctx.signal;
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(signal?.aborted).toBe(false);
    await clock.advance(100);
    expect(signal?.aborted).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('returns sync values and rethrows sync throws as they are', async () => {
    const timeout = new Timeout({ clock: new FakeClock() });
    await expect(timeout.execute(() => 5)).resolves.toBe(5);
    await expect(
      timeout.execute(() => {
        throw 'plain';
      }),
    ).rejects.toBe('plain');
    await expect(timeout.execute(() => Promise.reject(undefined))).rejects.toBeUndefined();
  });

  it('accepts a thenable that is not a native promise', async () => {
    const timeout = new Timeout({ clock: new FakeClock() });
    // biome-ignore lint/suspicious/noThenProperty: the test needs a thenable that is not a native promise.
    const thenable: PromiseLike<number> = { then: (onValue) => Promise.resolve(onValue?.(3)) as never };
    await expect(timeout.execute(() => thenable)).resolves.toBe(3);
  });

  it('gives the work the deadline, the attempt and a lazily created signal', async () => {
    const clock = new FakeClock({ now: 1000 });
    const timeout = new Timeout({ clock, defaultTimeout: 250 });
    let ctx: ExecutionContext | undefined;
    await timeout.execute(
      async (c) => {
        ctx = c;
      },
      { attempt: 3 },
    );
    expect(ctx?.deadline).toBe(1250);
    expect(ctx?.attempt).toBe(3);
    expect(ctx?.signal).toBe(ctx?.signal);
    expect(ctx?.signal.aborted).toBe(false);
  });
});

describe('Timeout: out of time', () => {
  it('rejects with TimeoutError at once even when the work ignores the signal', async () => {
    const clock = new FakeClock();
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, defaultTimeout: 100, onTimeout });
    const work = deferred<string>();
    let ctx: ExecutionContext | undefined;
    const done = outcome(
      timeout.execute((c) => {
        ctx = c;
        return work.promise;
      }),
    );
    await clock.advance(99);
    expect(onTimeout).not.toHaveBeenCalled();
    await clock.advance(1);
    const { error } = await done;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect((error as TimeoutError).name).toBe('TimeoutError');
    expect(onTimeout).toHaveBeenCalledWith(100);
    // read after the timeout: already aborted with the same error
    expect(ctx?.signal.aborted).toBe(true);
    expect(ctx?.signal.reason).toBe(error);
    work.reject(new Error('late failure')); // swallowed: afterEach fails on an unhandled rejection
    work.resolve('late value');
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts a signal the work holds with the TimeoutError', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 10 });
    const reasons: unknown[] = [];
    const done = outcome(
      timeout.execute(
        ({ signal }) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reasons.push(signal.reason);
              reject(new Error('work saw the abort'));
            });
          }),
      ),
    );
    await clock.advance(10);
    const { error } = await done;
    expect(reasons).toEqual([error]);
    expect(isTimeoutError(error)).toBe(true);
  });

  it('expires queued calls in order and re-arms the one timer for the next', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const first = deferred<number>();
    const a = outcome(timeout.execute(() => first.promise));
    await clock.advance(30);
    const b = outcome(timeout.execute(() => new Promise<number>(() => {})));
    await clock.advance(30);
    const c = outcome(timeout.execute(() => new Promise<number>(() => {})));
    expect(clock.pendingTimers).toBe(1);
    first.resolve(1);
    expect(await a).toEqual({ value: 1 });
    await clock.advance(40); // t=100: the timer finds no due call and re-arms for b
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(130);
    await clock.advance(30);
    expect(isTimeoutError((await b).error)).toBe(true);
    await clock.advance(29);
    expect(clock.nextTimerAt).toBe(160);
    await clock.advance(1);
    expect(isTimeoutError((await c).error)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('unlinks calls that settle out of order and still expires the rest', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    const works = [deferred<number>(), deferred<number>(), deferred<number>(), deferred<number>()];
    const calls = works.map((w) => outcome(timeout.execute(() => w.promise)));
    works[2]?.resolve(2); // a middle one
    works[3]?.resolve(3); // the tail
    await clock.advance(10);
    const later = outcome(timeout.execute(() => new Promise<number>(() => {})));
    await clock.advance(90);
    const results = await Promise.all(calls);
    expect(results.map((r) => (isTimeoutError(r.error) ? 'timeout' : r.value))).toEqual(['timeout', 'timeout', 2, 3]);
    await clock.advance(10);
    expect(isTimeoutError((await later).error)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('expires every queued call that is due when the timer fires', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 50 });
    const never = (): Promise<never> => new Promise<never>(() => {});
    const calls = [outcome(timeout.execute(never)), outcome(timeout.execute(never)), outcome(timeout.execute(never))];
    await clock.advance(50);
    const results = await Promise.all(calls);
    expect(results.every((r) => isTimeoutError(r.error))).toBe(true);
  });

  it('records the timeout and logs it; a throwing onTimeout is logged', async () => {
    const clock = new FakeClock();
    const records: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (msg: string) => records.push(`warn: ${msg}`),
      error: (msg: string) => records.push(`error: ${msg}`),
    } as Logger;
    const recordTimeout = vi.fn();
    const metrics = { recordTimeout } as unknown as MetricsRecorder;
    const timeout = new Timeout({
      clock,
      name: 'db',
      logger,
      metrics,
      defaultTimeout: 5,
      onTimeout: () => {
        throw new Error('hook broke');
      },
    });
    const done = outcome(timeout.execute(() => new Promise(() => {})));
    await clock.advance(5);
    expect(isTimeoutError((await done).error)).toBe(true);
    expect(recordTimeout).toHaveBeenCalledWith('db');
    expect(records).toEqual(['warn: timed out', 'error: onTimeout threw']);
  });

  it('sets the span status to error on timeout', async () => {
    const { exporter, provider } = inMemoryTracing();
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 5, tracer: provider.getTracer('t') });
    await timeout.execute(async () => 1);
    const done = outcome(timeout.execute(() => new Promise(() => {})));
    await clock.advance(5);
    await done;
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.status.code, s.attributes['resilience.timeout.ms']])).toEqual([
      ['resilience.timeout', 0, 5],
      ['resilience.timeout', 2, 5],
    ]);
  });
});
