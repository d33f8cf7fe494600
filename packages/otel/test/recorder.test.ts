import { ValueType } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { AdaptiveBulkhead, Bulkhead, CircuitBreaker, RateLimiter, Retry, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DURATION_BUCKETS, MetricNames, OTelRecorder } from '../src/index.js';
import { collect, meters, points, pointValue } from './metrics.js';

function setup(options?: ConstructorParameters<typeof OTelRecorder>[1]) {
  const { provider, reader } = meters();
  const recorder = new OTelRecorder(provider.getMeter('test'), options);
  return { provider, reader, recorder };
}

describe('OTelRecorder on the real metrics SDK', () => {
  it('reports a breaker: state gauge 1/0, calls by outcome, durations in seconds with the advised buckets', async () => {
    const { reader, recorder } = setup();
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      name: 'payments',
      clock,
      metrics: recorder,
      readyToTrip: (c) => c.consecutiveFailures >= 2,
    });
    await breaker.execute(async () => {
      await clock.advance(250);
      return 'ok';
    });
    for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await breaker.execute(() => 'never').catch(() => {});

    const m = await collect(reader);
    const state = m.get(MetricNames.CircuitBreakerState);
    expect(points(state)).toEqual(
      expect.arrayContaining([
        [{ 'resilience.circuit_breaker.state': 'closed', 'resilience.name': 'payments' }, 0],
        [{ 'resilience.circuit_breaker.state': 'open', 'resilience.name': 'payments' }, 1],
        [{ 'resilience.circuit_breaker.state': 'half-open', 'resilience.name': 'payments' }, 0],
      ]),
    );
    const calls = m.get(MetricNames.CircuitBreakerCalls);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'success' })).toBe(1);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'failure' })).toBe(2);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'rejected' })).toBe(1);

    const duration = m.get(MetricNames.CallDuration);
    expect(duration?.descriptor.unit).toBe('s');
    const success = pointValue<Histogram>(duration, {
      'resilience.name': 'payments',
      'resilience.pattern': 'circuit_breaker',
      'resilience.outcome': 'success',
    });
    expect(success?.count).toBe(1);
    expect(success?.sum).toBeCloseTo(0.25, 6);
    expect(success?.buckets.boundaries).toEqual(DEFAULT_DURATION_BUCKETS);
  });

  it('counts retry attempts by outcome, refusals, timeouts, and reports bulkhead load', async () => {
    const { reader, recorder } = setup();
    const clock = new FakeClock();
    let n = 0;
    const retry = new Retry({ name: 'inventory', maxAttempts: 3, initialDelay: 0, metrics: recorder, clock });
    const done = retry.execute(() => (++n < 3 ? Promise.reject(new Error('flaky')) : 'ok'));
    // A zero delay goes through the clock too: advance(0) lets each attempt fail and fires its 0 ms timer.
    await clock.advance(0);
    await clock.runAll();
    await done;

    const limiter = new RateLimiter({ name: 'partner', rate: 1, interval: 60_000, clock, metrics: recorder });
    limiter.allow('tenant-1');
    limiter.allow('tenant-1');
    await limiter.execute(() => 'x', { key: 'tenant-2' });
    await limiter.execute(() => 'x', { key: 'tenant-2' }).catch(() => {});

    const timeout = new Timeout({ name: 'search', defaultTimeout: 10, clock, metrics: recorder });
    const late = timeout.execute(() => new Promise(() => {})).catch(() => {});
    await clock.advance(10);
    await late;

    const bulkhead = new Bulkhead({ name: 'db', maxConcurrent: 1, maxQueue: 5, metrics: recorder });
    let release = (): void => {};
    const running = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = [bulkhead.execute(() => 1), bulkhead.execute(() => 2)];

    let m = await collect(reader);
    const attempts = m.get(MetricNames.RetryAttempts);
    expect(pointValue(attempts, { 'resilience.name': 'inventory', 'resilience.outcome': 'failure' })).toBe(2);
    expect(pointValue(attempts, { 'resilience.name': 'inventory', 'resilience.outcome': 'success' })).toBe(1);
    expect(points(m.get(MetricNames.RateLimitRejections))).toEqual([[{ 'resilience.name': 'partner' }, 2]]);
    expect(points(m.get(MetricNames.Timeouts))).toEqual([[{ 'resilience.name': 'search' }, 1]]);
    expect(points(m.get(MetricNames.BulkheadActive))).toEqual([[{ 'resilience.name': 'db' }, 1]]);
    expect(points(m.get(MetricNames.BulkheadQueued))).toEqual([[{ 'resilience.name': 'db' }, 2]]);

    release();
    await Promise.all([running, ...queued]);
    m = await collect(reader);
    expect(points(m.get(MetricNames.BulkheadActive))).toEqual([[{ 'resilience.name': 'db' }, 0]]);
    expect(points(m.get(MetricNames.BulkheadQueued))).toEqual([[{ 'resilience.name': 'db' }, 0]]);

    // Bounded attributes: no key of the rate limiter appears anywhere.
    const everything = JSON.stringify([...m.values()].map((metric) => metric.dataPoints.map((p) => p.attributes)));
    expect(everything).not.toMatch(/tenant/);
  });

  it('passes any outcome string through, so outcomes the core adds later need no change here', async () => {
    const { reader, recorder } = setup();
    recorder.recordCircuitBreakerCall('payments', 'cancelled');
    recorder.recordCallDuration('payments', 'circuit_breaker', 'cancelled', 0.004);
    const m = await collect(reader);
    expect(
      pointValue(m.get(MetricNames.CircuitBreakerCalls), {
        'resilience.name': 'payments',
        'resilience.outcome': 'cancelled',
      }),
    ).toBe(1);
    expect(
      pointValue<Histogram>(m.get(MetricNames.CallDuration), {
        'resilience.name': 'payments',
        'resilience.pattern': 'circuit_breaker',
        'resilience.outcome': 'cancelled',
      })?.count,
    ).toBe(1);
  });

  it('uses the buckets it is given', async () => {
    const { reader, recorder } = setup({ durationBuckets: [0.01, 0.1, 1] });
    recorder.recordCallDuration('x', 'retry', 'success', 0.05);
    const m = await collect(reader);
    const [[, histogram] = []] = points<Histogram>(m.get(MetricNames.CallDuration));
    expect(histogram?.buckets).toEqual({ boundaries: [0.01, 0.1, 1], counts: [0, 1, 0, 0] });
  });

  it('records no durations when durations is off, and still counts', async () => {
    const { reader, recorder } = setup({ durations: false });
    recorder.recordCallDuration('x', 'circuit_breaker', 'success', 0.05);
    recorder.recordCircuitBreakerCall('x', 'success');
    const m = await collect(reader);
    expect(m.has(MetricNames.CallDuration)).toBe(false);
    expect(points(m.get(MetricNames.CircuitBreakerCalls))).toEqual([
      [{ 'resilience.name': 'x', 'resilience.outcome': 'success' }, 1],
    ]);
  });

  it('reports counters as cumulative sums across collections', async () => {
    const { reader, recorder } = setup();
    recorder.recordTimeout('t');
    expect(points((await collect(reader)).get(MetricNames.Timeouts))).toEqual([[{ 'resilience.name': 't' }, 1]]);
    recorder.recordTimeout('t');
    recorder.recordTimeout('t');
    expect(points((await collect(reader)).get(MetricNames.Timeouts))).toEqual([[{ 'resilience.name': 't' }, 3]]);
  });

  it('adds up the counts of several recorders on one meter, and keeps reporting until the last is disposed', async () => {
    const { provider, reader } = meters();
    const meter = provider.getMeter('shared');
    const a = new OTelRecorder(meter);
    const b = new OTelRecorder(meter);
    a.recordTimeout('x');
    b.recordTimeout('x');
    b.recordTimeout('x');
    expect(points((await collect(reader)).get(MetricNames.Timeouts))).toEqual([[{ 'resilience.name': 'x' }, 3]]);
    a.dispose();
    a.dispose(); // a second dispose does not take b's share
    b.recordTimeout('x');
    expect(points((await collect(reader)).get(MetricNames.Timeouts))).toEqual([[{ 'resilience.name': 'x' }, 4]]);
    b.dispose();
    b.recordTimeout('x');
    expect(pointValue((await collect(reader)).get(MetricNames.Timeouts), { 'resilience.name': 'x' })).not.toBe(5);
  });

  it('refuses a second recorder on a meter with other histogram options', () => {
    const meter = meters().provider.getMeter('shared');
    const first = new OTelRecorder(meter);
    expect(() => new OTelRecorder(meter, { durations: false })).toThrow(
      /this meter already has a recorder with durations true .*got durations false/,
    );
    expect(() => new OTelRecorder(meter, { durationBuckets: [1, 2] })).toThrow(RangeError);
    expect(() => new OTelRecorder(meter, { durationBuckets: [...DEFAULT_DURATION_BUCKETS] })).not.toThrow();
    first.dispose();
  });

  it("reports a real AdaptiveBulkhead's limit in resilience.adaptive_bulkhead.limit as it moves", async () => {
    const { reader, recorder } = setup();
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({
      name: 'db',
      algorithm: 'aimd',
      initialLimit: 10,
      clock,
      metrics: recorder,
    });
    const limit = async () =>
      pointValue((await collect(reader)).get(MetricNames.AdaptiveBulkheadLimit), { 'resilience.name': 'db' });
    expect(await limit()).toBe(10); // reported from construction, then each time it moves
    await bulkhead.execute(() => Promise.reject(new Error('overloaded'))).catch(() => {});
    expect(bulkhead.limit).toBe(9);
    expect(await limit()).toBe(9);
    await bulkhead.execute(() => Promise.reject(new Error('overloaded'))).catch(() => {});
    expect(bulkhead.limit).toBeLessThan(9);
    expect(await limit()).toBe(bulkhead.limit);
    for (let i = 0; i < 50; i++) {
      await Promise.all(Array.from({ length: bulkhead.limit }, () => bulkhead.execute(() => 'ok')));
    }
    const m = await collect(reader);
    const gauge = m.get(MetricNames.AdaptiveBulkheadLimit);
    expect(gauge?.descriptor).toMatchObject({ type: 'OBSERVABLE_GAUGE', unit: '{call}', valueType: ValueType.INT });
    expect(points(gauge)).toEqual([[{ 'resilience.name': 'db' }, bulkhead.limit]]);
    // Its load goes to the bulkhead gauges, as a Bulkhead's does.
    expect(points(m.get(MetricNames.BulkheadActive))).toEqual([[{ 'resilience.name': 'db' }, 0]]);
  });

  it('shares the adaptive limit gauge between recorders on a meter, and bounds it by cardinalityLimit', async () => {
    const { provider, reader } = meters();
    const meter = provider.getMeter('shared');
    const a = new OTelRecorder(meter, { cardinalityLimit: 4 });
    const b = new OTelRecorder(meter, { cardinalityLimit: 4 });
    a.recordAdaptiveBulkheadLimit('db', 12);
    b.recordAdaptiveBulkheadLimit('db', 7);
    expect(points((await collect(reader)).get(MetricNames.AdaptiveBulkheadLimit))).toEqual([
      [{ 'resilience.name': 'db' }, 7],
    ]);
    for (const name of ['p', 'q', 'r', 's']) a.recordAdaptiveBulkheadLimit(name, 3);
    // Room for 3 sets (one kept for the overflow point): db, p, q; the others are not reported (no sum of limits).
    const reported = points((await collect(reader)).get(MetricNames.AdaptiveBulkheadLimit));
    expect(reported.map(([attributes]) => attributes['resilience.name'])).toEqual(['db', 'p', 'q']);
    a.dispose();
    b.dispose();
  });

  it('stops observing its gauges once disposed', async () => {
    const { reader, recorder } = setup();
    recorder.recordCircuitBreakerState('a', 'closed');
    recorder.recordBulkheadUtilization('b', 1, 0);
    expect(points((await collect(reader)).get(MetricNames.CircuitBreakerState))).toHaveLength(3);
    recorder[Symbol.dispose]();
    // Changes after dispose never reach the SDK: its callbacks are gone.
    recorder.recordCircuitBreakerState('a', 'open');
    recorder.recordBulkheadUtilization('b', 7, 3);
    const m = await collect(reader);
    const open = pointValue(m.get(MetricNames.CircuitBreakerState), {
      'resilience.name': 'a',
      'resilience.circuit_breaker.state': 'open',
    });
    expect(open).not.toBe(1);
    expect(pointValue(m.get(MetricNames.BulkheadActive), { 'resilience.name': 'b' })).not.toBe(7);
  });

  it('falls back to the global meter provider when given no meter', () => {
    expect(() => new OTelRecorder()).not.toThrow();
  });

  it('rejects bad arguments at construction, naming the field and the value', () => {
    const meter = meters().provider.getMeter('t');
    expect(() => new OTelRecorder({} as never)).toThrow(
      /OTelRecorder: meter must be an OpenTelemetry Meter .*got object/,
    );
    expect(() => new OTelRecorder(null as never)).toThrow(/meter must be .*got null/);
    expect(() => new OTelRecorder(meter, { buckets: [1] } as never)).toThrow(/OTelRecorder: unknown option "buckets"/);
    expect(() => new OTelRecorder(meter, { durationBuckets: [] })).toThrow(/durationBuckets .* got \[\]/);
    expect(() => new OTelRecorder(meter, { durationBuckets: [1, 0.5] })).toThrow(/durationBuckets .*got \[1, 0.5\]/);
    expect(() => new OTelRecorder(meter, { durationBuckets: [0.1, Number.NaN] })).toThrow(/got \[0.1, NaN\]/);
    expect(() => new OTelRecorder(meter, { durationBuckets: [-1, 1] })).toThrow(RangeError);
    expect(() => new OTelRecorder(meter, 'x' as never)).toThrow(/options must be an object, got "x"/);
    expect(() => new OTelRecorder(meter, { durations: 'no' as never })).toThrow(
      'OTelRecorder: durations must be a boolean, got "no"',
    );
  });

  it('stays within cardinalityLimit: further counts add up in one overflow point, further gauges are dropped', async () => {
    const { reader, recorder } = setup({ cardinalityLimit: 7 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const breaker = new CircuitBreaker({ name, metrics: recorder });
      await breaker.execute(() => 'ok');
      await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
      recorder.recordBulkheadUtilization(name, 1, 2);
      recorder.recordTimeout(name);
    }
    const m = await collect(reader);
    const overflow = { 'otel.metric.overflow': true };
    const calls = m.get(MetricNames.CircuitBreakerCalls);
    expect(points(calls)).toHaveLength(3 * 2 + 1);
    expect(pointValue(calls, overflow)).toBe(4);
    expect(pointValue(calls, { 'resilience.name': 'c', 'resilience.outcome': 'failure' })).toBe(1);
    // Each instrument has its own room of 6 sets: five names fit in the timeouts counter and the load gauges,
    // two breakers (three sets each) in the state gauge, three names (two outcomes each) in the histogram.
    expect(points(m.get(MetricNames.Timeouts))).toHaveLength(5);
    expect(points(m.get(MetricNames.BulkheadActive))).toHaveLength(5);
    expect(points(m.get(MetricNames.CircuitBreakerState)).map(([a]) => a['resilience.name'])).toEqual(
      ['a', 'b'].flatMap((n) => [n, n, n]),
    );
    const durations = m.get(MetricNames.CallDuration);
    expect(points(durations)).toHaveLength(7);
    expect(pointValue<Histogram>(durations, overflow)?.count).toBe(4);
    recorder.recordTimeout('f');
    recorder.recordTimeout('g');
    expect(pointValue((await collect(reader)).get(MetricNames.Timeouts), overflow)).toBe(1);
  });

  it('keeps 10,000 names from growing without bound, losing no count', async () => {
    const { reader, recorder } = setup({ durations: false });
    for (let i = 0; i < 10_000; i++) recorder.recordCircuitBreakerCall(`host-${i}`, 'success');
    const calls = (await collect(reader)).get(MetricNames.CircuitBreakerCalls);
    const all = points(calls);
    expect(all.length).toBeLessThanOrEqual(2001);
    expect(all.reduce((sum, [, v]) => sum + v, 0)).toBe(10_000);
  });

  it('names cardinalityLimit when it is not a positive integer or Infinity, and when recorders on a meter disagree', () => {
    const meter = meters().provider.getMeter('t');
    for (const bad of [0, -1, 1.5, Number.NaN, '10', null]) {
      expect(() => new OTelRecorder(meter, { cardinalityLimit: bad as never })).toThrow(
        `OTelRecorder: cardinalityLimit must be a positive integer or Infinity, got ${bad === '10' ? '"10"' : String(bad)}`,
      );
    }
    const first = new OTelRecorder(meter, { cardinalityLimit: Number.POSITIVE_INFINITY });
    expect(() => new OTelRecorder(meter)).toThrow(/cardinalityLimit Infinity\); got .*cardinalityLimit 2000\)/);
    first.dispose();
  });

  it('rejects a sparse durationBuckets array: its holes would reach the SDK as boundaries', () => {
    const meter = meters().provider.getMeter('t');
    // biome-ignore lint/suspicious/noSparseArray: the hole is the attack
    expect(() => new OTelRecorder(meter, { durationBuckets: [1, ,] as number[] })).toThrow(
      /durationBuckets .*got \[1, <empty>\]/,
    );
    expect(() => new OTelRecorder(meter, { durationBuckets: new Array(3) })).toThrow(RangeError);
  });

  it('keeps the error message short when the bad value is huge', () => {
    const meter = meters().provider.getMeter('t');
    const huge = [2, 1, ...Array.from({ length: 1_000_000 }, (_, i) => i)];
    let message = '';
    try {
      new OTelRecorder(meter, { durationBuckets: huge });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/durationBuckets .*got \[2, 1, 0, 1, .*… 999982 more\]$/);
    expect(message.length).toBeLessThan(400);
    const deep = [[[[[[1]]]]]];
    expect(() => new OTelRecorder(meter, { durationBuckets: deep as never })).toThrow(/got \[array\]/);
    const long = 'x'.repeat(10_000_000);
    expect(() => new OTelRecorder(meter, { durations: long as never })).toThrow(
      /got "x{64}"… \(10000000 characters\)$/,
    );
    expect(() => new OTelRecorder(meter, { [long]: 1 } as never)).toThrow(
      /unknown option "x{64}"… \(10000000 characters\)$/,
    );
  });
});
