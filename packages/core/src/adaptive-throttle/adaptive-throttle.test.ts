import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { failOnUnhandledRejection, inMemoryTracing, outcome, recordingLogger } from '../../test/support.js';
import { pipeline } from '../compose/pipeline.js';
import { CircuitOpenError } from '../errors/errors.js';
import { isCircuitOpenError } from '../errors/guards.js';
import type { CallOutcome, MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { AdaptiveThrottle } from './adaptive-throttle.js';

failOnUnhandledRejection();

const ok = (): Promise<string> => Promise.resolve('ok');
const boom = (): Promise<never> => Promise.reject(new Error('boom'));

/** A random source that always answers `value`. */
const always = (value: number) => () => value;

describe('AdaptiveThrottle', () => {
  it('follows the formula max(0, (requests − k × accepts) / (requests + 1)), capped', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ k: 2, clock, random: always(0.999) });
    for (let i = 0; i < 10; i++) await outcome(throttle.execute(ok));
    for (let i = 0; i < 30; i++) await outcome(throttle.execute(boom));
    // 40 requests, 10 accepts: (40 − 20) / 41.
    expect(throttle.requests).toBe(40);
    expect(throttle.accepts).toBe(10);
    expect(throttle.rejectionProbability).toBeCloseTo(20 / 41, 12);
    for (let i = 0; i < 1000; i++) await outcome(throttle.execute(boom));
    expect(throttle.rejectionProbability).toBe(0.9);
    const pure = new AdaptiveThrottle({ clock, maxRejectionProbability: 1, random: always(0.9999) });
    for (let i = 0; i < 100; i++) await outcome(pure.execute(boom));
    expect(pure.rejectionProbability).toBeCloseTo(100 / 101, 12);
  });

  it('rejects locally with a CircuitOpenError without calling fn, and counts the rejection as a request', async () => {
    const clock = new FakeClock();
    const onRejected = vi.fn();
    const throttle = new AdaptiveThrottle({ k: 1, clock, random: always(0), onRejected });
    await outcome(throttle.execute(boom));
    const fn = vi.fn(ok);
    const error = (await outcome(throttle.execute(fn))).error;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
    expect(throttle.requests).toBe(2);
    expect(onRejected).toHaveBeenCalledWith(0.5);
  });

  it('with a random draw above the probability it lets the call through', async () => {
    const throttle = new AdaptiveThrottle({ k: 1, clock: new FakeClock(), random: always(0.6) });
    await outcome(throttle.execute(boom));
    expect(throttle.rejectionProbability).toBe(0.5);
    await expect(throttle.execute(ok)).resolves.toBe('ok');
  });

  it('forgets counts that slid out of the window, in ten steps', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ window: 1000, clock, random: always(0.999) });
    for (let i = 0; i < 5; i++) await outcome(throttle.execute(boom));
    await clock.advance(500);
    for (let i = 0; i < 5; i++) await outcome(throttle.execute(boom));
    expect(throttle.requests).toBe(10);
    await clock.advance(500);
    expect(throttle.requests).toBe(5);
    await clock.advance(500);
    expect(throttle.requests).toBe(0);
    expect(throttle.rejectionProbability).toBe(0);
    await clock.advance(10 ** 12);
    expect(throttle.requests).toBe(0);
  });

  it('counts an error isSuccessful accepts as accepted, and a cancelled call not at all', async () => {
    const throttle = new AdaptiveThrottle({
      clock: new FakeClock(),
      isSuccessful: (err) => (err as Error).message === 'not found',
    });
    await outcome(throttle.execute(() => Promise.reject(new Error('not found'))));
    expect([throttle.requests, throttle.accepts]).toEqual([1, 1]);
    const controller = new AbortController();
    const call = throttle.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    expect([throttle.requests, throttle.accepts]).toEqual([1, 1]);
  });

  it('reports outcomes to the breaker call metric and spans named resilience.adaptive_throttle', async () => {
    const outcomes: CallOutcome[] = [];
    const metrics: MetricsRecorder = {
      recordCircuitBreakerState: vi.fn(),
      recordRetryAttempt: vi.fn(),
      recordRateLimitHit: vi.fn(),
      recordBulkheadUtilization: vi.fn(),
      recordTimeout: vi.fn(),
      recordCircuitBreakerCall: (_name, o) => outcomes.push(o),
    };
    const { exporter, provider } = inMemoryTracing();
    const throttle = new AdaptiveThrottle({
      k: 1,
      clock: new FakeClock(),
      random: always(0),
      metrics,
      tracer: provider.getTracer('t'),
    });
    await outcome(throttle.execute(ok));
    await outcome(throttle.execute(boom));
    await outcome(throttle.execute(boom));
    await outcome(throttle.execute(ok));
    // After one success and one failure, p = (2 − 1) / 3 > 0 and the draw is 0: rejected from then on.
    expect(outcomes).toEqual(['success', 'failure', 'rejected', 'rejected']);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(Array(4).fill('resilience.adaptive_throttle'));
  });

  it('survives a random source that throws or answers nonsense, and broken hooks', async () => {
    const logger = recordingLogger();
    for (const random of [
      () => {
        throw new Error('no entropy');
      },
      () => Number.NaN,
      () => 7,
    ]) {
      const throttle = new AdaptiveThrottle({
        k: 1,
        clock: new FakeClock(),
        random,
        logger,
        onRejected: () => {
          throw new Error('hook');
        },
      });
      await outcome(throttle.execute(boom));
      // p = 0.5: the call is decided by Math.random; either way it settles.
      const result = await outcome(throttle.execute(ok));
      expect(result.value === 'ok' || isCircuitOpenError(result.error)).toBe(true);
    }
  });

  it('validates its config, naming the option and the value', () => {
    expect(() => new AdaptiveThrottle({ k: 0.5 })).toThrow(/k must be a finite number >= 1, got 0.5/);
    expect(() => new AdaptiveThrottle({ k: Number.NaN })).toThrow(/k.*NaN/);
    expect(() => new AdaptiveThrottle({ window: 0 })).toThrow(/window.*got 0/);
    expect(() => new AdaptiveThrottle({ maxRejectionProbability: 0 })).toThrow(/maxRejectionProbability.*got 0/);
    expect(() => new AdaptiveThrottle({ maxRejectionProbability: 1.5 })).toThrow(/maxRejectionProbability/);
    expect(() => new AdaptiveThrottle({ window: Number.POSITIVE_INFINITY })).toThrow(/window/);
    expect(() => new AdaptiveThrottle({ isSuccessful: async () => true } as never)).toThrow(/async function/);
    expect(() => new AdaptiveThrottle({ failureThreshold: 5 } as never)).toThrow(/no thresholds/);
    expect(() => new AdaptiveThrottle(null as never)).toThrow(/config must be an object/);
  });

  it('never throws synchronously and composes in a pipeline', async () => {
    const throttle = new AdaptiveThrottle();
    await expect(throttle.execute(42 as never)).rejects.toThrow(TypeError);
    await expect(throttle.execute(() => 1, null as never)).resolves.toBe(1);
    const reason = new Error('aborted');
    await expect(throttle.execute(ok, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(
      throttle.execute(() => {
        throw 'a string';
      }),
    ).rejects.toBe('a string');
    const policy = pipeline<string>().adaptiveThrottle({ k: 2 }).build();
    await expect(policy.execute(ok)).resolves.toBe('ok');
  });
});

describe('AdaptiveThrottle properties', () => {
  it('never rejects when nothing fails, whatever k >= 1, window, timing and random draws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 5_000 }), draw: fc.double({ min: 0, max: 0.9999 }) }), {
          maxLength: 60,
        }),
        async (k, window, calls) => {
          const clock = new FakeClock();
          let draw = 0;
          const throttle = new AdaptiveThrottle({ k, window, clock, random: () => draw });
          for (const call of calls) {
            await clock.advance(call.gap);
            draw = call.draw;
            expect(throttle.rejectionProbability).toBe(0);
            await expect(throttle.execute(ok)).resolves.toBe('ok');
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never rejects when nothing fails, with calls overlapping in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        async (s, k, n) => {
          const clock = new FakeClock();
          const throttle = new AdaptiveThrottle({ k, window: 100, clock, random: () => 0 });
          const calls = Array.from({ length: n }, (_, i) =>
            outcome(throttle.execute(() => s.schedule(Promise.resolve(i), `call ${i}`))),
          );
          await s.waitIdle();
          const results = await Promise.all(calls);
          expect(results.map((r) => r.value)).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(throttle.rejectionProbability).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the probability stays in [0, 1) and matches the formula over the window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 300 }),
            fail: fc.boolean(),
            draw: fc.double({ min: 0, max: 0.9999 }),
          }),
          {
            maxLength: 80,
          },
        ),
        fc.constantFrom(1, 0.9, 0.5),
        async (k, calls, cap) => {
          const clock = new FakeClock();
          let draw = 0;
          const throttle = new AdaptiveThrottle({
            k,
            window: 1000,
            clock,
            random: () => draw,
            maxRejectionProbability: cap,
          });
          for (const call of calls) {
            await clock.advance(call.gap);
            draw = call.draw;
            const p = throttle.rejectionProbability;
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThan(1);
            const { requests, accepts } = throttle;
            const formula = Math.max(0, (requests - k * accepts) / (requests + 1));
            expect(p).toBeCloseTo(Math.min(cap, formula), 12);
            await outcome(throttle.execute(call.fail ? boom : ok));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('AdaptiveThrottle under a hostile clock or window (regressions)', () => {
  /** A clock the test sets by hand (it may go back, which FakeClock does not). */
  const manualClock = () => {
    const clock = { t: 0, now: () => clock.t, setTimeout: setTimeout, clearTimeout: clearTimeout };
    return clock;
  };

  it('goes on forgetting after the clock jumped forward and back', async () => {
    const clock = manualClock();
    const throttle = new AdaptiveThrottle({ window: 1000, clock, random: always(0.999) });
    clock.t = 1e9;
    await outcome(throttle.execute(ok));
    clock.t = 0; // NTP stepped the clock back.
    for (let i = 0; i < 20; i++) await outcome(throttle.execute(boom));
    expect(throttle.requests).toBe(21);
    clock.t = 5000; // Five windows later, by the clock as it is now.
    expect(throttle.requests).toBe(0);
    expect(throttle.rejectionProbability).toBe(0);
  });

  it('a clock that goes back before the origin counts and forgets normally', async () => {
    const clock = manualClock();
    clock.t = 10_000;
    const throttle = new AdaptiveThrottle({ window: 1000, clock, random: always(0.999) });
    clock.t = 0;
    for (let i = 0; i < 5; i++) await outcome(throttle.execute(boom));
    expect(throttle.requests).toBe(5);
    clock.t = 950;
    await outcome(throttle.execute(boom));
    expect(throttle.requests).toBe(6);
    clock.t = 2500;
    expect(throttle.requests).toBe(0);
  });

  it('a window too fine for the clock forgets instead of counting forever', async () => {
    const clock = manualClock();
    const throttle = new AdaptiveThrottle({ window: 1e-310, clock, random: always(0.999) });
    for (let i = 0; i < 50; i++) {
      clock.t += 1;
      await outcome(throttle.execute(boom));
    }
    clock.t += 1000;
    expect(throttle.requests).toBe(0);
    expect(throttle.rejectionProbability).toBe(0);
  });
});

describe('AdaptiveThrottle inside a Timeout, against a dependency that hangs (regression)', () => {
  const hang = ({ signal }: { signal: AbortSignal }): Promise<never> =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

  it('counts a call the Timeout gave up on as a request not accepted (it used to count none)', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ clock, random: always(0) });
    const policy = pipeline().timeout({ defaultTimeout: 100, clock }).adaptiveThrottle(throttle).build();
    const names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const call = outcome(policy.execute(hang));
      await clock.advance(100);
      names.push(((await call).error as Error).name);
    }
    // The first call times out; from then on the throttle sheds calls locally.
    expect(names[0]).toBe('TimeoutError');
    expect(names.slice(1)).toEqual(Array(9).fill('CircuitOpenError'));
    expect(throttle.requests).toBe(10);
    expect(throttle.accepts).toBe(0);
    expect(throttle.rejectionProbability).toBeGreaterThan(0);
    // A caller that goes away is still counted neither way.
    const caller = new AbortController();
    const before = throttle.requests;
    const fresh = new AdaptiveThrottle({ clock, random: always(0.999) });
    const call = outcome(fresh.execute(hang, { signal: caller.signal }));
    caller.abort(new Error('gone'));
    expect(await call).toEqual({ error: new Error('gone') });
    expect(fresh.requests).toBe(0);
    expect(throttle.requests).toBe(before);
  });
});

describe('AdaptiveThrottle window under any clock moves (property)', () => {
  it('keeps 0 <= accepts <= requests, and forgets everything one window after the last count, wherever the clock went', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: -5_000_000, max: 5_000_000 }), fc.boolean()), { maxLength: 60 }),
        fc.integer({ min: 1, max: 100_000 }),
        async (steps, window) => {
          const clock = { t: 0, now: () => clock.t, setTimeout, clearTimeout };
          const throttle = new AdaptiveThrottle({ window, clock, random: always(0.999) });
          for (const [dt, success] of steps) {
            clock.t += dt;
            await outcome(throttle.execute(success ? ok : boom));
            expect(throttle.accepts).toBeGreaterThanOrEqual(0);
            expect(throttle.accepts).toBeLessThanOrEqual(throttle.requests);
          }
          clock.t += window * 1.2;
          expect(throttle.requests).toBe(0);
          expect(throttle.accepts).toBe(0);
        },
      ),
    );
  });
});
