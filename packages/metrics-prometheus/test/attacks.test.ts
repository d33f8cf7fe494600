import { CircuitBreaker } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import fc from 'fast-check';
import { Counter, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { PrometheusRecorder } from '../src/index.js';

// Regression tests for what a hostile review of the built package broke.

async function value(registry: Registry, metric: string, labels: Record<string, string>): Promise<number | undefined> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  return family?.values.find((v) =>
    Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  )?.value;
}

describe('PrometheusRecorder, attacked', () => {
  it('keeps nothing per recorder in the registry: 2,000 recorders on one registry share one cell per series', async () => {
    // Each recorder used to attach its own flush and cells to the shared metrics, so a process that made
    // recorders as it went (one per pattern, per tenant, per test) kept every one of them, and every scrape
    // walked them all (100,000 recorders: 100 MB retained, 120 ms a scrape).
    const registry = new Registry();
    new PrometheusRecorder({ registry }); // registers the metrics
    const spied = ['resilience_timeouts_total', 'resilience_bulkhead_active', 'resilience_circuit_breaker_state'].map(
      (name) =>
        vi.spyOn(registry.getSingleMetric(name) as unknown as { labels: (...a: unknown[]) => unknown }, 'labels'),
    );
    for (let i = 0; i < 2_000; i++) {
      const metrics = new PrometheusRecorder({ registry });
      metrics.recordTimeout('db');
      metrics.recordBulkheadUtilization('pool', i % 4, 0);
      metrics.recordCircuitBreakerState('payments', 'open');
    }
    expect(spied.map((spy) => spy.mock.calls.length)).toEqual([1, 1, 3]);
    expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(2_000);
  });

  it('reports the latest bulkhead load whichever of two recorders on a registry wrote it', async () => {
    const registry = new Registry();
    const a = new PrometheusRecorder({ registry });
    const b = new PrometheusRecorder({ registry });
    a.recordBulkheadUtilization('db', 5, 2);
    b.recordBulkheadUtilization('db', 1, 0);
    a.recordBulkheadUtilization('db', 3, 1);
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'db' })).toBe(3);
    expect(await value(registry, 'resilience_bulkhead_queued', { name: 'db' })).toBe(1);
  });

  it("keeps a breaker's state after registry.resetMetrics(), as it keeps the bulkhead gauges", async () => {
    // Reset after each push to a Pushgateway is common; the state gauge used to vanish until the next
    // transition, so an open breaker disappeared from the dashboard and its alert stopped.
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const breaker = new CircuitBreaker({
      name: 'payments',
      metrics,
      clock: new FakeClock(),
      readyToTrip: (c) => c.consecutiveFailures >= 1,
    });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(breaker.state).toBe('open');
    registry.resetMetrics();
    expect(await value(registry, 'resilience_circuit_breaker_state', { name: 'payments', state: 'open' })).toBe(1);
    expect(await value(registry, 'resilience_circuit_breaker_state', { name: 'payments', state: 'closed' })).toBe(0);
  });

  it('counts into a counter registered by hand with exemplars enabled, with its labels', async () => {
    // prom-client's labels(...).inc(n) on an exemplar counter takes the labels for its options object,
    // so every count used to land on one unlabelled series.
    const openMetrics = new Registry() as unknown as Registry<RegistryContentType>;
    openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registry = openMetrics as Registry;
    new Counter({
      name: 'resilience_timeouts_total',
      help: 'Calls stopped by a timeout.',
      labelNames: ['name'],
      registers: [registry],
      enableExemplars: true,
    });
    const metrics = new PrometheusRecorder({ registry });
    metrics.recordTimeout('db');
    metrics.recordTimeout('db');
    metrics.recordTimeout('cache');
    const family = (await registry.getMetricsAsJSON()).find((m) => m.name === 'resilience_timeouts_total');
    expect(family?.values.map((v) => [v.labels, v.value])).toEqual([
      [{ name: 'db' }, 2],
      [{ name: 'cache' }, 1],
    ]);
  });
});

describe('recorders sharing a registry, any interleaving (fast-check)', () => {
  type Op =
    | { kind: 'timeout'; recorder: number; name: string }
    | { kind: 'load'; recorder: number; name: string; active: number }
    | { kind: 'state'; recorder: number; name: string; state: 'closed' | 'open' | 'half-open' }
    | { kind: 'collect' }
    | { kind: 'reset' };

  it('counts every increment once and shows the latest gauge value, whichever recorder wrote it', async () => {
    const name = fc.constantFrom('a', 'b', 'c');
    const recorder = fc.nat({ max: 3 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('timeout' as const), recorder, name }),
      fc.record({ kind: fc.constant('load' as const), recorder, name, active: fc.nat({ max: 50 }) }),
      fc.record({
        kind: fc.constant('state' as const),
        recorder,
        name,
        state: fc.constantFrom('closed' as const, 'open' as const, 'half-open' as const),
      }),
      fc.constant({ kind: 'collect' as const }),
      fc.constant({ kind: 'reset' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const registry = new Registry();
        // Recorders are made lazily, as a process would make them on the way.
        const recorders: PrometheusRecorder[] = [];
        const get = (i: number): PrometheusRecorder => {
          recorders[i] ??= new PrometheusRecorder({ registry });
          return recorders[i];
        };
        get(0);
        const timeouts = new Map<string, number>();
        const load = new Map<string, number>();
        const states = new Map<string, string>();
        for (const o of ops) {
          if (o.kind === 'timeout') {
            get(o.recorder).recordTimeout(o.name);
            timeouts.set(o.name, (timeouts.get(o.name) ?? 0) + 1);
          } else if (o.kind === 'load') {
            get(o.recorder).recordBulkheadUtilization(o.name, o.active, 0);
            load.set(o.name, o.active);
          } else if (o.kind === 'state') {
            get(o.recorder).recordCircuitBreakerState(o.name, o.state);
            states.set(o.name, o.state);
          } else if (o.kind === 'collect') {
            await registry.getMetricsAsJSON();
          } else {
            await registry.getMetricsAsJSON();
            registry.resetMetrics(); // counters start again from 0; gauges are current again at the next collect
            timeouts.clear();
          }
        }
        for (const [n, count] of timeouts)
          expect(await value(registry, 'resilience_timeouts_total', { name: n })).toBe(count);
        for (const [n, active] of load)
          expect(await value(registry, 'resilience_bulkhead_active', { name: n })).toBe(active);
        for (const [n, state] of states) {
          for (const s of ['closed', 'open', 'half-open']) {
            expect(await value(registry, 'resilience_circuit_breaker_state', { name: n, state: s })).toBe(
              s === state ? 1 : 0,
            );
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
