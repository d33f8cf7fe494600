import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Bulkhead, CircuitBreaker, RateLimiter, Retry, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricsHandler, PrometheusRecorder } from '../src/index.js';
import { binary } from './binaries.js';

const promtool = binary('promtool');
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync(promtool as string, args, { cwd: packageDir, input, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The exposition text of `/metrics` after real patterns have done some of everything. */
async function scrape(): Promise<string> {
  const registry = new Registry();
  const metrics = new PrometheusRecorder({ registry });
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({
    name: 'payments',
    metrics,
    clock,
    readyToTrip: (c) => c.consecutiveFailures >= 1,
  });
  await breaker.execute(() => 'ok');
  await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  await breaker.execute(() => 'rejected').catch(() => {});
  const retry = new Retry({ name: 'fetch', metrics, clock, maxAttempts: 1 });
  await retry.execute(() => Promise.reject(new Error('once'))).catch(() => {});
  const limiter = new RateLimiter({ name: 'api', metrics, clock, rate: 1 });
  limiter.allow();
  limiter.allow();
  const timeout = new Timeout({ name: 'db', metrics, clock, defaultTimeout: 10 });
  const late = timeout.execute(() => new Promise(() => {})).catch(() => {});
  await clock.advance(10);
  await late;
  const bulkhead = new Bulkhead({ name: 'pool', metrics, clock, maxConcurrent: 2 });
  await bulkhead.execute(() => 'done');

  const server = http.createServer(metricsHandler(registry));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    return await res.text();
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe.skipIf(promtool === undefined)('promtool', () => {
  it('check metrics: the exposition text passes, lint included', async () => {
    const text = await scrape();
    for (const name of [
      'resilience_circuit_breaker_state',
      'resilience_circuit_breaker_calls_total',
      'resilience_retry_attempts_total',
      'resilience_rate_limit_rejections_total',
      'resilience_bulkhead_active',
      'resilience_bulkhead_queued',
      'resilience_timeouts_total',
      'resilience_call_duration_seconds_bucket',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}\\{[^}]*name="[a-z]+"`, 'm'));
    }
    const result = run(['check', 'metrics'], text);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('check metrics catches a broken exposition (the check is real)', () => {
    const result = run(['check', 'metrics'], '# TYPE x counter\nx{name="a" 1\n');
    expect(result.status).not.toBe(0);
  });

  it('check rules: the rules file is valid', () => {
    const result = run(['check', 'rules', 'rules/resilience.rules.yml']);
    expect(result.output).toContain('SUCCESS: 13 rules found');
    expect(result.status).toBe(0);
  });

  it('test rules: the alerts fire when they should and not before', () => {
    const result = run(['test', 'rules', 'test/rules/resilience.rules.test.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
