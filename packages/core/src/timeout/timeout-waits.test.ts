import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection } from '../../test/support.js';
import { captureWarnings, countingClock, listenersAfterTurn, THIRTY_DAYS } from '../../test/waits-support.js';
import type { ExecutionContext } from '../context.js';
import { isTimeoutError } from '../errors/guards.js';
import type { MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from './timeout.js';

failOnUnhandledRejection();

describe("Timeout: the caller's abort is not a timeout", () => {
  it('rejects at once with the caller reason when fn ignores its signal; no onTimeout, no recordTimeout', async () => {
    const clock = new FakeClock();
    const onTimeout = vi.fn();
    const recordTimeout = vi.fn();
    const metrics = { recordTimeout } as unknown as MetricsRecorder;
    const timeout = new Timeout({ clock, defaultTimeout: 1000, onTimeout, metrics });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const work = deferred<number>();
    let ctx: ExecutionContext | undefined;
    let settled: unknown = 'pending';
    const done = timeout
      .execute(
        (c) => {
          ctx = c;
          return work.promise; // ignores its signal
        },
        { signal: controller.signal },
      )
      .then(
        (v) => v,
        (err: unknown) => err,
      );
    void done.then((o) => {
      settled = o;
    });
    await clock.advance(10);
    controller.abort(reason);
    await clock.advance(0);
    expect(settled).toBe(reason);
    expect(ctx?.signal.reason).toBe(reason);
    await clock.advance(2000);
    work.resolve(1);
    expect(await done).toBe(reason);
    expect(onTimeout).not.toHaveBeenCalled();
    expect(recordTimeout).not.toHaveBeenCalled();
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the caller reason when the work aborts the caller signal itself before returning', async () => {
    const clock = new FakeClock();
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, defaultTimeout: 1000, onTimeout });
    const controller = new AbortController();
    const reason = new Error('cancelled inside');
    const done = timeout.execute(
      (ctx) => {
        void ctx.signal;
        controller.abort(reason);
        return new Promise<number>(() => {});
      },
      { signal: controller.signal },
    );
    await expect(done).rejects.toBe(reason);
    await clock.advance(2000);
    expect(onTimeout).not.toHaveBeenCalled();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a timeout that fires first wins, and a caller abort after it changes nothing', async () => {
    const clock = new FakeClock();
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, defaultTimeout: 100, onTimeout });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const done = timeout
      .execute(
        ({ signal }) => {
          inner = signal;
          // the caller gives up as soon as it hears of the timeout
          signal.addEventListener('abort', () => controller.abort(new Error('after')));
          return new Promise<number>(() => {});
        },
        { signal: controller.signal },
      )
      .catch((err: unknown) => err);
    await clock.advance(100);
    const err = await done;
    expect(isTimeoutError(err)).toBe(true);
    expect(inner?.reason).toBe(err);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('Timeout: many calls on one caller signal', () => {
  it.each([
    ['ignores', false],
    ['reads', true],
  ])('keeps one listener for 5,000 concurrent calls whose work %s its signal, and none after', async (_, reads) => {
    const warnings = captureWarnings();
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    const controller = new AbortController();
    const works = Array.from({ length: 5000 }, () => deferred<number>());
    const calls = works.map((work, i) =>
      timeout.execute(
        (ctx) => {
          if (reads) void ctx.signal;
          return work.promise.then(() => i);
        },
        { signal: controller.signal },
      ),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const work of works) work.resolve(0);
    const values = await Promise.all(calls);
    expect(values[4999]).toBe(4999);
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });

  it('an abort of a signal shared by 40,000 pending calls rejects each with the reason and leaves no listener', async () => {
    const warnings = captureWarnings();
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    const controller = new AbortController();
    const reason = new Error('shutdown');
    const never = new Promise<number>(() => {});
    const calls = Array.from({ length: 40_000 }, (_, i) =>
      timeout
        .execute(
          (ctx) => {
            if (i % 2 === 0) void ctx.signal;
            return never;
          },
          { signal: controller.signal },
        )
        .catch((err: unknown) => err),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(reason);
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o !== reason)).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});

describe('Timeout: the context it hands to the work', () => {
  it('is a plain context: JSON.stringify works under concurrency and no expire() is reachable', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    const works = [deferred<void>(), deferred<void>(), deferred<void>()];
    const contexts: ExecutionContext[] = [];
    const calls = works.map((work) =>
      timeout.execute((ctx) => {
        contexts.push(ctx);
        return work.promise;
      }),
    );
    for (const ctx of contexts) {
      expect(JSON.parse(JSON.stringify(ctx))).toEqual({ attempt: 1, deadline: 1000 });
      expect('expire' in ctx).toBe(false);
      expect('reject' in ctx).toBe(false);
    }
    for (const work of works) work.resolve();
    await Promise.all(calls);
  });
});

describe('Timeout: a limit beyond one platform timer', () => {
  it.each([
    ['the shared timer', undefined],
    ['a per-call timer', THIRTY_DAYS + 1],
  ])('waits it out in capped steps with %s, never early', async (_, own) => {
    const fake = new FakeClock();
    const clock = countingClock(fake);
    const timeout = new Timeout({ clock, defaultTimeout: THIRTY_DAYS });
    const limit = own ?? THIRTY_DAYS;
    let settled: unknown = 'pending';
    const done = timeout
      .execute(() => new Promise(() => {}), own === undefined ? undefined : { timeout: own })
      .catch((err: unknown) => err);
    void done.then((o) => {
      settled = o;
    });
    await fake.advance(limit - 1);
    expect(settled).toBe('pending');
    await fake.advance(1);
    expect(isTimeoutError(await done)).toBe(true);
    expect(clock.delays.every((ms) => ms <= 2 ** 31 - 1)).toBe(true);
    expect(clock.delays.length).toBeLessThanOrEqual(3);
  });
});

describe('Timeout: property, deadlines, caller aborts and work racing under any interleaving', () => {
  it('settles every call once, first of work, deadline or caller abort; only deadlines count as timeouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.record({
            own: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
            signal: fc.integer({ min: 0, max: 2 }),
            reads: fc.boolean(),
            settles: fc.boolean(),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
        fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 1, maxLength: 4 }),
        async (s, plans, aborts, steps) => {
          const clock = new FakeClock();
          let timeouts = 0;
          const timeout = new Timeout({ clock, defaultTimeout: 200, onTimeout: () => timeouts++ });
          const controllers = [new AbortController(), new AbortController()];
          const reasons = [new Error('abort 1'), new Error('abort 2')];
          const settled = plans.map(() => 0);
          const outcomes: unknown[] = plans.map(() => undefined);
          const calls = plans.map((plan, i) => {
            const signal = plan.signal === 0 ? undefined : controllers[plan.signal - 1]?.signal;
            const promise = timeout.execute(
              (ctx) => {
                if (plan.reads) void ctx.signal;
                return plan.settles ? s.schedule(Promise.resolve(i), `work ${i}`) : new Promise<number>(() => {});
              },
              { signal, timeout: plan.own },
            );
            promise.then(
              (value) => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = value;
              },
              (err: unknown) => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = err;
              },
            );
            return promise;
          });
          for (const [k, abort] of aborts.entries()) {
            if (abort) s.schedule(Promise.resolve(), `abort ${k}`).then(() => controllers[k]?.abort(reasons[k]));
          }
          for (const step of steps) s.schedule(Promise.resolve(), `advance ${step}`).then(() => clock.advance(step));
          await s.waitIdle();
          await clock.advance(1000);
          await Promise.allSettled(calls);
          expect(settled.every((n) => n === 1)).toBe(true);
          let timedOut = 0;
          for (const [i, plan] of plans.entries()) {
            const outcome = outcomes[i];
            const reason = plan.signal === 0 ? undefined : reasons[plan.signal - 1];
            if (isTimeoutError(outcome)) timedOut++;
            else if (outcome !== reason) expect(outcome).toBe(i); // else: the work's own value
            // work that never settles, on a signal that never aborts, can only time out
            if (!plan.settles && (plan.signal === 0 || !aborts[plan.signal - 1])) {
              expect(isTimeoutError(outcome)).toBe(true);
            }
          }
          expect(timeouts).toBe(timedOut);
          expect(clock.pendingTimers).toBe(0);
          for (const controller of controllers) expect(await listenersAfterTurn(controller.signal)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
