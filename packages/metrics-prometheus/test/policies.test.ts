import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MetricsRecorder, PolicyRegistry } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsHandler, PrometheusRecorder } from '../src/index.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** Serves `registry` with `metricsHandler` on a real port; returns a function that scrapes it. */
async function scraper(registry: Registry): Promise<() => Promise<string>> {
  const server = http.createServer(metricsHandler(registry));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return res.text();
  };
}

/** The value of the series `line` (metric name with labels, as exposed) in a scrape, or `undefined`. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const fail = (): never => {
  throw new Error('boom');
};

describe('PrometheusRecorder({ policies })', () => {
  it('records every policy of the registry, created before and after, as a real scrape shows', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const clock = new FakeClock();
    const policies = new PolicyRegistry({ clock });
    const before = policies.circuitBreaker('payments', { readyToTrip: (c) => c.consecutiveFailures >= 2 });
    const recorder = new PrometheusRecorder({ registry, policies });
    const retry = policies.retry('fetch', { maxAttempts: 2, initialDelay: 0 });
    const limiter = policies.rateLimiter('api', { rate: 1 });
    const bulkhead = policies.bulkhead('pool', { maxConcurrent: 1 });
    const timeout = policies.timeout('db', { defaultTimeout: 10 });

    await before.execute(() => 1);
    await expect(before.execute(fail)).rejects.toThrow('boom');
    await expect(before.execute(fail)).rejects.toThrow('boom');
    await expect(before.execute(() => 1)).rejects.toThrow(/open/i);
    let attempts = 0;
    const retried = retry.execute(() => {
      attempts++;
      if (attempts === 1) throw new Error('flaky');
      return 'ok';
    });
    await clock.runAll();
    await expect(retried).resolves.toBe('ok');
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
    await expect(limiter.execute(() => 1)).rejects.toThrow(/rate limit/i);
    let release = (): void => undefined;
    const held = bulkhead.execute(() => new Promise<void>((r) => (release = r)));
    await expect(bulkhead.execute(() => 1)).rejects.toThrow(/bulkhead/i);
    const slow = expect(timeout.execute(() => new Promise(() => undefined))).rejects.toThrow(/timed out|timeout/i);
    await clock.advance(10);
    await slow;

    const body = await scrape();
    expect(sample(body, 'resilience_circuit_breaker_state{name="payments",state="open"}')).toBe(1);
    expect(sample(body, 'resilience_circuit_breaker_state{name="payments",state="closed"}')).toBe(0);
    expect(sample(body, 'resilience_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(1);
    expect(sample(body, 'resilience_circuit_breaker_calls_total{name="payments",outcome="failure"}')).toBe(2);
    expect(sample(body, 'resilience_circuit_breaker_calls_total{name="payments",outcome="rejected"}')).toBe(1);
    expect(sample(body, 'resilience_retry_attempts_total{name="fetch",outcome="failure"}')).toBe(1);
    expect(sample(body, 'resilience_retry_attempts_total{name="fetch",outcome="success"}')).toBe(1);
    expect(sample(body, 'resilience_rate_limit_rejections_total{name="api"}')).toBe(2);
    expect(sample(body, 'resilience_bulkhead_active{name="pool"}')).toBe(1);
    expect(sample(body, 'resilience_timeouts_total{name="db"}')).toBe(1);
    release();
    await held;
    recorder.dispose();
  });

  it('counts once a policy that also has the recorder in its own config, and keeps its other recorder', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    const recorder = new PrometheusRecorder({ registry, policies });
    const seen: string[] = [];
    const own = { recordTimeout: (name: string) => void seen.push(name) } as unknown as MetricsRecorder;
    const twice = policies.timeout('twice', { metrics: recorder, defaultTimeout: 1 });
    const mine = policies.timeout('mine', { metrics: own, defaultTimeout: 1 });
    await expect(twice.execute(() => new Promise(() => undefined))).rejects.toThrow();
    await expect(mine.execute(() => new Promise(() => undefined))).rejects.toThrow();
    const body = await scrape();
    expect(sample(body, 'resilience_timeouts_total{name="twice"}')).toBe(1);
    expect(sample(body, 'resilience_timeouts_total{name="mine"}')).toBe(1);
    expect(seen).toEqual(['mine']);
  });

  it('dispose() stops counting the registry’s policies, keeps the values, and removes only itself', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    const other: string[] = [];
    policies.attach({
      metrics: { recordRateLimitHit: (n: string) => void other.push(n) } as unknown as MetricsRecorder,
    });
    const recorder = new PrometheusRecorder({ registry, policies });
    const limiter = policies.rateLimiter('api', { rate: 1 });
    limiter.allow();
    limiter.allow();
    recorder.dispose();
    recorder.dispose();
    limiter.allow();
    policies.rateLimiter('later', { rate: 1 }).allow();
    expect(sample(await scrape(), 'resilience_rate_limit_rejections_total{name="api"}')).toBe(1);
    expect(other).toEqual(['api', 'api']);
  });

  it('refuses a policies option that is not a registry, and a closed registry', () => {
    const registry = new Registry();
    expect(() => new PrometheusRecorder({ registry, policies: {} as never })).toThrow(
      'PrometheusRecorder: policies must be a PolicyRegistry of @resilience/core (with attach()), got an object',
    );
    const policies = new PolicyRegistry();
    policies.close();
    expect(() => new PrometheusRecorder({ registry, policies })).toThrow('PolicyRegistry: the registry is closed');
  });

  it('a registry closed after attaching: dispose() is harmless and the policies held by code keep reporting', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    const recorder = new PrometheusRecorder({ registry, policies });
    const limiter = policies.rateLimiter('api', { rate: 1 });
    policies.close();
    limiter.allow();
    limiter.allow();
    expect(() => recorder.dispose()).not.toThrow();
    expect(sample(await scrape(), 'resilience_rate_limit_rejections_total{name="api"}')).toBe(1);
  });

  it('an adaptive bulkhead already in the registry shows its limit and load at once when the recorder attaches', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    policies.adaptiveBulkhead('db', { initialLimit: 7, minLimit: 1, maxLimit: 50 });
    using _recorder = new PrometheusRecorder({ registry, policies });
    const body = await scrape();
    expect(sample(body, 'resilience_adaptive_bulkhead_limit{name="db"}')).toBe(7);
    expect(sample(body, 'resilience_bulkhead_active{name="db"}')).toBe(0);
  });
  it('counts a call once when a policy has its own recorder on the same prom-client registry as the attached one', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    // A module that still builds its breaker with a recorder of its own, and the app that attaches one for all.
    const own = new PrometheusRecorder({ registry });
    using _all = new PrometheusRecorder({ registry, policies });
    const breaker = policies.circuitBreaker('payments', { metrics: own });
    await breaker.execute(() => 1);
    expect(sample(await scrape(), 'resilience_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(1);
  });

  it('counts a call once when two recorders on the same prom-client registry attach to the same policies', async () => {
    const registry = new Registry();
    const scrape = await scraper(registry);
    const policies = new PolicyRegistry();
    const first = new PrometheusRecorder({ registry, policies });
    using _second = new PrometheusRecorder({ registry, policies });
    const breaker = policies.circuitBreaker('payments');
    await breaker.execute(() => 1);
    expect(sample(await scrape(), 'resilience_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(1);
    // Either one disposed, the other still records.
    first.dispose();
    await breaker.execute(() => 1);
    expect(sample(await scrape(), 'resilience_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(2);
    // Recorders with another prefix write other series: both record.
    using _other = new PrometheusRecorder({ registry, policies, prefix: 'other_' });
    await breaker.execute(() => 1);
    const body = await scrape();
    expect(sample(body, 'resilience_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(3);
    expect(sample(body, 'other_circuit_breaker_calls_total{name="payments",outcome="success"}')).toBe(1);
  });
});
