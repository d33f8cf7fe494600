import type { Prepared } from '../harness/types.js';
import { awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type Executable, loadCore } from './ours.js';
import type { ScenarioDef, SubjectDef } from './types.js';

/**
 * What the classification vocabulary costs on the success path: a pattern
 * built with `handle` (a classifier) against the same pattern built with the
 * older options that say the same thing, and with none. The classifier is
 * compiled into the older options' predicates at construction, so the first
 * two should cost the same.
 */

type Classify = 'handle' | 'older' | 'none';

/** `handle(TypeError).orResult((v) => v < 0)`, from the built core; `undefined` when the core has no classifier yet. */
async function transient(): Promise<unknown> {
  const core = await loadCore();
  const handle = core.handle as
    | ((...errors: unknown[]) => { orResult(p: (v: number) => boolean): unknown })
    | undefined;
  return typeof handle === 'function' ? handle(TypeError).orResult((v: number) => v < 0) : undefined;
}

async function build(name: 'CircuitBreaker' | 'Retry', classify: Classify): Promise<Prepared> {
  const core = await loadCore();
  const Pattern = core[name] as (new (config: Record<string, unknown>) => Executable) | undefined;
  if (typeof Pattern !== 'function')
    return unavailable(`@resilience/core has no ${name} export yet: not yet available`);
  let config: Record<string, unknown> = {};
  if (classify === 'handle') {
    const value = await transient();
    if (value === undefined) return unavailable('@resilience/core has no handle export yet: not yet available');
    config = { handle: value };
  } else if (classify === 'older') {
    config =
      name === 'CircuitBreaker'
        ? { isSuccessful: (e: unknown) => !(e instanceof TypeError), isFailureResult: (v: number) => v < 0 }
        : { retryableErrors: [TypeError], retryOnResult: (v: number) => v < 0 };
  }
  const instance = new Pattern(config);
  return prepared({ run: () => instance.execute(fn) });
}

function subjects(name: 'CircuitBreaker' | 'Retry', older: string): SubjectDef[] {
  return [
    {
      id: 'handle',
      label: `${name} { handle: handle(TypeError).orResult((v) => v < 0) }`,
      library: '@resilience/core',
      setup: () => build(name, 'handle'),
    },
    { id: 'older', label: `${name} { ${older} }`, library: '@resilience/core', setup: () => build(name, 'older') },
    { id: 'none', label: `${name}, no classification`, library: '@resilience/core', setup: () => build(name, 'none') },
  ];
}

/** A closed breaker that classifies, with `handle` and with the older options. */
export const breakerClassified: ScenarioDef = {
  id: 'breaker-classified',
  title: 'Circuit breaker, closed, classifying with handle or the older options',
  kind: 'latency',
  config:
    'default breaker; "a TypeError or a negative result is a failure", said with handle and with the older options',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: subjects('CircuitBreaker', 'isSuccessful, isFailureResult'),
  targets: [],
};

/** A retry whose first attempt succeeds and that classifies, with `handle` and with the older options. */
export const retryClassified: ScenarioDef = {
  id: 'retry-classified',
  title: 'Retry, first attempt succeeds, classifying with handle or the older options',
  kind: 'latency',
  config: 'default retry; "retry a TypeError or a negative result", said with handle and with the older options',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: subjects('Retry', 'retryableErrors, retryOnResult'),
  targets: [],
};
