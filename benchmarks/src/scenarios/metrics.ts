import type { Prepared } from '../harness/types.js';
import { BREAKER_CONFIG, breakerOp, ourBreaker } from './breakers.js';
import { awaitFn, fn, unavailable } from './fixtures.js';
import { type Executable, importOurs, ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Our breaker reporting to a `PrometheusRecorder` on its own prom-client registry. */
async function breakerWithRecorder(): Promise<Prepared> {
  const CircuitBreaker = await ours('CircuitBreaker');
  if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
  const adapter = await importOurs('@resilience/metrics-prometheus').catch(() => undefined);
  const PrometheusRecorder = adapter?.PrometheusRecorder as (new (options: object) => object) | undefined;
  if (typeof PrometheusRecorder !== 'function') {
    return unavailable('@resilience/metrics-prometheus has no PrometheusRecorder export yet: not yet available');
  }
  const { Registry } = await import('prom-client');
  const metrics = new PrometheusRecorder({ registry: new Registry() });
  const breaker: Executable = new CircuitBreaker({ name: 'bench', metrics });
  return { kind: 'op', op: { run: () => breaker.execute(fn) } };
}

/**
 * What the Prometheus recorder adds to a closed breaker's call: a counter
 * increment for the outcome, a clock read and a histogram observation for the
 * duration, through label children resolved once.
 */
export const breakerMetrics: ScenarioDef = {
  id: 'breaker-metrics',
  title: 'Circuit breaker, closed, with a Prometheus recorder',
  kind: 'latency',
  config: `${BREAKER_CONFIG}; with \`metrics: new PrometheusRecorder({ registry })\` (prom-client 15) and without`,
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: [
    {
      id: 'ours',
      label: '@resilience/core CircuitBreaker + PrometheusRecorder',
      library: '@resilience/metrics-prometheus',
      setup: breakerWithRecorder,
    },
    {
      id: 'ours-no-metrics',
      label: '@resilience/core CircuitBreaker, no recorder',
      library: '@resilience/core',
      setup: () => breakerOp(ourBreaker),
    },
  ],
  targets: [],
};
