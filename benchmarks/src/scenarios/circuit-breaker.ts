import { BREAKER_CONFIG, breakerOp, cockatielBreaker, opossumBreaker, ourBreaker } from './breakers.js';
import { withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, inFlight, prepared, UNDER_ONE_ASYNC_LAYER } from './fixtures.js';
import type { ScenarioDef, SubjectDef } from './types.js';

const subjects = (wrap?: Parameters<typeof breakerOp>[1]): SubjectDef[] =>
  withNewest([
    {
      id: 'ours',
      label: '@resilience/core CircuitBreaker',
      library: '@resilience/core',
      setup: () => breakerOp(ourBreaker, wrap),
    },
    {
      id: 'cockatiel',
      label: 'cockatiel circuitBreaker',
      library: 'cockatiel',
      setup: () => breakerOp(cockatielBreaker, wrap),
    },
    {
      id: 'opossum-no-timeout',
      label: 'opossum (timeout: false)',
      library: 'opossum',
      setup: () => breakerOp(opossumBreaker(false), wrap),
    },
    {
      id: 'opossum',
      label: 'opossum (default 10 s timeout)',
      library: 'opossum',
      setup: () => breakerOp(opossumBreaker(true), wrap),
    },
  ]);

/** A closed breaker around `fn`: the cost every call pays when nothing is wrong. */
export const breakerClosed: ScenarioDef = {
  id: 'breaker-closed',
  title: 'Circuit breaker, closed fast path',
  kind: 'latency',
  config: BREAKER_CONFIG,
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: [...subjects(), ASYNC_LAYER],
  targets: [
    UNDER_ONE_ASYNC_LAYER,
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.5 },
    { subject: 'ours', against: 'opossum-no-timeout', maxRatio: 0.2 },
    { subject: 'ours', against: 'opossum', maxRatio: 0.2 },
  ],
};

/** 1,000 calls started before any is awaited, through one closed breaker. */
export const breakerThroughput: ScenarioDef = {
  id: 'breaker-throughput',
  title: 'Throughput, 1,000 calls in flight through a breaker',
  kind: 'throughput',
  config: `${BREAKER_CONFIG}; each run starts 1,000 calls, then awaits them all with Promise.all`,
  baselineLabel: '1,000 × fn() in flight, then Promise.all',
  baseline: () => inFlight(fn),
  subjects: subjects((call) => prepared(inFlight(call))),
  targets: [],
};
