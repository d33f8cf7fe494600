import type { IPolicy } from 'cockatiel';
import { ourBreaker } from './breakers.js';
import { ourBulkhead } from './bulkhead.js';
import { loadCockatiel, withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type CoreModule, type Executable, loadCore } from './ours.js';
import { cockatielRetry, ourRetry } from './retry.js';
import { ourTimeout } from './timeout.js';
import type { ScenarioDef, SubjectDef } from './types.js';

type Handler = (ctx: object) => Promise<number>;
type Middleware = (next: Handler) => Handler;

/** Our four patterns with the configurations of the single-pattern scenarios, outermost first. */
async function ourFour(): Promise<Executable[] | string> {
  const breaker = await ourBreaker();
  if (typeof breaker === 'string') return breaker;
  const parts = [await ourTimeout(), await ourRetry(), breaker.instance as Executable, await ourBulkhead()];
  const missing = parts.find((part): part is string => typeof part === 'string');
  return missing ?? (parts as Executable[]);
}

/** Our pipeline builder: `compose(timeout, retry, breaker, bulkhead)`. */
async function ourPipeline(core: CoreModule, four: Executable[]): Promise<Executable | string> {
  const compose = core.compose;
  if (typeof compose !== 'function') return '@resilience/core has no compose export yet: not yet available';
  return (compose as (...policies: Executable[]) => Executable)(...four);
}

/** cockatiel's four policies with the same configurations, outermost first. */
async function cockatielWrap(): Promise<IPolicy> {
  const { bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, TimeoutStrategy, timeout, wrap } =
    await loadCockatiel();
  return wrap(
    timeout(1000, TimeoutStrategy.Aggressive),
    await cockatielRetry(),
    circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(6) }),
    bulkhead(10, 100),
  );
}

/** Timeout, retry, breaker and bulkhead in one call. */
/** The ids of the four steps measured alone, outermost first. */
const STEP_IDS = ['step-timeout', 'step-retry', 'step-breaker', 'step-bulkhead'] as const;

/** Each step of the pipeline alone around `fn`, measured in the same run as the pipeline (for the sum target). */
function steps(): SubjectDef[] {
  const names = ['Timeout', 'Retry', 'CircuitBreaker', 'Bulkhead'];
  return STEP_IDS.map((id, i) => ({
    id,
    label: `step alone: @resilience/core ${names[i]}`,
    library: '@resilience/core',
    setup: async () => {
      const four = await ourFour();
      if (typeof four === 'string') return unavailable(four);
      const step = four[i] as Executable;
      return prepared({ run: () => step.execute(fn) });
    },
  }));
}

/** What nesting alone costs: four async layers, each awaiting the next (compare with four times one layer). */
const ASYNC_LAYERS_4: SubjectDef = {
  id: 'async-layers-4',
  label: 'four extra async layers, nested',
  library: 'node',
  setup: async () => {
    const layer = async (f: () => Promise<number>): Promise<number> => await f();
    return prepared({ run: () => layer(() => layer(() => layer(() => layer(fn)))) });
  },
};

/** One `then` layer: how our patterns wait for the work (a `then` on its promise, no async frame). */
const THEN_LAYER: SubjectDef = {
  id: 'then-layer',
  label: 'one `then` layer, `fn().then(pass)`',
  library: 'node',
  setup: async () => {
    const pass = (v: number): number => v;
    return prepared({ run: () => fn().then(pass) });
  },
};

/** Four `then` layers, each around the next one's promise: the nesting floor of four patterns that wait by `then`. */
const THEN_LAYERS_4: SubjectDef = {
  id: 'then-layers-4',
  label: 'four `then` layers, nested',
  library: 'node',
  setup: async () => {
    const pass = (v: number): number => v;
    const layer = (f: () => Promise<number>): Promise<number> => f().then(pass);
    return prepared({ run: () => layer(() => layer(() => layer(() => layer(fn)))) });
  },
};

export const composed: ScenarioDef = {
  id: 'composed',
  title: 'Composed timeout + retry + breaker + bulkhead',
  kind: 'latency',
  config:
    'outermost first: timeout 1,000 ms (aggressive), retry 3 attempts exponential from 100 ms, breaker (6 consecutive ' +
    'failures, 60 s), bulkhead(10, 100); the configurations of the single-pattern scenarios. A `chain` handler needs ' +
    'a context, so that row passes one with a caller `AbortSignal`; the last cockatiel row gets the same signal',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core compose(…)',
      library: '@resilience/core',
      setup: async () => {
        const four = await ourFour();
        if (typeof four === 'string') return unavailable(four);
        const pipeline = await ourPipeline(await loadCore(), four);
        return typeof pipeline === 'string' ? unavailable(pipeline) : prepared({ run: () => pipeline.execute(fn) });
      },
    },
    {
      id: 'ours-chain',
      label: '@resilience/core chain(asMiddleware(…)), with a caller signal',
      library: '@resilience/core',
      setup: async () => {
        const four = await ourFour();
        if (typeof four === 'string') return unavailable(four);
        const core = await loadCore();
        const chain = core.chain as (...m: Middleware[]) => Middleware;
        const asMiddleware = core.asMiddleware as (policy: Executable) => Middleware;
        const handler = chain(...four.map((policy) => asMiddleware(policy)))(fn);
        const ctx = { signal: new AbortController().signal, attempt: 1 };
        return prepared({ run: () => handler(ctx) });
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel wrap(…)',
      library: 'cockatiel',
      setup: async () => {
        const policy = await cockatielWrap();
        return prepared({ run: () => policy.execute(fn) });
      },
    },
    {
      id: 'cockatiel-signal',
      label: 'cockatiel wrap(…), with a caller signal (as the chain row gets)',
      library: 'cockatiel',
      setup: async () => {
        const policy = await cockatielWrap();
        const signal = new AbortController().signal;
        return prepared({ run: () => policy.execute(fn, signal) });
      },
    },
  ]).concat(steps(), ASYNC_LAYER, ASYNC_LAYERS_4, THEN_LAYER, THEN_LAYERS_4),
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.1 },
    { kind: 'sum', subject: 'ours', parts: STEP_IDS },
  ],
};
