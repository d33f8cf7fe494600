import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { deferred } from '../../test/support.js';
import { listenersAfterTurn } from '../../test/waits-support.js';
import type { ExecutionContext } from '../context.js';
import { BulkheadFullError, TimeoutError } from '../errors/errors.js';
import { isBulkheadFullError } from '../errors/guards.js';
import { neverAbortedSignal } from '../internal/context.js';
import type { MetricsRecorder, SpanLike, TracerLike } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/index.js';
import { Bulkhead } from './bulkhead.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function metrics(): MetricsRecorder & { utilization: [number, number][] } {
  const utilization: [number, number][] = [];
  return {
    utilization,
    recordCircuitBreakerState: vi.fn(),
    recordRetryAttempt: vi.fn(),
    recordRateLimitHit: vi.fn(),
    recordBulkheadUtilization: (_name, active, queued) => utilization.push([active, queued]),
    recordTimeout: vi.fn(),
  };
}

describe('Bulkhead', () => {
  it('runs up to maxConcurrent at once and passes values and the context through', async () => {
    const bulkhead = new Bulkhead<number>({ maxConcurrent: 2 });
    const gates = [deferred<number>(), deferred<number>()];
    const seen: ExecutionContext[] = [];
    const calls = gates.map((gate) =>
      bulkhead.execute((ctx) => {
        seen.push(ctx);
        return gate.promise;
      }),
    );
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queued).toBe(0);
    await expect(bulkhead.execute(() => 3)).rejects.toBeInstanceOf(BulkheadFullError);
    gates[0]?.resolve(1);
    gates[1]?.resolve(2);
    await expect(Promise.all(calls)).resolves.toEqual([1, 2]);
    expect(bulkhead.active).toBe(0);
    expect(seen[0]?.attempt).toBe(1);
    expect(seen[0]?.signal.aborted).toBe(false);
    const ctx = { signal: new AbortController().signal, attempt: 3, deadline: 99 };
    const passThrough = new Bulkhead<ExecutionContext>({ maxConcurrent: 1 });
    await expect(passThrough.execute((inner) => inner, ctx)).resolves.toBe(ctx);
  });

  it('releases the slot exactly once whatever fn does', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    await expect(
      bulkhead.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(bulkhead.active).toBe(0);
    await expect(bulkhead.execute(() => Promise.reject('a string'))).rejects.toBe('a string');
    expect(bulkhead.active).toBe(0);
    await expect(
      bulkhead.execute(() => {
        throw undefined;
      }),
    ).rejects.toBeUndefined();
    expect(bulkhead.active).toBe(0);
    await expect(bulkhead.execute(() => 'sync value')).resolves.toBe('sync value');
    expect(bulkhead.active).toBe(0);
  });

  it('queues in FIFO order and hands each freed slot to the oldest waiter', async () => {
    const bulkhead = new Bulkhead<string>({ maxConcurrent: 1, maxQueue: 3 });
    const order: string[] = [];
    const first = deferred<string>();
    const calls = [
      bulkhead.execute(() => first.promise),
      ...['b', 'c', 'd'].map((name) =>
        bulkhead.execute(async () => {
          order.push(name);
          return name;
        }),
      ),
    ];
    expect(bulkhead.queued).toBe(3);
    await expect(bulkhead.execute(() => 'e')).rejects.toSatisfy(isBulkheadFullError);
    first.resolve('a');
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(order).toEqual(['b', 'c', 'd']);
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.queued).toBe(0);
  });

  it('keeps the slot until fn settles, even after the caller aborted', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const controller = new AbortController();
    const gate = deferred<string>();
    let sawAbort = false;
    const call = bulkhead.execute(
      async (ctx) => {
        const value = await gate.promise;
        sawAbort = ctx.signal.aborted;
        return value;
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('gone'));
    await flush();
    expect(bulkhead.active).toBe(1);
    gate.resolve('late');
    await expect(call).resolves.toBe('late');
    expect(sawAbort).toBe(true);
    expect(bulkhead.active).toBe(0);
  });

  it('rejects at once with the reason of an already aborted signal, starting nothing', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const fn = vi.fn();
    const reason = new Error('cancelled');
    await expect(bulkhead.execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(bulkhead.active).toBe(0);
  });

  it('lets an aborted waiter leave the queue at once and removes its listener', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    const fn = vi.fn();
    const waiting = bulkhead.execute(fn, { signal: controller.signal });
    const after = bulkhead.execute(() => 'after');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(bulkhead.queued).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    gate.resolve();
    await running;
    await expect(after).resolves.toBe('after');
    expect(fn).not.toHaveBeenCalled();
  });

  it('adds no listener to the shared signal of calls made without one', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 20 });
    const gate = deferred();
    const calls = [
      bulkhead.execute(() => gate.promise),
      ...Array.from({ length: 20 }, () => bulkhead.execute(() => 1)),
    ];
    expect(getEventListeners(neverAbortedSignal, 'abort')).toHaveLength(0);
    gate.resolve();
    await Promise.all(calls);
  });

  it("passes a Timeout's context on as it is, and honours its abort", async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ defaultTimeout: 100, clock });
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    await expect(timeout.execute((ctx) => bulkhead.execute((inner) => inner === ctx, ctx))).resolves.toBe(true);
    const late = timeout.execute(async (ctx) => {
      await clock.advance(150);
      return bulkhead.execute(() => 'too late', ctx);
    });
    await expect(late).rejects.toBeInstanceOf(TimeoutError);
    expect(bulkhead.active).toBe(0);
  });

  it('removes the listener of a waiter that got a slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const signal = new AbortController().signal;
    const waiting = bulkhead.execute(() => 'ok', { signal });
    gate.resolve();
    await running;
    await expect(waiting).resolves.toBe('ok');
    expect(await listenersAfterTurn(signal)).toBe(0);
  });

  it('rejects waiters whose queue wait runs out, in order, with one timer', async () => {
    const clock = new FakeClock();
    const onRejected = vi.fn();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeout: 100, clock, onRejected });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const first = bulkhead.execute(() => 'first');
    await clock.advance(40);
    const second = bulkhead.execute(() => 'second');
    expect(clock.pendingTimers).toBe(1);
    const settled: string[] = [];
    first.catch(() => settled.push('first'));
    second.catch(() => settled.push('second'));
    await clock.advance(60);
    expect(settled).toEqual(['first']);
    await expect(first).rejects.toThrow('Bulkhead queue wait exceeded 100 ms');
    expect(onRejected).toHaveBeenCalledWith('queue-timeout');
    expect(bulkhead.queued).toBe(1);
    await clock.advance(40);
    await expect(second).rejects.toBeInstanceOf(BulkheadFullError);
    expect(clock.pendingTimers).toBe(0);
    gate.resolve();
    await running;
    expect(bulkhead.active).toBe(0);
  });

  it('clears its timer when the queue empties and re-arms it for a later head', async () => {
    const clock = new FakeClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 3, queueTimeout: 100, clock });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const a = bulkhead.execute(() => 'a');
    await clock.advance(50);
    const gate2 = deferred<string>();
    const b = bulkhead.execute(() => gate2.promise);
    const c = bulkhead.execute(() => 'c').catch((err: unknown) => err);
    expect(bulkhead.queued).toBe(3);
    gate.resolve();
    await running;
    await expect(a).resolves.toBe('a');
    // b now runs, c waits; the timer armed for a fires, finds c not yet due, and re-arms.
    await clock.advance(50);
    expect(bulkhead.queued).toBe(1);
    await clock.advance(49);
    expect(bulkhead.queued).toBe(1);
    await clock.advance(1);
    expect(await c).toBeInstanceOf(BulkheadFullError);
    expect(clock.pendingTimers).toBe(0);
    gate2.resolve('b');
    await expect(b).resolves.toBe('b');

    const gate3 = deferred();
    const busy = bulkhead.execute(() => gate3.promise);
    const d = bulkhead.execute(() => 'd');
    expect(clock.pendingTimers).toBe(1);
    gate3.resolve();
    await busy;
    await expect(d).resolves.toBe('d');
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports its load to metrics on every change and calls onRejected when full', async () => {
    const recorder = metrics();
    const onRejected = vi.fn(() => {
      throw new Error('a broken hook is ignored');
    });
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, metrics: recorder, name: 'db', onRejected });
    const gate = deferred();
    const running = bulkhead.execute(() => gate.promise);
    const waiting = bulkhead.execute(() => 'next');
    await expect(bulkhead.execute(() => 'no room')).rejects.toBeInstanceOf(BulkheadFullError);
    expect(onRejected).toHaveBeenCalledWith('full');
    gate.resolve();
    await running;
    await waiting;
    expect(recorder.utilization).toEqual([
      [0, 0], // at construction: the idle bulkhead shows from the start
      [1, 0],
      [1, 1],
      [1, 0],
      [0, 0],
    ]);
  });

  it('runs each call inside a resilience.bulkhead span', async () => {
    const spans: { name: string; attributes: unknown; ended: boolean; status?: unknown }[] = [];
    const tracer: TracerLike = {
      startActiveSpan(name, options, fn) {
        const record: (typeof spans)[number] = { name, attributes: options.attributes, ended: false };
        spans.push(record);
        const span: SpanLike = {
          setAttribute: () => span,
          setStatus: (status) => {
            record.status = status;
            return span;
          },
          recordException: () => {},
          end: () => {
            record.ended = true;
          },
        };
        return fn(span) as ReturnType<typeof fn>;
      },
    };
    const recorder = metrics();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, tracer, name: 'pool', metrics: recorder });
    await expect(bulkhead.execute(() => 1)).resolves.toBe(1);
    expect(recorder.utilization).toEqual([
      [0, 0],
      [1, 0],
      [0, 0],
    ]);
    await expect(bulkhead.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(spans.map((s) => [s.name, s.ended])).toEqual([
      ['resilience.bulkhead', true],
      ['resilience.bulkhead', true],
    ]);
    expect(spans[0]?.attributes).toEqual({ 'resilience.name': 'pool', 'resilience.pattern': 'bulkhead' });
    expect(spans[1]?.status).toEqual({ code: 2, message: 'x' });
  });

  it('refuses bad config, naming the option and the value', () => {
    const make = (config: unknown) => () => new Bulkhead(config as never);
    expect(make({})).toThrow('Bulkhead: maxConcurrent must be an integer >= 1, got undefined');
    expect(make({ maxConcurrent: 0 })).toThrow('Bulkhead: maxConcurrent must be an integer >= 1, got 0');
    expect(make({ maxConcurrent: 1.5 })).toThrow(RangeError);
    expect(make({ maxConcurrent: Number.NaN })).toThrow('got NaN');
    expect(make({ maxConcurrent: 1, maxQueue: -1 })).toThrow('Bulkhead: maxQueue must be');
    expect(make({ maxConcurrent: 1, queueTimeout: -5 })).toThrow('Bulkhead: queueTimeout must be');
    expect(make({ maxConcurrent: 1, onRejected: 'no' })).toThrow('Bulkhead: onRejected must be a function');
    expect(make({ maxConcurrent: 1, clock: {} })).toThrow(
      'Bulkhead: clock must be an object with now(), setTimeout() and clearTimeout(), got an object',
    );
    expect(make(null)).toThrow('Bulkhead: config must be an object');
    const ok = new Bulkhead({ maxConcurrent: 3, maxQueue: Number.POSITIVE_INFINITY });
    expect([ok.maxConcurrent, ok.maxQueue, ok.queueTimeout]).toEqual([
      3,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    ]);
  });
});

describe('Bulkhead properties', () => {
  it('never runs more than maxConcurrent, serves its queue FIFO, settles every call once, leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.record({ abort: fc.boolean(), fail: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        async (s, maxConcurrent, maxQueue, plans) => {
          const bulkhead = new Bulkhead<number>({ maxConcurrent, maxQueue });
          let running = 0;
          let peak = 0;
          const started: number[] = [];
          const controllers = plans.map(() => new AbortController());
          const outcomes: string[] = plans.map(() => 'pending');
          const settleCounts = plans.map(() => 0);
          const calls = plans.map((plan, i) => {
            const work = async (): Promise<number> => {
              started.push(i);
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
                settleCounts[i] = (settleCounts[i] ?? 0) + 1;
                outcomes[i] = 'ok';
              },
              (err: unknown) => {
                settleCounts[i] = (settleCounts[i] ?? 0) + 1;
                outcomes[i] = isBulkheadFullError(err)
                  ? 'full'
                  : err === controllers[i]?.signal.reason
                    ? 'aborted'
                    : 'failed';
              },
            );
            return promise;
          });
          const queuedAtStart = calls.map((_, i) => i >= maxConcurrent && i < maxConcurrent + maxQueue);
          for (const [i, plan] of plans.entries()) {
            if (plan.abort)
              s.schedule(Promise.resolve(), `abort ${i}`).then(() => controllers[i]?.abort(new Error(`abort ${i}`)));
          }
          await s.waitIdle();
          await Promise.allSettled(calls);
          await flush();

          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(settleCounts.every((n) => n === 1)).toBe(true);
          // Calls admitted from the queue started in the order they arrived.
          const fromQueue = started.filter((i) => queuedAtStart[i]);
          expect(fromQueue).toEqual([...fromQueue].sort((a, b) => a - b));
          for (const [i, outcome] of outcomes.entries()) {
            if (i >= maxConcurrent + maxQueue) expect(outcome).toBe('full');
            if (outcome === 'aborted') expect(started).not.toContain(i);
            if (outcome === 'ok' || outcome === 'failed') expect(plans[i]?.fail).toBe(outcome === 'failed');
            expect(getEventListeners(controllers[i]?.signal as AbortSignal, 'abort')).toHaveLength(0);
          }
          expect(bulkhead.active).toBe(0);
          expect(bulkhead.queued).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
