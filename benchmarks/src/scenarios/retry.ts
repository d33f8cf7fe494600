import type { RetryPolicy } from 'cockatiel';
import { loadCockatiel, withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, prepared, UNDER_ONE_ASYNC_LAYER, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/** The retry configuration shared by every library, in words. */
export const RETRY_CONFIG: string =
  '3 attempts in all (cockatiel `maxAttempts: 2` retries, p-retry `retries: 2`), exponential backoff from 100 ms, ' +
  'factor 2, at most 30 s; every error retryable';

/** Our `Retry` with the shared configuration. */
export async function ourRetry(): Promise<Executable | string> {
  const Retry = await ours('Retry');
  if (typeof Retry === 'string') return Retry;
  return new Retry({ maxAttempts: 3, initialDelay: 100, maxDelay: 30_000, multiplier: 2, backoff: 'exponential' });
}

/** cockatiel's `retry` with the shared configuration. */
export async function cockatielRetry(): Promise<RetryPolicy> {
  const { ExponentialBackoff, handleAll, retry } = await loadCockatiel();
  return retry(handleAll, {
    maxAttempts: 2,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 30_000, exponent: 2 }),
  });
}

/** A retry whose first attempt succeeds: the cost of being ready to retry. */
export const retryFirstAttempt: ScenarioDef = {
  id: 'retry-first-attempt',
  title: 'Retry, first attempt succeeds',
  kind: 'latency',
  config: RETRY_CONFIG,
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core Retry',
      library: '@resilience/core',
      setup: async () => {
        const retry = await ourRetry();
        return typeof retry === 'string' ? unavailable(retry) : prepared({ run: () => retry.execute(fn) });
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel retry',
      library: 'cockatiel',
      setup: async () => {
        const retry = await cockatielRetry();
        return prepared({ run: () => retry.execute(fn) });
      },
    },
    {
      id: 'p-retry',
      label: 'p-retry',
      library: 'p-retry',
      setup: async () => {
        const { default: pRetry } = await import('p-retry');
        const options = { retries: 2, minTimeout: 100, maxTimeout: 30_000, factor: 2 };
        return prepared({ run: () => pRetry(fn, options) });
      },
    },
  ]).concat(ASYNC_LAYER),
  targets: [UNDER_ONE_ASYNC_LAYER, { subject: 'ours', against: 'cockatiel', maxRatio: 0.5 }],
};
