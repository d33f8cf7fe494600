import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  deferred,
  failOnUnhandledRejection,
  inMemoryTracing,
  outcome,
  recordingLogger,
  useAsyncContextManager,
} from '../../test/support.js';
import { pipeline } from '../compose/pipeline.js';
import type { ExecutionContext } from '../context.js';
import type { MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Hedging } from './hedging.js';

failOnUnhandledRejection();
useAsyncContextManager();

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Hedging', () => {
  it('returns the first attempt when it settles within the delay, starting no hedge', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<number>({ delay: 100, maxHedges: 2, clock });
    const fn = vi.fn(async () => 1);
    await expect(hedging.execute(fn)).resolves.toBe(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts a hedge after the delay; the first success wins and the loser is aborted', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<string>({ delay: 100, maxHedges: 2, clock });
    const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
    const seen: ExecutionContext[] = [];
    const call = outcome(
      hedging.execute((ctx) => {
        seen.push(ctx);
        return (gates[seen.length - 1] as (typeof gates)[0]).promise;
      }),
    );
    expect(seen).toHaveLength(1);
    await clock.advance(99);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    expect(seen.map((c) => c.attempt)).toEqual([1, 2]);
    gates[1]?.resolve('second');
    expect(await call).toEqual({ value: 'second' });
    expect(seen[0]?.signal.aborted).toBe(true);
    expect(((seen[0] as ExecutionContext).signal.reason as Error).name).toBe('AbortError');
    expect(seen[1]?.signal.aborted).toBe(false);
    // The loser's late result, even a rejection, is ignored and never unhandled.
    gates[0]?.reject(new Error('late'));
    await clock.advance(1000);
    expect(seen).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts up to maxHedges hedges, one per delay', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, maxHedges: 3, clock });
    const starts: number[] = [];
    const never = new Promise<never>(() => {});
    void hedging.execute(() => {
      starts.push(clock.now());
      return never;
    });
    await clock.advance(1000);
    expect(starts).toEqual([0, 10, 20, 30]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('one timer serves every call waiting for a hedge, each hedging at its own time', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, maxHedges: 1, clock });
    const starts: [number, number][] = [];
    const gates: ((value: number) => void)[] = [];
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      calls.push(
        hedging.execute(
          ({ attempt }) =>
            new Promise<number>((resolve) => {
              starts.push([i, clock.now()]);
              if (attempt === 1) gates[i] = resolve;
            }),
        ),
      );
      if (i === 49) await clock.advance(5);
    }
    expect(clock.pendingTimers).toBe(1);
    // Calls that settle before their hedge leave the queue.
    for (let i = 0; i < 100; i += 2) gates[i]?.(i);
    await clock.advance(10);
    const hedged = starts.filter(([, at]) => at > 5);
    expect(hedged.map(([i]) => i)).toEqual(Array.from({ length: 50 }, (_, k) => 2 * k + 1));
    expect(hedged.map(([i, at]) => at === (i < 50 ? 10 : 15))).toEqual(Array(50).fill(true));
    for (let i = 1; i < 100; i += 2) gates[i]?.(i);
    await Promise.all(calls);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the last failure once every attempt started has failed', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, maxHedges: 1, clock });
    const gates = [deferred(), deferred()];
    let n = 0;
    const call = outcome(hedging.execute(() => (gates[n++] as (typeof gates)[0]).promise));
    await clock.advance(10);
    gates[1]?.reject(new Error('second'));
    await flush();
    gates[0]?.reject(new Error('first'));
    expect(((await call).error as Error).message).toBe('first');
  });

  it('without hedgeOnFailure, a lone failure ends the call at once', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, maxHedges: 2, clock });
    const fn = vi.fn(() => {
      throw new Error('sync');
    });
    await expect(hedging.execute(fn)).rejects.toThrow('sync');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with hedgeOnFailure, a failure starts the next attempt at once', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging<number>({ delay: 1000, maxHedges: 2, hedgeOnFailure: true, clock });
    let n = 0;
    const attempts: number[] = [];
    const result = await hedging.execute(({ attempt }) => {
      attempts.push(attempt);
      if (++n < 3) throw new Error(`fail ${n}`);
      return n;
    });
    expect(result).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    const allFail = new Hedging({ delay: Number.POSITIVE_INFINITY, maxHedges: 2, hedgeOnFailure: true, clock });
    let m = 0;
    await expect(
      allFail.execute(async () => {
        throw new Error(`fail ${++m}`);
      }),
    ).rejects.toThrow('fail 3');
  });

  it("the caller's abort aborts every attempt and rejects at once with its reason", async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, maxHedges: 1, clock });
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const call = outcome(
      hedging.execute(
        ({ signal }) => {
          signals.push(signal);
          return new Promise(() => {});
        },
        { signal: controller.signal },
      ),
    );
    await clock.advance(10);
    expect(signals).toHaveLength(2);
    const reason = new Error('caller gone');
    controller.abort(reason);
    expect((await call).error).toBe(reason);
    expect(signals.every((s) => s.aborted && s.reason === reason)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('work that aborts the caller synchronously leaves no hedge timer behind', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 10, clock });
    const controller = new AbortController();
    const reason = new Error('aborted by the work');
    const call = outcome(
      hedging.execute(
        () => {
          controller.abort(reason);
          return new Promise(() => {});
        },
        { signal: controller.signal },
      ),
    );
    expect((await call).error).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an aborted signal starts nothing; a non-function fn and null options never throw synchronously', async () => {
    const hedging = new Hedging({ delay: 10 });
    const fn = vi.fn();
    const reason = new Error('already');
    await expect(hedging.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    await expect(hedging.execute('nope' as never)).rejects.toThrow(TypeError);
    await expect(hedging.execute(() => 5, null as never)).resolves.toBe(5);
  });

  it('passes the deadline on and starts no hedge once it has passed', async () => {
    const clock = new FakeClock();
    const hedging = new Hedging({ delay: 50, maxHedges: 3, clock });
    const seen: ExecutionContext[] = [];
    void hedging.execute(
      (ctx) => {
        seen.push(ctx);
        return new Promise(() => {});
      },
      { deadline: 120 },
    );
    await clock.advance(500);
    expect(seen.map((c) => c.deadline)).toEqual([120, 120, 120]);
    expect(seen).toHaveLength(3); // at 0, 50, 100; not at 150
  });

  it('validates its config, naming the option and the value', () => {
    expect(() => new Hedging({} as never)).toThrow(/delay must be a finite number.*got undefined/);
    expect(() => new Hedging({ delay: -1 })).toThrow(RangeError);
    expect(() => new Hedging({ delay: Number.NaN })).toThrow(/delay.*got NaN/);
    expect(() => new Hedging({ delay: 10, maxHedges: 1.5 })).toThrow(/maxHedges.*got 1.5/);
    expect(() => new Hedging({ delay: 10, maxHedges: 101 })).toThrow(/maxHedges/);
    expect(() => new Hedging({ delay: Number.POSITIVE_INFINITY })).toThrow(/never hedge/);
    expect(() => new Hedging({ delay: 10, maxHedgedAttempts: 2 } as never)).toThrow(/maxHedges/);
    expect(() => new Hedging({ delay: 10, onHedge: 3 } as never)).toThrow(/onHedge must be a function, got 3/);
  });

  it('waits out a delay longer than one platform timer holds, in steps', async () => {
    const clock = new FakeClock();
    const delay = 2 ** 31 + 5_000;
    const hedging = new Hedging({ delay, clock });
    const starts: number[] = [];
    void hedging.execute(() => {
      starts.push(clock.now());
      return new Promise(() => {});
    });
    await clock.advance(2 ** 31 - 1);
    expect(starts).toEqual([0]);
    await clock.advance(5_000);
    expect(starts).toEqual([0]);
    await clock.advance(1);
    expect(starts).toEqual([0, delay]);
  });

  it('reports hedges to onHedge, the logger and the metrics; broken hooks change nothing', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const hedges: number[] = [];
    const metrics: MetricsRecorder = {
      recordCircuitBreakerState: vi.fn(),
      recordRetryAttempt: vi.fn(),
      recordRateLimitHit: vi.fn(),
      recordBulkheadUtilization: vi.fn(),
      recordTimeout: vi.fn(),
      recordHedge: (_name, attempt) => {
        hedges.push(attempt);
        throw new Error('recorder broke');
      },
    };
    const hedging = new Hedging({
      delay: 5,
      maxHedges: 2,
      clock,
      logger,
      metrics,
      onHedge: async () => {
        throw new Error('hook broke');
      },
    });
    const gate = deferred<number>();
    let n = 0;
    const call = hedging.execute(() => (++n === 3 ? gate.promise : new Promise<number>(() => {})));
    await clock.advance(10);
    gate.resolve(7);
    await expect(call).resolves.toBe(7);
    await flush();
    expect(hedges).toEqual([2, 3]);
    expect(logger.records.filter((r) => r.level === 'error').map((r) => r.msg)).toEqual(
      expect.arrayContaining(['metrics recorder threw', 'onHedge rejected']),
    );
  });

  it('opens a resilience.hedging span with one resilience.hedging.attempt span per attempt', async () => {
    // The system clock: its timers carry the active span to the hedge (a fake clock's advance() cannot).
    const { exporter, provider } = inMemoryTracing();
    const hedging = new Hedging({ delay: 1, tracer: provider.getTracer('t'), name: 'prices' });
    let n = 0;
    // The loser ignores its signal: its span still ends, when it is aborted.
    const call = hedging.execute(() => (++n === 1 ? new Promise(() => {}) : Promise.resolve('ok')));
    await expect(call).resolves.toBe('ok');
    await flush();
    const spans = exporter.getFinishedSpans();
    const names = spans.map((s) => s.name).sort();
    expect(names).toEqual(['resilience.hedging', 'resilience.hedging.attempt', 'resilience.hedging.attempt']);
    const parent = spans.find((s) => s.name === 'resilience.hedging');
    expect(parent?.attributes['resilience.name']).toBe('prices');
    for (const span of spans.filter((s) => s.name === 'resilience.hedging.attempt')) {
      expect(span.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    }
    const loser = spans.find((s) => s.attributes['resilience.hedging.attempt'] === 1);
    expect(loser?.status.code).toBe(2);
    expect(loser?.events.map((e) => e.name)).toContain('exception');
  });

  it('with a tracer, a failed attempt marks its span as failed and the call rejects with its error', async () => {
    const { exporter, provider } = inMemoryTracing();
    const hedging = new Hedging({ delay: 1000, tracer: provider.getTracer('t') });
    const error = new Error('down');
    await expect(hedging.execute(() => Promise.reject(error))).rejects.toBe(error);
    await flush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.status.code])).toEqual([
      ['resilience.hedging.attempt', 2],
      ['resilience.hedging', 2],
    ]);
  });

  it('composes in a pipeline: the attempt number flows from an outer retry', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const policy = pipeline<number>()
      .retry({ maxAttempts: 2, initialDelay: 0, clock })
      .hedging({ delay: 10, clock })
      .build();
    let calls = 0;
    const call = policy.execute(async ({ attempt }) => {
      seen.push(attempt);
      if (++calls === 1) throw new Error('first');
      return attempt;
    });
    await clock.runAll();
    await expect(call).resolves.toBe(2);
    expect(seen).toEqual([1, 2]);
  });
});

describe('Hedging properties', () => {
  it('settles exactly once with a result some attempt produced, aborts every loser, leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.array(fc.record({ fail: fc.boolean(), sync: fc.boolean() }), { minLength: 4, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 30 })),
        async (s, maxHedges, hedgeOnFailure, plans, abortAt) => {
          const clock = new FakeClock();
          const hedging = new Hedging<number>({ delay: 10, maxHedges, hedgeOnFailure, clock });
          const controller = new AbortController();
          const signals: AbortSignal[] = [];
          const settledAttempts: number[] = [];
          let settles = 0;
          let result: { value?: number; error?: unknown } | undefined;
          const call = hedging.execute(
            (ctx) => {
              const i = ctx.attempt - 1;
              signals.push(ctx.signal);
              const plan = plans[i] as { fail: boolean; sync: boolean };
              if (plan.sync && plan.fail) {
                settledAttempts.push(i);
                throw new Error(`fail ${i}`);
              }
              return s.schedule(Promise.resolve(), `attempt ${i}`).then(() => {
                settledAttempts.push(i);
                if (plan.fail) throw new Error(`fail ${i}`);
                return i;
              });
            },
            { signal: controller.signal },
          );
          call.then(
            (value) => {
              settles++;
              result = { value };
            },
            (error: unknown) => {
              settles++;
              result = { error };
            },
          );
          for (let t = 0; t <= 40; t += 5) {
            if (abortAt !== null && t === abortAt - (abortAt % 5)) controller.abort(new Error('caller'));
            await clock.advance(5);
            if (s.count() > 0) await s.waitOne();
          }
          await s.waitIdle();
          await Promise.allSettled([call]);
          await flush();
          expect(settles).toBe(1);
          expect(signals.length).toBeLessThanOrEqual(1 + maxHedges);
          if (result?.value !== undefined) {
            const winner = result.value;
            expect(plans[winner]?.fail).toBe(false);
            // Every other attempt that had not settled was aborted.
            signals.forEach((signal, i) => {
              if (i !== winner && !settledAttempts.includes(i)) expect(signal.aborted).toBe(true);
            });
            expect(signals[winner]?.aborted).toBe(false);
          } else if (result?.error !== controller.signal.reason || !controller.signal.aborted) {
            expect(((result as { error?: unknown }).error as Error).message).toMatch(/^fail \d$/);
          } else {
            signals.forEach((signal, i) => {
              if (!settledAttempts.includes(i)) expect(signal.aborted).toBe(true);
            });
          }
          expect(clock.pendingTimers).toBe(0);
          expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Hedging with a delay of 0 (regression)', () => {
  it('starts at most one hedge per call per firing, even when an attempt aborts another queued call', () => {
    // A clock whose time does not move within a firing (a coarse clock), with timers the test fires one by one.
    const timers: (() => void)[] = [];
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void) => timers.push(fn),
      clearTimeout: () => {},
    };
    const fireOne = (): void => (timers.shift() as () => void)();
    const hedging = new Hedging({ delay: 0, maxHedges: 50, clock });
    const gone = new AbortController();
    const starts = { a: 0, b: 0, c: 0 };
    const never = new Promise<never>(() => {});
    void hedging.execute((ctx) => {
      starts.a++;
      if (ctx.attempt === 2) gone.abort(new Error('c gone'));
      return never;
    });
    void hedging.execute(() => {
      starts.b++;
      return never;
    });
    const c = hedging.execute(
      () => {
        starts.c++;
        return never;
      },
      { signal: gone.signal },
    );
    c.catch(() => {});
    fireOne();
    // Before the fix: once the call queued last had left, a and b started all their 50 hedges in this one firing.
    expect(starts).toEqual({ a: 2, b: 2, c: 1 });
    fireOne();
    expect(starts).toEqual({ a: 3, b: 3, c: 1 });
    expect(timers).toHaveLength(1);
  });
});

describe('Hedging when onHedge aborts the caller (regression)', () => {
  it('rejects with the reason and starts no work for that hedge', async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const hedging = new Hedging({ delay: 10, clock, onHedge: () => caller.abort(new Error('enough')) });
    const attempts: number[] = [];
    const call = outcome(
      hedging.execute(
        (ctx) => {
          attempts.push(ctx.attempt);
          return new Promise<never>(() => {});
        },
        { signal: caller.signal },
      ),
    );
    await clock.advance(10);
    expect(await call).toEqual({ error: new Error('enough') });
    // Before the fix the hedge's work started anyway, with an already aborted signal.
    expect(attempts).toEqual([1]);
  });
});
