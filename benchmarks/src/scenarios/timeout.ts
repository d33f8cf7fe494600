import type { TimeoutPolicy } from 'cockatiel';
import { loadCockatiel, withNewest } from './competitors.js';
import { awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Our `Timeout` of 1,000 ms. */
export async function ourTimeout(): Promise<Executable | string> {
  const Timeout = await ours('Timeout');
  return typeof Timeout === 'string' ? Timeout : new Timeout({ defaultTimeout: 1000 });
}

/** cockatiel's aggressive `timeout` of 1,000 ms (rejects at once even when `fn` ignores the signal, as ours does). */
export async function cockatielTimeout(abortOnReturn: boolean): Promise<TimeoutPolicy> {
  const { TimeoutStrategy, timeout } = await loadCockatiel();
  return timeout(1000, { strategy: TimeoutStrategy.Aggressive, abortOnReturn });
}

/** A 1,000 ms timeout around work that finishes in time. */
export const timeoutInTime: ScenarioDef = {
  id: 'timeout-in-time',
  title: 'Timeout 1,000 ms, fn finishes in time',
  kind: 'latency',
  config:
    '1,000 ms; the call rejects at once when time is up even if fn ignores its signal (cockatiel `TimeoutStrategy.Aggressive`)',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core Timeout',
      library: '@resilience/core',
      setup: async () => {
        const t = await ourTimeout();
        return typeof t === 'string' ? unavailable(t) : prepared({ run: () => t.execute(fn) });
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel timeout (default: aborts its signal on return)',
      library: 'cockatiel',
      setup: async () => {
        const t = await cockatielTimeout(true);
        return prepared({ run: () => t.execute(fn) });
      },
    },
    {
      id: 'cockatiel-no-abort',
      label: 'cockatiel timeout (abortOnReturn: false)',
      library: 'cockatiel',
      setup: async () => {
        const t = await cockatielTimeout(false);
        return prepared({ run: () => t.execute(fn) });
      },
    },
  ]),
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.1 },
    { subject: 'ours', against: 'cockatiel-no-abort', maxRatio: 0.1 },
  ],
};
