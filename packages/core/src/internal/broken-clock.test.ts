import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection } from '../../test/support.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import type { Clock } from '../clock/clock.js';
import { isBulkheadFullError, isTimeoutError } from '../errors/guards.js';
import type { Logger } from '../observability/types.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/timeout.js';

failOnUnhandledRejection();

/**
 * A user's clock can be broken in ways the patterns must survive: its
 * `clearTimeout` throws (or silently clears nothing), its `setTimeout` throws
 * now and then, its handles' `ref`/`unref` throw. None of that may change a
 * call's outcome, wedge a pattern, or throw out of a timer or an abort
 * listener (that would crash the process).
 */
interface BrokenClock extends Clock {
  readonly fake: FakeClock;
  /** `clearTimeout` throws (and clears nothing) while true. */
  clearThrows: boolean;
  /** How many next `setTimeout` calls throw. */
  failSets: number;
}

function brokenClock(): BrokenClock {
  const fake = new FakeClock();
  const clock: BrokenClock = {
    fake,
    clearThrows: true,
    failSets: 0,
    now: () => fake.now(),
    setTimeout: (fn, ms) => {
      if (clock.failSets > 0) {
        clock.failSets--;
        throw new Error('setTimeout broke');
      }
      return fake.setTimeout(fn, ms);
    },
    clearTimeout: (handle) => {
      if (clock.clearThrows) throw new Error('clearTimeout broke');
      fake.clearTimeout(handle);
    },
  };
  return clock;
}

function errorLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (msg) => {
      messages.push(msg);
    },
  };
}

/** Runs `body` and reports what reached the process as uncaught (a throw out of a listener or a timer). */
async function uncaughtDuring(body: () => Promise<void>): Promise<unknown[]> {
  const caught: unknown[] = [];
  const onUncaught = (err: unknown) => caught.push(err);
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onUncaught);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('uncaughtException', onUncaught);
    for (const listener of listeners) process.on('uncaughtException', listener);
  }
  return caught;
}

describe('Timeout with a broken clock', () => {
  it('keeps the work value when clearTimeout throws, logs it, and the stale timer records no timeout', async () => {
    const clock = brokenClock();
    const logger = errorLogger();
    const onTimeout = vi.fn();
    const timeout = new Timeout({ clock, defaultTimeout: 1000, onTimeout, logger });
    // A per-call limit gets a timer of its own, cleared when the call settles.
    await expect(timeout.execute(async () => 42, { timeout: 500 })).resolves.toBe(42);
    expect(logger.messages).toContain('clock.clearTimeout threw');
    // The timer the clock failed to clear fires later and finds the call settled.
    await clock.fake.advance(10_000);
    expect(onTimeout).not.toHaveBeenCalled();
    expect(clock.fake.pendingTimers).toBe(0);
  });

  it('a settled call whose long (stepped) timer was not cleared does not re-arm it', async () => {
    const clock = brokenClock();
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    await expect(timeout.execute(async () => 1, { timeout: 40 * 24 * 3_600_000 })).resolves.toBe(1);
    expect(clock.fake.pendingTimers).toBe(1);
    await clock.fake.advance(2_147_483_647);
    expect(clock.fake.pendingTimers).toBe(0);
  });

  it('still times calls out after setTimeout threw once (no pattern wedged)', async () => {
    const clock = brokenClock();
    clock.clearThrows = false;
    const timeout = new Timeout({ clock, defaultTimeout: 100 });
    clock.failSets = 1;
    await expect(timeout.execute(() => new Promise(() => {}))).rejects.toThrow('setTimeout broke');
    const next = timeout.execute(() => new Promise(() => {}));
    const outcome = next.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await clock.fake.advance(100);
    expect(isTimeoutError(await outcome)).toBe(true);
  });

  it('keeps the outcome when the handle of a user clock has ref/unref that throw', async () => {
    const fake = new FakeClock();
    const broken = () => {
      throw new Error('handle broke');
    };
    const clock: Clock = {
      now: () => fake.now(),
      setTimeout: (fn, ms) => ({ id: fake.setTimeout(fn, ms), ref: broken, unref: broken }),
      clearTimeout: (handle) => fake.clearTimeout((handle as { id: number }).id),
    };
    const timeout = new Timeout({ clock, defaultTimeout: 1000 });
    await expect(timeout.execute(async () => 1)).resolves.toBe(1);
    await expect(timeout.execute(async () => 2)).resolves.toBe(2);
    const hung = timeout.execute(() => new Promise(() => {})).catch((err: unknown) => err);
    await fake.advance(1000);
    expect(isTimeoutError(await hung)).toBe(true);
  });
});

describe('Bulkhead with a broken clock', () => {
  it('hands the slot over and keeps both outcomes when clearTimeout throws', async () => {
    const clock = brokenClock();
    const logger = errorLogger();
    const bulkhead = new Bulkhead({ clock, maxConcurrent: 1, maxQueue: 5, queueTimeout: 1000, logger });
    const first = deferred<number>();
    const p1 = bulkhead.execute(() => first.promise);
    const p2 = bulkhead.execute(async () => 2);
    first.resolve(1);
    await expect(p1).resolves.toBe(1);
    await expect(p2).resolves.toBe(2);
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.queued).toBe(0);
    expect(logger.messages).toContain('clock.clearTimeout threw');
    // The uncleared queue timer fires and expires nobody; the bulkhead still admits.
    await clock.fake.advance(1000);
    await expect(bulkhead.execute(async () => 3)).resolves.toBe(3);
  });

  it('rejects a call whose queue timer the clock cannot arm, and never runs it later', async () => {
    const clock = brokenClock();
    clock.clearThrows = false;
    const bulkhead = new Bulkhead({ clock, maxConcurrent: 1, maxQueue: 5, queueTimeout: 1000 });
    const first = deferred<number>();
    const p1 = bulkhead.execute(() => first.promise);
    clock.failSets = 1;
    const ran = vi.fn();
    await expect(bulkhead.execute(ran)).rejects.toThrow('setTimeout broke');
    expect(bulkhead.queued).toBe(0);
    // The next waiter arms the timer again, and it still expires on time.
    const p3 = bulkhead.execute(async () => 3).catch((err: unknown) => err);
    await clock.fake.advance(1000);
    expect(isBulkheadFullError(await p3)).toBe(true);
    first.resolve(1);
    await expect(p1).resolves.toBe(1);
    expect(ran).not.toHaveBeenCalled();
    expect(bulkhead.active).toBe(0);
  });
});

describe('Retry and RateLimiter with a clock whose clearTimeout throws', () => {
  it("a retry delay ended by the caller's abort rejects with the reason and throws nothing out of the listener", async () => {
    const clock = brokenClock();
    const retry = new Retry({ clock, maxAttempts: 3, initialDelay: 1000 });
    const controller = new AbortController();
    const reason = new Error('caller left');
    const uncaught = await uncaughtDuring(async () => {
      const call = retry.execute(
        () => {
          throw new Error('down');
        },
        { signal: controller.signal },
      );
      await clock.fake.advance(0);
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
      await clock.fake.advance(1000);
    });
    expect(uncaught).toEqual([]);
  });

  it("a rate-limit wait ended by the caller's abort rejects with the reason; the next waiter is still served", async () => {
    const clock = brokenClock();
    const limiter = new RateLimiter({ clock, rate: 1, interval: 1000 });
    expect(limiter.allow()).toBe(true);
    const controller = new AbortController();
    const reason = new Error('caller left');
    const uncaught = await uncaughtDuring(async () => {
      const first = limiter.wait(undefined, { signal: controller.signal });
      const second = limiter.wait();
      controller.abort(reason);
      await expect(first).rejects.toBe(reason);
      await clock.fake.advance(1000);
      await expect(second).resolves.toBeUndefined();
      // The first head's timer, never cleared, fires after the queue was dropped and serves nobody.
      await clock.fake.advance(5000);
    });
    expect(uncaught).toEqual([]);
  });

  it('a rate-limit wait whose timer the clock cannot arm rejects with its error and keeps no token', async () => {
    const clock = brokenClock();
    clock.clearThrows = false;
    const limiter = new RateLimiter({ clock, rate: 1, interval: 1000 });
    expect(limiter.allow()).toBe(true);
    clock.failSets = 1;
    await expect(limiter.wait()).rejects.toThrow('setTimeout broke');
    await clock.fake.advance(1000);
    expect(limiter.allow()).toBe(true);
  });
});

describe('Bulkhead with a clock that fails at random (property)', () => {
  it('in any interleaving: every call settles once, a call refused by the clock never runs, nothing is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.record({ abort: fc.boolean(), fail: fc.boolean() }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        async (s, maxConcurrent, plans, setFails, clearFails) => {
          const fake = new FakeClock();
          const clock: Clock = {
            now: () => fake.now(),
            setTimeout: (fn, ms) => {
              if (setFails.shift() === true) throw new Error('setTimeout broke');
              return fake.setTimeout(fn, ms);
            },
            clearTimeout: (handle) => {
              if (clearFails.shift() === true) throw new Error('clearTimeout broke');
              fake.clearTimeout(handle);
            },
          };
          const bulkhead = new Bulkhead<number>({ clock, maxConcurrent, maxQueue: 10, queueTimeout: 100 });
          let running = 0;
          let peak = 0;
          const started = new Set<number>();
          const controllers = plans.map(() => new AbortController());
          const outcomes: string[] = plans.map(() => 'pending');
          const settled = plans.map(() => 0);
          const calls = plans.map((plan, i) => {
            const work = async (): Promise<number> => {
              started.add(i);
              running++;
              peak = Math.max(peak, running);
              try {
                await s.schedule(Promise.resolve(), `work ${i}`);
                if (plan.fail) throw new Error(`fail ${i}`);
                return i;
              } finally {
                running--;
              }
            };
            const promise = bulkhead.execute(work, { signal: controllers[i]?.signal });
            promise.then(
              () => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = 'ok';
              },
              (err: unknown) => {
                settled[i] = (settled[i] ?? 0) + 1;
                outcomes[i] = isBulkheadFullError(err)
                  ? 'full'
                  : (err as Error).message === 'setTimeout broke'
                    ? 'clock'
                    : err === controllers[i]?.signal.reason
                      ? 'aborted'
                      : 'failed';
              },
            );
            return promise;
          });
          for (const [i, plan] of plans.entries()) {
            if (plan.abort)
              s.schedule(Promise.resolve(), `abort ${i}`).then(() => controllers[i]?.abort(new Error(`abort ${i}`)));
          }
          for (let t = 0; t < 3; t++) s.schedule(Promise.resolve(), `tick ${t}`).then(() => fake.advance(50));
          await s.waitIdle();
          await fake.advance(1000);
          await s.waitIdle();
          await Promise.allSettled(calls);

          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(settled.every((n) => n === 1)).toBe(true);
          for (const [i, outcome] of outcomes.entries()) {
            if (outcome === 'clock' || outcome === 'aborted' || outcome === 'full') expect(started.has(i)).toBe(false);
            if (outcome === 'ok' || outcome === 'failed') expect(plans[i]?.fail).toBe(outcome === 'failed');
          }
          expect(bulkhead.active).toBe(0);
          expect(bulkhead.queued).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
