import { BREAKER_CONFIG } from './breakers.js';
import { loadCockatiel, loadOpossum, withNewest } from './competitors.js';
import { fn, unavailable } from './fixtures.js';
import { ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Heap retained by one breaker instance (a service may hold one per downstream host or route). */
export const breakerHeap: ScenarioDef = {
  id: 'breaker-heap',
  title: 'Heap retained per breaker instance',
  kind: 'instance',
  config:
    `${BREAKER_CONFIG}; ours once with no settings (its defaults are this configuration) and once with a setting ` +
    'spelt out; instances kept in a preallocated array, full GC before and after',
  baselineLabel: 'none (absolute bytes per instance)',
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core CircuitBreaker',
      library: '@resilience/core',
      setup: async () => {
        const CircuitBreaker = await ours('CircuitBreaker');
        if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
        return { kind: 'instance', create: () => new CircuitBreaker({}) };
      },
    },
    {
      id: 'ours-configured',
      label: '@resilience/core CircuitBreaker, the same settings spelt out (`{ timeout: 60_000 }`)',
      library: '@resilience/core',
      setup: async () => {
        const CircuitBreaker = await ours('CircuitBreaker');
        if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
        return { kind: 'instance', create: () => new CircuitBreaker({ timeout: 60_000 }) };
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel circuitBreaker',
      library: 'cockatiel',
      setup: async () => {
        const { circuitBreaker, ConsecutiveBreaker, handleAll } = await loadCockatiel();
        return {
          kind: 'instance',
          create: () => circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(6) }),
        };
      },
    },
    {
      id: 'opossum',
      label: 'opossum',
      library: 'opossum',
      setup: async () => {
        const { default: CircuitBreaker } = await loadOpossum();
        return {
          kind: 'instance',
          create: () => new CircuitBreaker(fn, { resetTimeout: 60_000 }),
          // Its rolling window keeps an interval timer per instance; stop it between rounds.
          dispose: (instance) => (instance as InstanceType<typeof CircuitBreaker>).shutdown(),
        };
      },
    },
  ]),
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.25 },
    { subject: 'ours-configured', against: 'cockatiel', maxRatio: 0.25 },
  ],
};
