import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe.skipIf(promtool === undefined)('the dashboard state panel, evaluated by promtool', () => {
  const dashboard = JSON.parse(readFileSync(join(packageDir, 'dashboards/resilience.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const panel = dashboard.panels.find((p) => p.title === 'Circuit breaker state');
  // Grafana's "All" for the name variable.
  const expr = (panel?.targets[0]?.expr ?? '').replaceAll('$name', '.*');

  type State = 'closed' | 'open' | 'half-open';

  /** Runs the panel's query on instances of breaker `p` in `states`, expecting `expected`. */
  function stateOf(states: State[], expected: number): { status: number | null; output: string } {
    const series = states.flatMap((current, i) =>
      (['closed', 'open', 'half-open'] as const).map(
        (state) =>
          `      - series: 'resilience_circuit_breaker_state{job="svc",instance="${i}",name="p",state="${state}"}'\n` +
          `        values: '${state === current ? 1 : 0}x3'`,
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'resilience-dashboard-'));
    try {
      const file = join(dir, 'state.test.yml');
      writeFileSync(
        file,
        [
          'rule_files: []',
          'tests:',
          '  - interval: 1m',
          '    input_series:',
          ...series,
          '    promql_expr_test:',
          `      - expr: ${JSON.stringify(expr)}`,
          '        eval_time: 2m',
          '        exp_samples:',
          `          - labels: '{name="p"}'`,
          `            value: ${expected}`,
          '',
        ].join('\n'),
      );
      return run(['test', 'rules', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('maps every mix of instance states to a value the panel colours: 0 closed, 1 half-open, 2 open', () => {
    expect(expr).toContain('resilience_circuit_breaker_state');
    // Each row: the states of the instances, and the worst of them, as the panel must show it.
    const cases: [State[], number][] = [
      [['closed'], 0],
      [['half-open'], 1],
      [['open'], 2],
      [['closed', 'half-open'], 1],
      [['closed', 'open'], 2],
      // One instance open and another half-open: the worst is open (it used to add up to 3, which no mapping named).
      [['open', 'half-open'], 2],
      [['half-open', 'open', 'closed'], 2],
    ];
    for (const [instances, expected] of cases) {
      const result = stateOf(instances, expected);
      expect(result.output, JSON.stringify(instances)).toContain('SUCCESS');
      expect(result.status).toBe(0);
    }
  });

  it('is a real check: a wrong expectation fails', () => {
    expect(stateOf(['open'], 1).status).not.toBe(0);
  });
});
