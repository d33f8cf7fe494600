import { Bulkhead, CircuitBreaker } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusRecorder } from '../src/index.js';

async function series(
  registry: Registry,
  metric: string,
): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  return (family?.values ?? []) as { labels: Record<string, unknown>; value: number }[];
}

async function total(registry: Registry, metric: string): Promise<number> {
  return (await series(registry, metric)).reduce((sum, s) => sum + s.value, 0);
}

describe('PrometheusRecorder under abuse', () => {
  it('counts every one of 10,000 synchronous throws through a breaker, each call once', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const breaker = new CircuitBreaker({ name: 'b', metrics, clock: new FakeClock() });
    const boom = new Error('sync');
    let caught = 0;
    for (let i = 0; i < 10_000; i++) {
      await breaker
        .execute(() => {
          throw boom;
        })
        .catch((err: unknown) => {
          if (err === boom || (err as { code?: string }).code === 'ERR_CIRCUIT_OPEN') caught++;
        });
    }
    expect(caught).toBe(10_000);
    expect(await total(registry, 'resilience_circuit_breaker_calls_total')).toBe(10_000);
    const byOutcome = Object.fromEntries(
      (await series(registry, 'resilience_circuit_breaker_calls_total')).map((s) => [s.labels.outcome, s.value]),
    );
    expect(byOutcome).toMatchObject({ failure: 6, rejected: 9_994, success: 0 });
  });

  it('ends at 0 active and 0 queued after 2,000 waiters on one signal are aborted', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const bulkhead = new Bulkhead({ name: 'pool', metrics, maxConcurrent: 1, maxQueue: 2_000 });
    let release = (): void => {};
    const running = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const caller = new AbortController();
    const waiting = Array.from({ length: 2_000 }, () =>
      bulkhead.execute(() => 'never', { signal: caller.signal }).catch((err: unknown) => err),
    );
    expect(await total(registry, 'resilience_bulkhead_queued')).toBe(2_000);
    caller.abort(new Error('caller left'));
    const reasons = await Promise.all(waiting);
    expect(reasons.every((r) => (r as Error).message === 'caller left')).toBe(true);
    release();
    await running;
    expect(await total(registry, 'resilience_bulkhead_active')).toBe(0);
    expect(await total(registry, 'resilience_bulkhead_queued')).toBe(0);
  });

  it('keeps its counts whole under any interleaving of concurrent breaker calls (fast-check scheduler)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom('ok', 'fail', 'ignored'), { minLength: 1, maxLength: 25 }),
        async (s, plan) => {
          const registry = new Registry();
          const metrics = new PrometheusRecorder({ registry });
          const breaker = new CircuitBreaker({
            name: 'p',
            metrics,
            clock: new FakeClock(),
            maxRequests: 2,
            readyToTrip: (c) => c.consecutiveFailures >= 3,
            isIgnored: (err) => (err as Error).message === 'ignored',
          });
          const calls = plan.map((kind) =>
            breaker
              .execute(() =>
                s.schedule(Promise.resolve(kind)).then((k) => (k === 'ok' ? k : Promise.reject(new Error(k)))),
              )
              .catch(() => undefined),
          );
          await s.waitAll();
          await Promise.all(calls);
          expect(await total(registry, 'resilience_circuit_breaker_calls_total')).toBe(plan.length);
          const states = await series(registry, 'resilience_circuit_breaker_state');
          expect(states.filter((x) => x.value === 1).map((x) => x.labels.state)).toEqual([breaker.state]);
          expect(states.filter((x) => x.value === 0)).toHaveLength(2);
          const observed = (await series(registry, 'resilience_call_duration_seconds'))
            .filter((x) => (x.labels as { le?: unknown }).le === '+Inf')
            .reduce((sum, x) => sum + x.value, 0);
          // Every call that ran has a duration; a rejected one has none.
          const rejected = (await series(registry, 'resilience_circuit_breaker_calls_total')).find(
            (x) => x.labels.outcome === 'rejected',
          );
          expect(observed).toBe(plan.length - (rejected?.value ?? 0));
        },
      ),
      { numRuns: 100 },
    );
  });
});
