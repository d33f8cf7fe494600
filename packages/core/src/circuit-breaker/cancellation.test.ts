import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakerOnFakeClock, deferred, outcome } from '../../test/support.js';
import { pipeline } from '../compose/pipeline.js';
import type { ExecutionContext } from '../context.js';
import { isCircuitOpenError, isTimeoutError } from '../errors/guards.js';
import type { CallOutcome, MetricsRecorder } from '../observability/types.js';
import { FakeClock } from '../testing/index.js';
import { Timeout } from '../timeout/timeout.js';
import { CircuitBreaker } from './circuit-breaker.js';

/** Work that rejects with its signal's reason once the signal aborts, as `fetch` does. */
const honoursAbort = ({ signal }: ExecutionContext): Promise<never> =>
  new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

function outcomes(): { metrics: MetricsRecorder; calls: CallOutcome[] } {
  const calls: CallOutcome[] = [];
  const metrics: MetricsRecorder = {
    recordCircuitBreakerState: () => {},
    recordCircuitBreakerCall: (_name, outcome) => calls.push(outcome),
    recordRetryAttempt: () => {},
    recordRateLimitHit: () => {},
    recordBulkheadUtilization: () => {},
    recordTimeout: () => {},
  };
  return { metrics, calls };
}

describe('CircuitBreaker: a caller that aborts cancels its call (issue 10, item 7)', () => {
  it('does not open on callers that give up: six aborted calls count as neither success nor failure', async () => {
    const { breaker } = breakerOnFakeClock();
    for (let i = 0; i < 10; i++) {
      const controller = new AbortController();
      const call = outcome(breaker.execute(honoursAbort, { signal: controller.signal }));
      controller.abort(new Error(`client ${i} went away`));
      expect((await call).error).toEqual(new Error(`client ${i} went away`));
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.counts).toMatchObject({ requests: 0, totalFailures: 0, consecutiveFailures: 0 });
  });

  it('settles when fn settles, with what fn gave, even after the abort', async () => {
    const { breaker } = breakerOnFakeClock();
    const controller = new AbortController();
    const work = deferred<string>();
    let settled = false;
    const call = breaker
      .execute(() => work.promise, { signal: controller.signal })
      .finally(() => {
        settled = true;
      });
    controller.abort(new Error('gone'));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false);
    work.resolve('done anyway');
    await expect(call).resolves.toBe('done anyway');
    expect(breaker.counts).toMatchObject({ requests: 0, totalSuccesses: 0 });
  });

  it('frees a half-open slot at the moment the cancelled probe settles', async () => {
    const { breaker, clock, transitions } = breakerOnFakeClock({ readyToTrip: () => true, timeout: 100 });
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await clock.advance(101);
    const controller = new AbortController();
    const probe = outcome(breaker.execute(honoursAbort, { signal: controller.signal }));
    expect(isCircuitOpenError((await outcome(breaker.execute(() => 'x'))).error)).toBe(true);
    controller.abort(new Error('gone'));
    await probe;
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(() => 'recovered')).resolves.toBe('recovered');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('cancels a call whose fn aborts the caller and throws synchronously, on both settlement paths', async () => {
    for (const config of [{}, { slowCallDuration: 10, window: { kind: 'count' as const, size: 5 } }]) {
      const { breaker } = breakerOnFakeClock(config);
      const controller = new AbortController();
      const gone = new Error('gone');
      const result = await outcome(
        breaker.execute(
          () => {
            controller.abort(gone);
            throw gone;
          },
          { signal: controller.signal },
        ),
      );
      expect(result.error).toBe(gone);
      expect(breaker.counts).toMatchObject({ requests: 0, totalFailures: 0 });
    }
  });

  it('reports the outcome "cancelled" to metrics', async () => {
    const { metrics, calls } = outcomes();
    const breaker = new CircuitBreaker({ clock: new FakeClock(), metrics });
    const controller = new AbortController();
    const call = outcome(breaker.execute(honoursAbort, { signal: controller.signal }));
    controller.abort();
    await call;
    await breaker.execute(() => 1);
    expect(calls).toEqual(['cancelled', 'success']);
  });

  it('acquire(): permit.cancel() frees a half-open slot and reports "cancelled"; only the first report counts', async () => {
    const { metrics, calls } = outcomes();
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, metrics, readyToTrip: () => true, timeout: 100 });
    breaker.acquire().failure();
    await clock.advance(101);
    const probe = breaker.acquire();
    expect(() => breaker.acquire()).toThrow(/half-open/);
    probe.cancel();
    probe.success();
    expect(breaker.state).toBe('half-open');
    breaker.acquire().success();
    expect(breaker.state).toBe('closed');
    expect(calls).toEqual(['failure', 'rejected', 'cancelled', 'success']);
  });

  it('counts a cancellation like any other call with countCancellations: true', async () => {
    const { breaker } = breakerOnFakeClock({
      countCancellations: true,
      readyToTrip: (c) => c.consecutiveFailures >= 2,
    });
    for (let i = 0; i < 2; i++) {
      const controller = new AbortController();
      const call = outcome(breaker.execute(honoursAbort, { signal: controller.signal }));
      controller.abort();
      await call;
    }
    expect(breaker.state).toBe('open');
  });

  it('still counts a TimeoutError of a Timeout inside the breaker as a failure', async () => {
    const clock = new FakeClock();
    const policy = pipeline()
      .circuitBreaker({ clock, readyToTrip: (c) => c.consecutiveFailures >= 2 })
      .timeout({ clock, defaultTimeout: 50 })
      .build();
    const controller = new AbortController();
    for (let i = 0; i < 2; i++) {
      const call = outcome(policy.execute(() => new Promise(() => {}), { signal: controller.signal }));
      await clock.advance(51);
      expect(isTimeoutError((await call).error)).toBe(true);
    }
    const stage = policy.stages[0] as CircuitBreaker;
    expect(stage.state).toBe('open');
  });

  it('the trap: a timeout only outside the breaker cancels hung calls, so the breaker never trips on them', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, readyToTrip: (c) => c.consecutiveFailures >= 1 });
    const outer = new Timeout({ clock, defaultTimeout: 50 });
    for (let i = 0; i < 3; i++) {
      const call = outcome(outer.execute((ctx) => breaker.execute(honoursAbort, ctx)));
      await clock.advance(51);
      expect(isTimeoutError((await call).error)).toBe(true);
    }
    expect(breaker.state).toBe('closed');
  });
});

type Step = { kind: 'start'; cancel: boolean } | { kind: 'settle' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('start' as const), cancel: fc.boolean() }),
  fc.record({ kind: fc.constant('settle' as const) }),
);

describe('CircuitBreaker: half-open with cancellations (property)', () => {
  it('admits exactly maxRequests probes that are not cancelled, whatever order they settle in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        async (s, maxRequests, steps) => {
          const clock = new FakeClock();
          const breaker = new CircuitBreaker<string>({ clock, maxRequests, readyToTrip: () => true, timeout: 10 });
          await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
          await clock.advance(11);
          expect(breaker.state).toBe('half-open');
          // The model: probes holding a slot (admitted, not cancelled) and successes in a row.
          let held = 0;
          let successes = 0;
          let closed = false;
          const settlements: Promise<unknown>[] = [];
          for (const next of steps) {
            if (closed) break;
            if (next.kind === 'settle') {
              if (s.count() > 0) await s.waitOne();
              for (let i = 0; i < 5; i++) await Promise.resolve();
              continue;
            }
            const controller = new AbortController();
            let called = false;
            const call = breaker.execute(
              (ctx) => {
                called = true;
                return s.schedule(Promise.resolve('ok')).then((value) => {
                  if (ctx.signal.aborted) throw ctx.signal.reason;
                  return value;
                });
              },
              { signal: controller.signal },
            );
            expect(called).toBe(held < maxRequests);
            if (!called) {
              expect(isCircuitOpenError((await outcome(call)).error)).toBe(true);
              continue;
            }
            held++;
            if (next.cancel) controller.abort(new Error('caller gave up'));
            settlements.push(
              call.then(
                () => {
                  successes++;
                  if (successes >= maxRequests) closed = true;
                },
                () => {
                  held--;
                },
              ),
            );
            expect(breaker.counts.requests).toBe(held);
          }
          while (s.count() > 0) await s.waitOne();
          await Promise.all(settlements);
          expect(breaker.state).toBe(closed ? 'closed' : 'half-open');
        },
      ),
      { numRuns: 200 },
    );
  });
});
