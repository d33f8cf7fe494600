import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CircuitBreaker, Retry } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { MetricNames, OTelRecorder, resilienceTracer, SpanNames } from '../src/index.js';
import { collect, type Histogram, meters, points } from './metrics.js';
import { droppingTracing, named, tracing } from './tracing.js';

describe('under hostile use', () => {
  it('ends every span of 10,000 synchronous throws through a traced breaker, each an error', async () => {
    const { provider, exporter } = tracing();
    const breaker = new CircuitBreaker({ tracer: resilienceTracer(provider), readyToTrip: () => false });
    const failures = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        breaker
          .execute(() => {
            throw new Error(`sync ${i}`);
          })
          .catch((e: unknown) => e),
      ),
    );
    expect(failures.every((e, i) => e instanceof Error && e.message === `sync ${i}`)).toBe(true);
    const spans = named(exporter, SpanNames.CircuitBreaker);
    expect(spans).toHaveLength(10_000);
    expect(spans.every((s) => s.ended && s.status.code === 2)).toBe(true);
  });

  it('serves 100,000 calls on one shared signal through a traced, recorded breaker without a listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      const { provider } = droppingTracing();
      const { provider: meterProvider, reader } = meters();
      const breaker = new CircuitBreaker<number>({
        name: 'shared',
        tracer: resilienceTracer(provider),
        metrics: new OTelRecorder(meterProvider.getMeter('t')),
      });
      const signal = new AbortController().signal;
      const results = await Promise.all(
        Array.from({ length: 100_000 }, (_, i) => breaker.execute(() => i, { signal })),
      );
      expect(results[99_999]).toBe(99_999);
      const m = await collect(reader);
      expect(points(m.get(MetricNames.CircuitBreakerCalls))).toEqual([
        [{ 'resilience.name': 'shared', 'resilience.outcome': 'success' }, 100_000],
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it('takes NaN, negative, infinite and huge values without throwing', async () => {
    const { provider, reader } = meters();
    const recorder = new OTelRecorder(provider.getMeter('t'));
    expect(() => {
      recorder.recordCallDuration('x', 'circuit_breaker', 'success', Number.NaN);
      recorder.recordCallDuration('x', 'circuit_breaker', 'success', -1);
      recorder.recordCallDuration('x', 'circuit_breaker', 'success', Number.POSITIVE_INFINITY);
      recorder.recordCallDuration('x', 'circuit_breaker', 'success', 1e300);
      recorder.recordBulkheadUtilization('b', Number.NaN, -5);
      recorder.recordAdaptiveBulkheadLimit('a', Number.NaN);
      recorder.recordAdaptiveBulkheadLimit('a', -3);
      recorder.recordRetryAttempt('r', Number.MAX_SAFE_INTEGER, false);
      recorder.recordCircuitBreakerState('c', 'bogus' as never);
    }).not.toThrow();
    recorder.recordCallDuration('x', 'circuit_breaker', 'success', 0.5);
    const m = await collect(reader);
    // A gauge reports the latest value it was given; the collection does not fail on it.
    expect(points(m.get(MetricNames.AdaptiveBulkheadLimit))).toEqual([[{ 'resilience.name': 'a' }, -3]]);
    // An unknown state reads as 0 for every known state rather than inventing a series.
    expect(points(m.get(MetricNames.CircuitBreakerState)).every(([, v]) => v === 0)).toBe(true);
    // Only the finite, non-negative durations are in the histogram: its sum stays a number.
    const [[, histogram] = []] = points<Histogram>(m.get(MetricNames.CallDuration));
    expect(histogram?.count).toBe(2);
    expect(histogram?.sum).toBe(1e300 + 0.5);
  });
});

// A span processor is user code: a broken exporter pipeline must not change a call's outcome (API.md).
// The core's Telemetry.traced guards startActiveSpan and the span's methods.
function throwing(where: 'onStart' | 'onEnd'): SpanProcessor {
  return {
    onStart() {
      if (where === 'onStart') throw new Error('processor onStart broke');
    },
    onEnd() {
      if (where === 'onEnd') throw new Error('processor onEnd broke');
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

describe('a span processor that throws', () => {
  for (const where of ['onStart', 'onEnd'] as const) {
    it(`does not change the outcome when ${where} throws`, async () => {
      const tracer = new BasicTracerProvider({ spanProcessors: [throwing(where)] }).getTracer('t');
      const breaker = new CircuitBreaker<number>({ tracer });
      const retry = new Retry<number>({ tracer, maxAttempts: 1 });
      const outcome = async (run: () => Promise<number>): Promise<unknown> => {
        try {
          return await run();
        } catch (err) {
          return err;
        }
      };
      expect(await outcome(() => breaker.execute(() => 42))).toBe(42);
      expect(await outcome(() => retry.execute(() => 43))).toBe(43);
    });
  }
});
