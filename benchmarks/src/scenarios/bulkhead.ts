import { loadCockatiel, withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, prepared, UNDER_ONE_ASYNC_LAYER, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Our `Bulkhead(10, 100)`. */
export async function ourBulkhead(): Promise<Executable | string> {
  const Bulkhead = await ours('Bulkhead');
  return typeof Bulkhead === 'string' ? Bulkhead : new Bulkhead({ maxConcurrent: 10, maxQueue: 100 });
}

/** A bulkhead that is never full: the cost of counting. */
export const bulkheadUncontended: ScenarioDef = {
  id: 'bulkhead-uncontended',
  title: 'Bulkhead (10 concurrent, queue 100), uncontended',
  kind: 'latency',
  config: 'at most 10 at once, 100 queued (p-limit has no queue bound: `pLimit(10)`); one call at a time',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core Bulkhead',
      library: '@resilience/core',
      setup: async () => {
        const b = await ourBulkhead();
        return typeof b === 'string' ? unavailable(b) : prepared({ run: () => b.execute(fn) });
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel bulkhead',
      library: 'cockatiel',
      setup: async () => {
        const { bulkhead } = await loadCockatiel();
        const b = bulkhead(10, 100);
        return prepared({ run: () => b.execute(fn) });
      },
    },
    {
      id: 'p-limit',
      label: 'p-limit',
      library: 'p-limit',
      setup: async () => {
        const { default: pLimit } = await import('p-limit');
        const limit = pLimit(10);
        return prepared({ run: () => limit(fn) });
      },
    },
  ]).concat(ASYNC_LAYER),
  targets: [UNDER_ONE_ASYNC_LAYER],
};
