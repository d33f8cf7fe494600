import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deferred, failOnUnhandledRejection, inMemoryTracing, outcome, recordingLogger } from '../../test/support.js';
import { pipeline } from '../compose/pipeline.js';
import { BulkheadFullError } from '../errors/errors.js';
import { isBulkheadFullError } from '../errors/guards.js';
import type { MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { AdaptiveBulkhead } from './adaptive-bulkhead.js';
import { AimdLimit, GradientLimit } from './limits.js';

failOnUnhandledRejection();

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs one call that takes `ms` on `clock` and then succeeds or fails. */
async function timedCall(bulkhead: AdaptiveBulkhead, clock: FakeClock, ms: number, fail = false): Promise<void> {
  const call = outcome(
    bulkhead.execute(async () => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
      if (fail) throw new Error('fail');
    }),
  );
  await clock.advance(ms);
  await call;
}

describe('AdaptiveBulkhead', () => {
  it('AIMD: a failure multiplies the limit by backoffRatio, a busy success adds one', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 10, minLimit: 2, maxLimit: 12, clock });
    await timedCall(bulkhead, clock, 5, true);
    expect(bulkhead.limit).toBe(9); // 10 × 0.9
    for (let i = 0; i < 5; i++) await timedCall(bulkhead, clock, 5, true);
    expect(bulkhead.limit).toBe(5); // 10 × 0.9^6 = 5.3
    // One call in flight is not "busy" at limit 5: no growth.
    await timedCall(bulkhead, clock, 5);
    expect(bulkhead.limit).toBe(5);
    // Calls slower than latencyThreshold count as drops.
    const slow = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 10, latencyThreshold: 100, clock });
    await timedCall(slow, clock, 150);
    expect(slow.limit).toBe(9);
  });

  it('AIMD grows by one per success while at least half the limit is in use, up to maxLimit', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 2, maxLimit: 4, clock });
    for (let round = 0; round < 6; round++) {
      const gates = Array.from({ length: bulkhead.limit }, () => deferred());
      const calls = gates.map((gate) => bulkhead.execute(() => gate.promise));
      for (const gate of gates) gate.resolve();
      await Promise.all(calls);
    }
    expect(bulkhead.limit).toBe(4);
  });

  it('gradient: the limit shrinks when latency rises over its long-term level and grows while it does not', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 20, minLimit: 1, maxLimit: 100, clock });
    const wave = async (ms: number): Promise<void> => {
      const calls = Array.from({ length: bulkhead.limit }, () =>
        outcome(bulkhead.execute(() => new Promise<void>((resolve) => clock.setTimeout(resolve, ms)))),
      );
      await clock.advance(ms);
      await Promise.all(calls);
    };
    for (let i = 0; i < 5; i++) await wave(10);
    const grown = bulkhead.limit;
    expect(grown).toBeGreaterThan(20);
    for (let i = 0; i < 5; i++) await wave(100);
    expect(bulkhead.limit).toBeLessThan(grown);
  });

  it('rejects past the limit with a BulkheadFullError, queues FIFO up to maxQueue, and drains as slots free', async () => {
    const clock = new FakeClock();
    const onRejected = vi.fn();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 1, maxQueue: 2, clock, onRejected });
    const first = deferred<number>();
    const order: number[] = [];
    const a = bulkhead.execute(() => first.promise);
    const b = bulkhead.execute(() => {
      order.push(2);
      return 2;
    });
    const c = bulkhead.execute(() => {
      order.push(3);
      return 3;
    });
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 2]);
    const d = await outcome(bulkhead.execute(() => 4));
    expect(d.error).toBeInstanceOf(BulkheadFullError);
    expect(isBulkheadFullError(d.error)).toBe(true);
    expect(onRejected).toHaveBeenCalledWith('full');
    first.resolve(1);
    await expect(Promise.all([a, b, c])).resolves.toEqual([1, 2, 3]);
    expect(order).toEqual([2, 3]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('a queued call leaves on abort and on queue timeout; nothing is left behind', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ initialLimit: 1, maxQueue: 5, queueTimeout: 100, clock });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    const aborted = outcome(bulkhead.execute(() => 'never', { signal: controller.signal }));
    const timedOut = outcome(bulkhead.execute(() => 'never'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('gone');
    controller.abort(reason);
    expect((await aborted).error).toBe(reason);
    await clock.advance(100);
    expect((await timedOut).error).toBeInstanceOf(BulkheadFullError);
    expect(clock.pendingTimers).toBe(0);
    gate.resolve();
    await running;
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('5,000 queued calls that throw synchronously drain in a loop, not a recursion', async () => {
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 1, maxLimit: 1, maxQueue: 10_000 });
    const gate = deferred();
    const head = bulkhead.execute(() => gate.promise);
    const calls = Array.from({ length: 5_000 }, (_, i) =>
      outcome(
        bulkhead.execute(() => {
          throw new Error(`sync ${i}`);
        }),
      ),
    );
    gate.resolve();
    await head;
    const results = await Promise.all(calls);
    expect(results.every((r, i) => (r.error as Error).message === `sync ${i}`)).toBe(true);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('a cancelled call gives no sample', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 10, clock });
    const controller = new AbortController();
    const call = bulkhead.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    expect(bulkhead.limit).toBe(10);
  });

  it('isDrop decides which failures back AIMD off', async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({
      algorithm: 'aimd',
      initialLimit: 10,
      clock,
      isDrop: (err) => (err as Error).message === 'overloaded',
    });
    await outcome(bulkhead.execute(() => Promise.reject(new Error('not found'))));
    expect(bulkhead.limit).toBe(10);
    await outcome(bulkhead.execute(() => Promise.reject(new Error('overloaded'))));
    expect(bulkhead.limit).toBe(9);
  });

  it('reports the limit gauge, utilization, onLimitChange and spans named resilience.adaptive_bulkhead', async () => {
    const clock = new FakeClock();
    const limits: number[] = [];
    const utilization: [number, number][] = [];
    const metrics: MetricsRecorder = {
      recordCircuitBreakerState: vi.fn(),
      recordRetryAttempt: vi.fn(),
      recordRateLimitHit: vi.fn(),
      recordBulkheadUtilization: (_n, active, queued) => utilization.push([active, queued]),
      recordTimeout: vi.fn(),
      recordAdaptiveBulkheadLimit: (_n, limit) => limits.push(limit),
    };
    const changes: [number, number][] = [];
    const { exporter, provider } = inMemoryTracing();
    const logger = recordingLogger();
    const bulkhead = new AdaptiveBulkhead({
      algorithm: 'aimd',
      initialLimit: 10,
      clock,
      metrics,
      logger,
      tracer: provider.getTracer('t'),
      onLimitChange: (limit, previous) => {
        changes.push([limit, previous]);
        throw new Error('hook');
      },
    });
    await outcome(bulkhead.execute(() => Promise.reject(new Error('x'))));
    await flush();
    // The starting limit and load at construction, then each change.
    expect(limits).toEqual([10, 9]);
    expect(changes).toEqual([[9, 10]]);
    expect(utilization).toEqual([
      [0, 0],
      [1, 0],
      [0, 0],
    ]);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['resilience.adaptive_bulkhead']);
    expect(logger.records.some((r) => r.msg === 'onLimitChange threw')).toBe(true);
  });

  it('validates its config, naming the option and the value', () => {
    expect(() => new AdaptiveBulkhead({ minLimit: 0 })).toThrow(/minLimit.*got 0/);
    expect(() => new AdaptiveBulkhead({ minLimit: 10, maxLimit: 5 })).toThrow(
      /maxLimit must be an integer >= 10, got 5/,
    );
    expect(() => new AdaptiveBulkhead({ initialLimit: 500 })).toThrow(/initialLimit.*<= 200.*got 500/);
    expect(() => new AdaptiveBulkhead({ algorithm: 'vegas' as never })).toThrow(/algorithm.*"vegas"/);
    expect(() => new AdaptiveBulkhead({ backoffRatio: 1 })).toThrow(/backoffRatio/);
    expect(() => new AdaptiveBulkhead({ smoothing: 0 })).toThrow(/smoothing/);
    expect(() => new AdaptiveBulkhead({ tolerance: 0.5 })).toThrow(/tolerance/);
    expect(() => new AdaptiveBulkhead({ maxConcurrent: 5 } as never)).toThrow(/minLimit/);
    expect(() => new AdaptiveBulkhead({ isDrop: async () => true } as never)).toThrow(/async/);
    expect(new AdaptiveBulkhead({ minLimit: 50 }).limit).toBe(50);
    expect(new AdaptiveBulkhead({ maxLimit: 5 }).limit).toBe(5);
  });

  it('never throws synchronously and composes in a pipeline', async () => {
    const bulkhead = new AdaptiveBulkhead();
    await expect(bulkhead.execute(null as never)).rejects.toThrow(TypeError);
    await expect(bulkhead.execute(() => 1, null as never)).resolves.toBe(1);
    const reason = new Error('r');
    await expect(bulkhead.execute(() => 1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const policy = pipeline<number>().adaptiveBulkhead({ algorithm: 'aimd' }).build();
    await expect(policy.execute(() => 3)).resolves.toBe(3);
  });
});

describe('AdaptiveBulkhead properties', () => {
  const sample = fc.record({
    rtt: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(0, Number.NaN, 1e300)),
    inflight: fc.integer({ min: 0, max: 500 }),
    dropped: fc.boolean(),
    at: fc.oneof(fc.integer({ min: 0, max: 1e7 }), fc.constantFrom(Number.NaN, -5)),
  });

  it('the limit algorithms stay within [minLimit, maxLimit] whatever the samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 200 }),
        fc.array(sample, { maxLength: 300 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (min, span, samples, tolerance, smoothing) => {
          const max = min + span;
          const gradient = new GradientLimit(min, min, max, tolerance, smoothing, 0.05);
          const aimd = new AimdLimit(max, min, max, 0.5, 1000);
          for (const s of samples) {
            for (const limit of [gradient.update(s), aimd.update(s)]) {
              expect(limit).toBeGreaterThanOrEqual(min);
              expect(limit).toBeLessThanOrEqual(max);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never starts a call over the limit, keeps the limit in bounds, settles every call once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom('gradient' as const, 'aimd' as const),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.record({ fail: fc.boolean(), ms: fc.integer({ min: 0, max: 50 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        async (s, algorithm, minLimit, maxQueue, plans) => {
          let time = 0;
          const clock = { now: () => time, setTimeout: () => 0, clearTimeout: () => undefined };
          const maxLimit = minLimit + 3;
          const bulkhead = new AdaptiveBulkhead({
            algorithm,
            minLimit,
            maxLimit,
            initialLimit: minLimit,
            maxQueue,
            clock,
          });
          let running = 0;
          const violations: number[] = [];
          const settles = plans.map(() => 0);
          const calls = plans.map((plan, i) => {
            const p = bulkhead.execute(async () => {
              running++;
              // Admitted only below the limit of the moment (it may fall later, while calls run).
              if (bulkhead.active !== running || running > bulkhead.limit) violations.push(i);
              try {
                time += plan.ms;
                await s.schedule(Promise.resolve(), `call ${i}`);
                if (plan.fail) throw new Error('fail');
                return i;
              } finally {
                running--;
              }
            });
            const settled = (): void => {
              settles[i] = (settles[i] ?? 0) + 1;
            };
            p.then(settled, settled);
            return p;
          });
          await s.waitIdle();
          await Promise.allSettled(calls);
          await flush();
          expect(settles.every((n) => n === 1)).toBe(true);
          expect(violations).toEqual([]);
          expect(bulkhead.limit).toBeGreaterThanOrEqual(minLimit);
          expect(bulkhead.limit).toBeLessThanOrEqual(maxLimit);
          expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('GradientLimit after the clock stepped back (regression)', () => {
  /** 20,000 calls of 100 ms, one every 100 ms from t = 0, after a first 10 ms call at `firstAt`. */
  const run = (firstAt: number): number => {
    const gradient = new GradientLimit(20, 1, 100, 1.5, 0.2, 0.02);
    gradient.update({ rtt: 10, inflight: 20, dropped: false, timedOut: false, at: firstAt });
    let at = 0;
    for (let i = 0; i < 20_000; i++) {
      at += 100;
      gradient.update({ rtt: 100, inflight: Math.ceil(gradient.estimate), dropped: false, timedOut: false, at });
    }
    return gradient.estimate;
  };

  it('lets the baseline drift up to a latency that stayed, as it does without the jump', () => {
    expect(run(0)).toBe(100);
    // The first sample came while the clock was 11 days ahead (then NTP stepped it back): the baseline used to
    // stay at 10 ms until the clock caught up, pinning the limit near minLimit.
    expect(run(1e9)).toBe(100);
  });
});

describe('AdaptiveBulkhead queue timeout with a clock that answered NaN once (regression)', () => {
  it('times the waiters out instead of re-arming a 0 ms timer until the head leaves', async () => {
    const fake = new FakeClock();
    let nan = false;
    let armed = 0;
    const clock = {
      now: () => (nan ? Number.NaN : fake.now()),
      setTimeout: (fn: () => void, ms: number) => {
        armed++;
        return fake.setTimeout(fn, ms);
      },
      clearTimeout: (handle: unknown) => fake.clearTimeout(handle as never),
    };
    const bulkhead = new AdaptiveBulkhead({
      initialLimit: 1,
      minLimit: 1,
      maxLimit: 1,
      maxQueue: 10,
      queueTimeout: 50,
      clock,
    });
    const running = deferred<string>();
    const held = bulkhead.execute(() => running.promise);
    nan = true;
    const first = outcome(bulkhead.execute(() => 'first'));
    nan = false;
    const second = outcome(bulkhead.execute(() => 'second'));
    for (let i = 0; i < 20; i++) await fake.advance(5);
    expect(armed).toBeLessThan(10);
    expect(bulkhead.queued).toBe(0);
    expect(await first).toMatchObject({ error: expect.any(BulkheadFullError) });
    expect(await second).toMatchObject({ error: expect.any(BulkheadFullError) });
    running.resolve('done');
    expect(await held).toBe('done');
  });
});

describe('AdaptiveBulkhead inside a Timeout, against a dependency that hangs (regression)', () => {
  /** Work that hangs until its signal aborts, then rejects with the reason. */
  const hang = ({ signal }: { signal: AbortSignal }): Promise<never> =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

  it.each(['aimd', 'gradient'] as const)(
    '%s: the timed-out calls lower the limit (they used to give no sample)',
    async (algorithm) => {
      const clock = new FakeClock();
      const bulkhead = new AdaptiveBulkhead({ algorithm, initialLimit: 20, minLimit: 1, maxLimit: 40, clock });
      const policy = pipeline().timeout({ defaultTimeout: 1000, clock }).adaptiveBulkhead(bulkhead).build();
      // A healthy phase: 5 ms calls set the gradient's baseline.
      for (let round = 0; round < 5; round++) {
        const calls = Array.from({ length: 20 }, () =>
          policy.execute(async () => {
            await new Promise<void>((resolve) => clock.setTimeout(resolve, 5));
          }),
        );
        await clock.advance(5);
        await Promise.all(calls);
      }
      const before = bulkhead.limit;
      for (let round = 0; round < 5; round++) {
        const calls = Array.from({ length: bulkhead.limit }, () => outcome(policy.execute(hang)));
        await clock.advance(1000);
        for (const call of await Promise.all(calls)) expect(call.error).toMatchObject({ name: 'TimeoutError' });
      }
      expect(bulkhead.limit).toBeLessThan(before);
      expect(bulkhead.active).toBe(0);
    },
  );

  it("a caller's own abort still gives no sample", async () => {
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 10, clock });
    for (let i = 0; i < 20; i++) {
      const caller = new AbortController();
      const call = outcome(bulkhead.execute(hang, { signal: caller.signal }));
      caller.abort(new Error('gone'));
      expect(await call).toEqual({ error: new Error('gone') });
    }
    expect(bulkhead.limit).toBe(10);
  });
});
