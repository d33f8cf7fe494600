import { ProxyTracerProvider } from '@opentelemetry/api';
import { type MetricsRecorder, PolicyRegistry } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { PrometheusRecorder } from '@resilience/metrics-prometheus';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricNames, OTelRecorder, resilienceTracer, tracePolicies } from '../src/index.js';
import { collect, meters, pointValue } from './metrics.js';
import { named, tracing } from './tracing.js';

const fail = (): never => {
  throw new Error('boom');
};

/** The value of one series of a prom-client registry, or `undefined`. */
async function promValue(registry: Registry, metric: string, labels: Record<string, string>): Promise<number> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  const found = family?.values.find((v) =>
    Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return found?.value ?? Number.NaN;
}

describe('OTelRecorder(meter, { policies })', () => {
  it('records every policy of the registry, created before and after attaching', async () => {
    const { provider, reader } = meters();
    const policies = new PolicyRegistry();
    const before = policies.circuitBreaker('payments');
    using recorder = new OTelRecorder(provider.getMeter('m'), { policies });
    const after = policies.rateLimiter('api', { rate: 1 });
    await before.execute(() => 1);
    await expect(before.execute(fail)).rejects.toThrow('boom');
    after.allow();
    after.allow();
    const found = await collect(reader);
    const calls = found.get(MetricNames.CircuitBreakerCalls);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'success' })).toBe(1);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'failure' })).toBe(1);
    expect(pointValue(found.get(MetricNames.RateLimitRejections), { 'resilience.name': 'api' })).toBe(1);
    expect(recorder).toBeInstanceOf(OTelRecorder);
  });

  it('counts a call once when a policy has its own recorder on the same meter as the attached one', async () => {
    const { provider, reader } = meters();
    const meter = provider.getMeter('m');
    const policies = new PolicyRegistry();
    using own = new OTelRecorder(meter);
    using _all = new OTelRecorder(meter, { policies });
    using _again = new OTelRecorder(meter, { policies });
    const breaker = policies.circuitBreaker('payments', { metrics: own });
    await breaker.execute(() => 1);
    const calls = (await collect(reader)).get(MetricNames.CircuitBreakerCalls);
    expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': 'success' })).toBe(1);
  });

  it('dispose() removes it from the policies, and only it', async () => {
    const { provider, reader } = meters();
    const policies = new PolicyRegistry();
    const seen: string[] = [];
    const own = { recordRateLimitHit: (n: string) => void seen.push(n) } as unknown as MetricsRecorder;
    const limiter = policies.rateLimiter('api', { rate: 1, metrics: own });
    const recorder = new OTelRecorder(provider.getMeter('m'), { policies });
    limiter.allow();
    limiter.allow();
    const counted = pointValue((await collect(reader)).get(MetricNames.RateLimitRejections), {
      'resilience.name': 'api',
    });
    expect(counted).toBe(1);
    // A second recorder on the meter keeps the shared tallies reported after the first is disposed.
    using watch = new OTelRecorder(provider.getMeter('m'));
    recorder.dispose();
    limiter.allow();
    expect(seen).toEqual(['api', 'api']);
    const after = pointValue((await collect(reader)).get(MetricNames.RateLimitRejections), {
      'resilience.name': 'api',
    });
    expect(after).toBe(1);
    expect(watch).toBeInstanceOf(OTelRecorder);
  });

  it('refuses a policies option that is not a registry; a closed registry throws and gives back the instruments', () => {
    const { provider } = meters();
    const meter = provider.getMeter('m');
    expect(() => new OTelRecorder(meter, { policies: 5 as never })).toThrow(
      'OTelRecorder: policies must be a PolicyRegistry of @resilience/core (with attach()), got 5',
    );
    expect(() => new OTelRecorder({ policies: new PolicyRegistry() } as never)).toThrow(
      'OTelRecorder: meter must be an OpenTelemetry Meter (from meterProvider.getMeter()), got object (options come second: new OTelRecorder(meter, options), meter may be undefined)',
    );
    const policies = new PolicyRegistry();
    policies.close();
    expect(() => new OTelRecorder(meter, { policies, durations: false })).toThrow(
      'PolicyRegistry: the registry is closed',
    );
    // The failed recorder holds no share of the meter: a recorder with other options may take it.
    using ok = new OTelRecorder(meter, { durations: true });
    expect(ok).toBeInstanceOf(OTelRecorder);
  });
});

describe('tracePolicies', () => {
  it('traces every policy of the registry, before and after, until disposed', async () => {
    const { provider, exporter } = tracing();
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const breaker = policies.circuitBreaker('payments');
    const sub = tracePolicies(policies, provider.getTracer('t'));
    const retry = policies.retry('fetch', { maxAttempts: 2, initialDelay: 0 });
    await breaker.execute(() => 1);
    let attempt = 0;
    const done = retry.execute(() => {
      attempt++;
      if (attempt === 1) throw new Error('flaky');
      return 2;
    });
    await clock.runAll();
    await expect(done).resolves.toBe(2);
    expect(named(exporter, 'resilience.circuit_breaker')).toHaveLength(1);
    const attempts = named(exporter, 'resilience.retry.attempt');
    expect(attempts.map((s) => s.attributes['resilience.name'])).toEqual(['fetch', 'fetch']);
    expect(attempts.map((s) => s.status.code)).toEqual([2, 0]);
    sub.dispose();
    await breaker.execute(() => 1);
    expect(named(exporter, 'resilience.circuit_breaker')).toHaveLength(1);
  });

  it('keeps a policy’s own tracer: each gets its span, the same tracer once', async () => {
    const mine = tracing();
    const shared = tracing();
    const policies = new PolicyRegistry();
    const sharedTracer = shared.provider.getTracer('shared');
    const own = policies.timeout('own', { tracer: mine.provider.getTracer('mine'), defaultTimeout: 1_000 });
    const same = policies.timeout('same', { tracer: sharedTracer, defaultTimeout: 1_000 });
    using _ = tracePolicies(policies, sharedTracer);
    await own.execute(() => 1);
    await same.execute(() => 1);
    expect(named(mine.exporter, 'resilience.timeout').map((s) => s.attributes['resilience.name'])).toEqual(['own']);
    expect(named(shared.exporter, 'resilience.timeout').map((s) => s.attributes['resilience.name'])).toEqual([
      'own',
      'same',
    ]);
  });

  it('one span per call for a policy whose own resilienceTracer() and the attached one come from a provider not yet set up', async () => {
    // The global provider before the SDK starts: a ProxyTracerProvider, which makes a new tracer for each getTracer().
    const proxy = new ProxyTracerProvider();
    const policies = new PolicyRegistry();
    using _traced = tracePolicies(policies, resilienceTracer(proxy));
    const breaker = policies.circuitBreaker('payments', { tracer: resilienceTracer(proxy) });
    const { provider, exporter } = tracing();
    proxy.setDelegate(provider); // The SDK starts.
    await breaker.execute(() => 1);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['resilience.circuit_breaker']);
  });

  it('refuses bad arguments', () => {
    expect(() => tracePolicies(null as never)).toThrow(/tracePolicies: policies must be a PolicyRegistry/);
    expect(() => tracePolicies(new PolicyRegistry(), {} as never)).toThrow(/tracePolicies: tracer must be/);
  });
});

describe('Prometheus and OpenTelemetry on one registry (a migration)', () => {
  it('both receive everything; disposing one leaves the other counting', async () => {
    const { provider, reader } = meters();
    const registry = new Registry();
    const policies = new PolicyRegistry();
    const breaker = policies.circuitBreaker('payments', { readyToTrip: (c) => c.consecutiveFailures >= 1 });
    const prom = new PrometheusRecorder({ registry, policies });
    const otel = new OTelRecorder(provider.getMeter('m'), { policies });
    const retry = policies.retry('fetch', { maxAttempts: 1 });
    await expect(breaker.execute(fail)).rejects.toThrow('boom');
    await expect(breaker.execute(() => 1)).rejects.toThrow(/open/i);
    await retry.execute(() => 1);

    const found = await collect(reader);
    const calls = found.get(MetricNames.CircuitBreakerCalls);
    for (const outcome of ['failure', 'rejected']) {
      expect(await promValue(registry, 'resilience_circuit_breaker_calls_total', { name: 'payments', outcome })).toBe(
        1,
      );
      expect(pointValue(calls, { 'resilience.name': 'payments', 'resilience.outcome': outcome })).toBe(1);
    }
    expect(await promValue(registry, 'resilience_circuit_breaker_state', { name: 'payments', state: 'open' })).toBe(1);
    expect(await promValue(registry, 'resilience_retry_attempts_total', { name: 'fetch', outcome: 'success' })).toBe(1);
    expect(
      pointValue(found.get(MetricNames.RetryAttempts), { 'resilience.name': 'fetch', 'resilience.outcome': 'success' }),
    ).toBe(1);

    prom.dispose();
    await retry.execute(() => 1);
    expect(await promValue(registry, 'resilience_retry_attempts_total', { name: 'fetch', outcome: 'success' })).toBe(1);
    expect(
      pointValue((await collect(reader)).get(MetricNames.RetryAttempts), {
        'resilience.name': 'fetch',
        'resilience.outcome': 'success',
      }),
    ).toBe(2);
    otel.dispose();
  });
});
