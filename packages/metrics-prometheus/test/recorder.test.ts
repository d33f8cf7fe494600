import { AdaptiveBulkhead, Bulkhead, CircuitBreaker, RateLimiter, Retry, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { Counter, Gauge, Histogram, Registry, register } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PrometheusRecorder } from '../src/index.js';

/** The value of one series of `registry`, or `undefined` when it does not exist. */
async function value(
  registry: Registry,
  metric: string,
  labels: Record<string, string>,
  sample = metric,
): Promise<number | undefined> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  const found = family?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? metric) === sample &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return found?.value;
}

const fail = (): never => {
  throw new Error('boom');
};

describe('PrometheusRecorder', () => {
  afterEach(() => {
    register.clear();
  });

  it('registers exactly the metric names, types and labels of the telemetry contract', async () => {
    const registry = new Registry();
    new PrometheusRecorder({ registry });
    const families = (await registry.getMetricsAsJSON()).map((m) => ({
      name: m.name,
      type: String(m.type),
      labels: [...((registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames ?? [])],
    }));
    expect(families).toEqual([
      { name: 'resilience_circuit_breaker_state', type: 'gauge', labels: ['name', 'state'] },
      { name: 'resilience_circuit_breaker_calls_total', type: 'counter', labels: ['name', 'outcome'] },
      { name: 'resilience_retry_attempts_total', type: 'counter', labels: ['name', 'outcome'] },
      { name: 'resilience_rate_limit_rejections_total', type: 'counter', labels: ['name'] },
      { name: 'resilience_bulkhead_active', type: 'gauge', labels: ['name'] },
      { name: 'resilience_bulkhead_queued', type: 'gauge', labels: ['name'] },
      { name: 'resilience_adaptive_bulkhead_limit', type: 'gauge', labels: ['name'] },
      { name: 'resilience_timeouts_total', type: 'counter', labels: ['name'] },
      { name: 'resilience_call_duration_seconds', type: 'histogram', labels: ['name', 'pattern', 'outcome'] },
    ]);
  });

  it('follows a real circuit breaker: state gauge, calls by outcome and durations', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      name: 'payments',
      metrics,
      clock,
      timeout: 1000,
      readyToTrip: (c) => c.consecutiveFailures >= 2,
    });
    const state = (s: string) => value(registry, 'resilience_circuit_breaker_state', { name: 'payments', state: s });
    const calls = (o: string) =>
      value(registry, 'resilience_circuit_breaker_calls_total', { name: 'payments', outcome: o });
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([1, 0, 0]);

    await breaker.execute(async () => {
      await clock.advance(300);
      return 'ok';
    });
    await expect(breaker.execute(fail)).rejects.toThrow('boom');
    await expect(breaker.execute(fail)).rejects.toThrow('boom');
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([0, 1, 0]);
    await expect(breaker.execute(() => 'never')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN' });

    expect(await calls('success')).toBe(1);
    expect(await calls('failure')).toBe(2);
    expect(await calls('rejected')).toBe(1);
    expect(await calls('ignored')).toBe(0); // created at 0 with the breaker's first call
    expect(await calls('cancelled')).toBe(0);

    const duration = { name: 'payments', pattern: 'circuit_breaker', outcome: 'success' };
    const metric = 'resilience_call_duration_seconds';
    expect(await value(registry, metric, duration, `${metric}_count`)).toBe(1);
    expect(await value(registry, metric, duration, `${metric}_sum`)).toBeCloseTo(0.3);
    expect(await value(registry, metric, { ...duration, le: '0.25' }, `${metric}_bucket`)).toBe(0);
    expect(await value(registry, metric, { ...duration, le: '0.5' }, `${metric}_bucket`)).toBe(1);

    await clock.advance(1001); // gobreaker's expiry is strict: half-open once the open time has passed
    expect(breaker.state).toBe('half-open');
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([0, 0, 1]);
  });

  it('counts retry attempts, rate-limit rejections, timeouts and bulkhead load of real patterns', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const clock = new FakeClock();

    const retry = new Retry({ name: 'fetch', metrics, clock, maxAttempts: 3, initialDelay: 10 });
    let n = 0;
    const done = retry.execute(() => (++n < 3 ? fail() : 'third time'));
    await clock.advance(10);
    await clock.advance(20);
    await expect(done).resolves.toBe('third time');
    expect(await value(registry, 'resilience_retry_attempts_total', { name: 'fetch', outcome: 'failure' })).toBe(2);
    expect(await value(registry, 'resilience_retry_attempts_total', { name: 'fetch', outcome: 'success' })).toBe(1);

    const limiter = new RateLimiter({ name: 'api', metrics, clock, rate: 1, interval: 1000 });
    expect(limiter.allow('user-1')).toBe(true);
    expect(limiter.allow('user-1')).toBe(false);
    expect(limiter.allow('user-2')).toBe(true);
    expect(limiter.allow('user-2')).toBe(false);
    expect(await value(registry, 'resilience_rate_limit_rejections_total', { name: 'api' })).toBe(2);
    // The key never becomes a label.
    expect(await registry.metrics()).not.toContain('user-1');

    const timeout = new Timeout({ name: 'db', metrics, clock, defaultTimeout: 50 });
    const slow = expect(timeout.execute(() => new Promise(() => {}))).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await clock.advance(50);
    await slow;
    expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(1);

    const bulkhead = new Bulkhead({ name: 'pool', metrics, clock, maxConcurrent: 1, maxQueue: 1 });
    let release = (): void => {};
    const first = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const second = bulkhead.execute(() => 'queued one');
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'pool' })).toBe(1);
    expect(await value(registry, 'resilience_bulkhead_queued', { name: 'pool' })).toBe(1);
    release();
    await first;
    await second;
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'pool' })).toBe(0);
    expect(await value(registry, 'resilience_bulkhead_queued', { name: 'pool' })).toBe(0);
  });

  it('uses the prefix and the buckets it is given', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry, prefix: 'shop:api_', buckets: [0.1, 1] });
    metrics.recordTimeout('db');
    metrics.recordCallDuration('db', 'timeout', 'success', 0.5);
    expect(await value(registry, 'shop:api_timeouts_total', { name: 'db' })).toBe(1);
    const buckets = (await registry.getMetricsAsJSON())
      .find((m) => m.name === 'shop:api_call_duration_seconds')
      ?.values.map((v) => v.labels.le)
      .filter((le) => le !== undefined);
    expect(buckets).toEqual([0.1, 1, '+Inf']);
    expect(registry.getSingleMetric('resilience_timeouts_total')).toBeUndefined();
  });

  it("registers in prom-client's global register by default", async () => {
    const metrics = new PrometheusRecorder();
    metrics.recordRateLimitHit('global');
    expect(await register.metrics()).toContain('resilience_rate_limit_rejections_total{name="global"} 1');
  });

  it('accepts any outcome string (the core adds outcomes over time)', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    metrics.recordCircuitBreakerCall('b', 'cancelled' as never); // in CallOutcome once the core reports cancellations
    metrics.recordCircuitBreakerCall('b', 'shed' as never);
    metrics.recordCallDuration('b', 'circuit_breaker', 'shed' as never, 0.01);
    expect(await value(registry, 'resilience_circuit_breaker_calls_total', { name: 'b', outcome: 'cancelled' })).toBe(
      1,
    );
    expect(await value(registry, 'resilience_circuit_breaker_calls_total', { name: 'b', outcome: 'shed' })).toBe(1);
  });

  it('drops a duration that is negative, NaN or infinite instead of throwing', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => metrics.recordCallDuration('b', 'circuit_breaker', 'success', bad)).not.toThrow();
    }
    metrics.recordCallDuration('b', 'circuit_breaker', 'success', 0);
    const metric = 'resilience_call_duration_seconds';
    const labels = { name: 'b', pattern: 'circuit_breaker', outcome: 'success' };
    expect(await value(registry, metric, labels, `${metric}_count`)).toBe(1);
    expect(await value(registry, metric, labels, `${metric}_sum`)).toBe(0);
  });

  it("follows a real AdaptiveBulkhead's limit in resilience_adaptive_bulkhead_limit{name}", async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const clock = new FakeClock();
    const bulkhead = new AdaptiveBulkhead({ name: 'db', algorithm: 'aimd', initialLimit: 10, metrics, clock });
    const limit = () => value(registry, 'resilience_adaptive_bulkhead_limit', { name: 'db' });
    expect(await limit()).toBe(10); // reported from construction, then each time it moves
    await expect(bulkhead.execute(fail)).rejects.toThrow('boom');
    expect(bulkhead.limit).toBe(9);
    expect(await limit()).toBe(9);
    await expect(bulkhead.execute(fail)).rejects.toThrow('boom');
    expect(await limit()).toBe(bulkhead.limit);
    expect(bulkhead.limit).toBeLessThan(9);
    // Its load goes to the bulkhead gauges, as a Bulkhead's does.
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'db' })).toBe(0);
    expect(await value(registry, 'resilience_bulkhead_queued', { name: 'db' })).toBe(0);
    // The limit grows back with successes (AIMD adds one per success while calls fill it).
    for (let i = 0; i < 50; i++) {
      await Promise.all(Array.from({ length: bulkhead.limit }, () => bulkhead.execute(() => 'ok')));
    }
    expect(await limit()).toBe(bulkhead.limit);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE resilience_adaptive_bulkhead_limit gauge');
    expect(text).toContain(`resilience_adaptive_bulkhead_limit{name="db"} ${bulkhead.limit}`);
  });

  it('shares the adaptive limit gauge between recorders on a registry: the latest value wins', async () => {
    const registry = new Registry();
    const a = new PrometheusRecorder({ registry });
    const b = new PrometheusRecorder({ registry });
    a.recordAdaptiveBulkheadLimit('db', 12);
    b.recordAdaptiveBulkheadLimit('db', 7);
    expect(await value(registry, 'resilience_adaptive_bulkhead_limit', { name: 'db' })).toBe(7);
    a.recordAdaptiveBulkheadLimit('db', 8);
    expect(await value(registry, 'resilience_adaptive_bulkhead_limit', { name: 'db' })).toBe(8);
    const gauge = registry.getSingleMetric('resilience_adaptive_bulkhead_limit') as unknown as {
      set: (...a: unknown[]) => unknown;
    };
    const set = vi.spyOn(gauge, 'set');
    for (let i = 0; i < 10_000; i++) a.recordAdaptiveBulkheadLimit('db', i % 50);
    expect(set).not.toHaveBeenCalled(); // handed over at collection only
    expect(await value(registry, 'resilience_adaptive_bulkhead_limit', { name: 'db' })).toBe(9_999 % 50);
  });

  it('resolves the label children of a name once, not on every call', () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const spies = [
      'resilience_circuit_breaker_calls_total',
      'resilience_call_duration_seconds',
      'resilience_bulkhead_active',
    ]
      .map((name) => registry.getSingleMetric(name) as unknown as { labels: (...a: unknown[]) => unknown })
      .map((metric) => vi.spyOn(metric, 'labels'));
    for (let i = 0; i < 10_000; i++) {
      metrics.recordCircuitBreakerCall('b', i % 2 === 0 ? 'success' : 'failure');
      metrics.recordCallDuration('b', 'circuit_breaker', 'success', 0.001);
      metrics.recordBulkheadUtilization('b', i % 8, 0);
    }
    expect(spies.map((spy) => spy.mock.calls.length)).toEqual([5, 1, 1]);
  });

  it('leaves prom-client alone on every call, handing counts over when the metrics are collected', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    const calls = registry.getSingleMetric('resilience_circuit_breaker_calls_total') as unknown as {
      inc: (...a: unknown[]) => unknown;
    };
    const active = registry.getSingleMetric('resilience_bulkhead_active') as unknown as {
      set: (...a: unknown[]) => unknown;
    };
    const inc = vi.spyOn(calls, 'inc');
    const set = vi.spyOn(active, 'set');
    for (let i = 0; i < 10_000; i++) {
      metrics.recordCircuitBreakerCall('b', i % 4 === 0 ? 'failure' : 'success');
      metrics.recordBulkheadUtilization('b', i % 8, 0);
    }
    expect(inc).toHaveBeenCalledTimes(5); // each outcome created at 0, once
    expect(set).not.toHaveBeenCalled();
    expect(await value(registry, 'resilience_circuit_breaker_calls_total', { name: 'b', outcome: 'success' })).toBe(
      7_500,
    );
    expect(await value(registry, 'resilience_circuit_breaker_calls_total', { name: 'b', outcome: 'failure' })).toBe(
      2_500,
    );
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'b' })).toBe(9_999 % 8);
    expect(inc).toHaveBeenCalledTimes(7); // one increment per outcome that moved
    expect(set).toHaveBeenCalledTimes(3); // the latest value, once per collection
    // Collected again with nothing new: nothing is added twice.
    expect(await value(registry, 'resilience_circuit_breaker_calls_total', { name: 'b', outcome: 'success' })).toBe(
      7_500,
    );
    expect(inc).toHaveBeenCalledTimes(7);
  });

  it('starts counters again from 0 after registry.resetMetrics(), and keeps gauges current', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    metrics.recordTimeout('db');
    metrics.recordTimeout('db');
    metrics.recordBulkheadUtilization('pool', 4, 2);
    expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(2);
    registry.resetMetrics();
    metrics.recordTimeout('db');
    expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(1);
    expect(await value(registry, 'resilience_bulkhead_active', { name: 'pool' })).toBe(4);
    expect(await value(registry, 'resilience_bulkhead_queued', { name: 'pool' })).toBe(2);
  });

  it('never lets a bad gauge value fail a scrape', async () => {
    const registry = new Registry();
    const metrics = new PrometheusRecorder({ registry });
    metrics.recordBulkheadUtilization('pool', '3' as never, Number.NaN);
    const text = await registry.metrics();
    expect(text).not.toContain('resilience_bulkhead_active{'); // not a number: left out
    expect(text).toMatch(/resilience_bulkhead_queued\{name="pool"\} NaN/i); // NaN is a number
    metrics.recordAdaptiveBulkheadLimit('adaptive', 'many' as never);
    metrics.recordAdaptiveBulkheadLimit('adaptive_nan', Number.NaN);
    const after = await registry.metrics();
    expect(after).not.toContain('resilience_adaptive_bulkhead_limit{name="adaptive"}');
    expect(after).toMatch(/resilience_adaptive_bulkhead_limit\{name="adaptive_nan"\} NaN/i);
  });

  describe('on a registry that already has the metrics', () => {
    it('shares them with a recorder of the same definition', async () => {
      const registry = new Registry();
      const a = new PrometheusRecorder({ registry });
      const b = new PrometheusRecorder({ registry });
      a.recordTimeout('db');
      b.recordTimeout('db');
      b.recordCircuitBreakerState('x', 'open');
      expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(2);
      expect(await value(registry, 'resilience_circuit_breaker_state', { name: 'x', state: 'open' })).toBe(1);
      expect(registry.getMetricsAsArray()).toHaveLength(9);
    });

    it('shares a metric registered by hand with the same definition, labels in any order', async () => {
      const registry = new Registry();
      const own = new Counter({
        name: 'resilience_retry_attempts_total',
        help: 'Retry attempts, by outcome (success or failure).',
        labelNames: ['outcome', 'name'],
        registers: [registry],
      });
      new PrometheusRecorder({ registry }).recordRetryAttempt('r', 1, true);
      expect(registry.getSingleMetric('resilience_retry_attempts_total')).toBe(own);
      expect(await value(registry, 'resilience_retry_attempts_total', { name: 'r', outcome: 'success' })).toBe(1);
    });

    it('keeps the collect of a metric registered by hand, and adds its own counts', async () => {
      const registry = new Registry();
      let theirs = 0;
      new Counter({
        name: 'resilience_timeouts_total',
        help: 'Calls stopped by a timeout.',
        labelNames: ['name'],
        registers: [registry],
        collect() {
          theirs++;
          this.inc({ name: 'legacy' }, 1);
        },
      });
      const a = new PrometheusRecorder({ registry });
      const b = new PrometheusRecorder({ registry });
      a.recordTimeout('db');
      b.recordTimeout('db');
      b.recordTimeout('cache');
      expect(await value(registry, 'resilience_timeouts_total', { name: 'db' })).toBe(2);
      expect(await value(registry, 'resilience_timeouts_total', { name: 'cache' })).toBe(1);
      expect(await value(registry, 'resilience_timeouts_total', { name: 'legacy' })).toBe(3);
      expect(theirs).toBe(3);
    });

    it('throws naming the metric and the difference when the definition differs, registering nothing', () => {
      const registry = new Registry();
      new Gauge({ name: 'resilience_timeouts_total', help: 'mine', registers: [registry] });
      expect(() => new PrometheusRecorder({ registry })).toThrow(
        /metric resilience_timeouts_total is already registered .*type gauge, not counter; help "mine", not "Calls stopped by a timeout\."; labels \[\], not \[name\]/,
      );
      expect(registry.getMetricsAsArray()).toHaveLength(1);
    });

    it('throws when the buckets of the duration histogram differ', () => {
      const registry = new Registry();
      new PrometheusRecorder({ registry, buckets: [0.1, 1] });
      expect(() => new PrometheusRecorder({ registry, buckets: [0.1, 2] })).toThrow(
        'metric resilience_call_duration_seconds is already registered in this registry with another definition (buckets [0.1, 1], not [0.1, 2])',
      );
      expect(() => new PrometheusRecorder({ registry })).toThrow('resilience_call_duration_seconds');
      // Another prefix is another set of metrics.
      expect(() => new PrometheusRecorder({ registry, prefix: 'other_' })).not.toThrow();
    });

    it('throws when labels differ', () => {
      const registry = new Registry();
      new Histogram({
        name: 'resilience_call_duration_seconds',
        help: 'Duration of calls through a pattern, in seconds, by pattern and outcome.',
        labelNames: ['name', 'outcome'],
        registers: [registry],
      });
      expect(() => new PrometheusRecorder({ registry })).toThrow(
        'resilience_call_duration_seconds is already registered in this registry with another definition (labels [name, outcome], not [name, pattern, outcome])',
      );
    });
  });

  describe('rejects bad options at construction, naming the option and the value', () => {
    it.each([
      [null, TypeError, 'PrometheusRecorder: options must be an object, got null'],
      ['x', TypeError, 'PrometheusRecorder: options must be an object, got "x"'],
      [{ registery: new Registry() }, TypeError, 'PrometheusRecorder: unknown option "registery"'],
      [{ labels: {} }, TypeError, 'unknown option "labels" (known: registry, prefix, buckets, policies)'],
      // prom-client's own spellings name the option to use here.
      [
        { register: new Registry() },
        TypeError,
        'PrometheusRecorder: unknown option "register" (prom-client\'s collectDefaultMetrics() spelling); use registry (known: registry, prefix, buckets, policies)',
      ],
      [
        { registers: [new Registry()] },
        TypeError,
        'PrometheusRecorder: unknown option "registers" (a prom-client metric\'s spelling); use registry, one registry (known: registry, prefix, buckets, policies)',
      ],
      [{ registry: {} }, TypeError, 'PrometheusRecorder: registry must be a prom-client Registry'],
      [{ registry: null }, TypeError, 'registry must be a prom-client Registry (with getSingleMetric()), got null'],
      [{ prefix: 42 }, TypeError, 'PrometheusRecorder: prefix must be a string, got 42'],
      [{ prefix: '1app_' }, RangeError, 'prefix must start a valid Prometheus metric name'],
      [{ prefix: 'my-app_' }, RangeError, 'got "my-app_"'],
      [{ buckets: [] }, TypeError, 'buckets must be a non-empty array of numbers, got an array'],
      [{ buckets: 0.5 }, TypeError, 'buckets must be a non-empty array of numbers, got 0.5'],
      [{ buckets: [0.1, Number.NaN] }, RangeError, 'buckets[1] must be a finite number >= 0, got NaN'],
      [
        { buckets: [0.1, Number.POSITIVE_INFINITY] },
        RangeError,
        'buckets[1] must be a finite number >= 0, got Infinity',
      ],
      [{ buckets: [-1] }, RangeError, 'buckets[0] must be a finite number >= 0, got -1'],
      [{ buckets: ['1'] }, RangeError, 'buckets[0] must be a finite number >= 0, got "1"'],
      [{ buckets: [1, 0.5] }, RangeError, 'buckets must increase, got buckets[1] 0.5 after 1'],
      [{ buckets: [1, 1] }, RangeError, 'buckets must increase, got buckets[1] 1 after 1'],
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
      [{ buckets: [0.1, , 1] }, RangeError, 'buckets[1] must be a finite number >= 0, got undefined'],
    ])('%j', (options, type, message) => {
      const registry = new Registry();
      const attempt = () => new PrometheusRecorder(options as never);
      expect(attempt).toThrow(type);
      expect(attempt).toThrow(message);
      expect(registry.getMetricsAsArray()).toHaveLength(0);
    });

    it('copies the buckets, so changing the array later changes nothing', () => {
      const buckets = [0.1, 1];
      const metrics = new PrometheusRecorder({ registry: new Registry(), buckets });
      buckets.push(0.01);
      expect(metrics.buckets).toEqual([0.1, 1]);
      expect(Object.isFrozen(metrics.buckets)).toBe(true);
    });
  });
});
