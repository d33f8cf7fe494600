import type { IPolicy } from 'cockatiel';
import { ourBreaker } from './breakers.js';
import { ourBulkhead } from './bulkhead.js';
import { loadCockatiel, withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, IN_FLIGHT, inFlight, prepared, unavailable } from './fixtures.js';
import { type CoreModule, type Executable, loadCore, ours } from './ours.js';
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

/** {@link ourFour} with a bulkhead that admits every call in flight at once (the throughput scenario). */
async function ourFourWide(): Promise<Executable[] | string> {
  const four = await ourFour();
  const Bulkhead = await ours('Bulkhead');
  if (typeof four === 'string') return four;
  if (typeof Bulkhead === 'string') return Bulkhead;
  return [...four.slice(0, 3), new Bulkhead({ maxConcurrent: IN_FLIGHT, maxQueue: 100 })];
}

/** Our pipeline builder: `compose(timeout, retry, breaker, bulkhead)`. */
async function ourPipeline(core: CoreModule, four: Executable[]): Promise<Executable | string> {
  const compose = core.compose;
  if (typeof compose !== 'function') return '@resilience/core has no compose export yet: not yet available';
  return (compose as (...policies: Executable[]) => Executable)(...four);
}

/** cockatiel's four policies with the same configurations, outermost first. */
async function cockatielWrap(maxConcurrent = 10): Promise<IPolicy> {
  const { bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, TimeoutStrategy, timeout, wrap } =
    await loadCockatiel();
  return wrap(
    timeout(1000, TimeoutStrategy.Aggressive),
    await cockatielRetry(),
    circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(6) }),
    bulkhead(maxConcurrent, 100),
  );
}

/** The ids of the four steps measured alone, outermost first. */
const STEP_IDS = ['step-timeout', 'step-retry', 'step-breaker', 'step-bulkhead'] as const;

/** The steps as they run inside the pipeline: the inner three get the outer Timeout's context. */
const IN_PIPELINE_IDS = ['step-timeout', 'step-retry-in', 'step-breaker-in', 'step-bulkhead-in'] as const;

const NAMES = ['Timeout', 'Retry', 'CircuitBreaker', 'Bulkhead'];

/** Each step of the pipeline alone around `fn`, measured in the same run as the pipeline (for the sum target). */
function steps(): SubjectDef[] {
  return STEP_IDS.map((id, i) => ({
    id,
    label: `step alone: @resilience/core ${NAMES[i]}`,
    library: '@resilience/core',
    setup: async () => {
      const four = await ourFour();
      if (typeof four === 'string') return unavailable(four);
      const step = four[i] as Executable;
      return prepared({ run: () => step.execute(fn) });
    },
  }));
}

/**
 * The context a Timeout hands its work, taken from a call that ended in time: never aborted, so
 * it can be passed again and again, as the pipeline's Timeout passes its own to the steps inside.
 */
async function timeoutContext(): Promise<object | string> {
  const timeout = await ourTimeout();
  if (typeof timeout === 'string') return timeout;
  let ctx: object | undefined;
  await timeout.execute(((c: object) => {
    ctx = c;
    return fn();
  }) as () => Promise<number>);
  return ctx ?? 'the Timeout did not call its work';
}

/**
 * The three inner steps alone as they run inside the pipeline: with the Timeout's context, which
 * can abort while the work runs, so the breaker watches it (a call it aborts is a cancellation,
 * not a failure) and every step asks it "aborted?".
 */
function stepsInPipeline(): SubjectDef[] {
  return IN_PIPELINE_IDS.slice(1).map((id, j) => ({
    id,
    label: `step as in the pipeline: @resilience/core ${NAMES[j + 1]} given a Timeout’s context`,
    library: '@resilience/core',
    setup: async () => {
      const four = await ourFour();
      if (typeof four === 'string') return unavailable(four);
      const ctx = await timeoutContext();
      if (typeof ctx === 'string') return unavailable(ctx);
      const step = four[j + 1] as Executable & { execute(f: typeof fn, options: object): Promise<unknown> };
      return prepared({ run: () => step.execute(fn, ctx) });
    },
  }));
}

/**
 * The floor of composing these four instances: nested by hand with callbacks made once (possible only for one fixed
 * `fn`), so nothing is made per call and every call site sees one target. What the pipeline costs over its steps
 * beyond this row is the pipeline's own; up to this row it is what nesting the four steps costs.
 */
const NESTED_BY_HAND: SubjectDef = {
  id: 'nested-by-hand',
  label: 'floor: the four steps nested by hand, callbacks made once',
  library: '@resilience/core',
  component: true,
  setup: async () => {
    const four = await ourFour();
    if (typeof four === 'string') return unavailable(four);
    type Step = (ctx?: object) => Promise<unknown>;
    type Nesting = { execute(work: Step, options?: object): Promise<unknown> };
    const [timeout, retry, breaker, bulkhead] = four as unknown as [Nesting, Nesting, Nesting, Nesting];
    const inBulkhead: Step = (ctx) => bulkhead.execute(fn, ctx);
    const inBreaker: Step = (ctx) => breaker.execute(inBulkhead, ctx);
    const inRetry: Step = (ctx) => retry.execute(inBreaker, ctx);
    return prepared({ run: () => timeout.execute(inRetry) });
  },
};

/**
 * One boundary between two steps: two bulkheads composed, against two times one bulkhead alone.
 * Each step calls the next (a call the optimizer does not inline: the steps are too large) and
 * waits on a promise that is still pending, where a step alone waits on `fn`'s, settled already.
 */
const BULKHEAD_PAIR: SubjectDef = {
  id: 'bulkhead-pair',
  label: 'one boundary: compose(Bulkhead, Bulkhead)',
  library: '@resilience/core',
  component: true,
  setup: async () => {
    const [first, second] = [await ourBulkhead(), await ourBulkhead()];
    if (typeof first === 'string') return unavailable(first);
    if (typeof second === 'string') return unavailable(second);
    const pair = await ourPipeline(await loadCore(), [first, second]);
    return typeof pair === 'string' ? unavailable(pair) : prepared({ run: () => pair.execute(fn) });
  },
};

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
  ]).concat(
    steps(),
    stepsInPipeline(),
    NESTED_BY_HAND,
    BULKHEAD_PAIR,
    ASYNC_LAYER,
    ASYNC_LAYERS_4,
    THEN_LAYER,
    THEN_LAYERS_4,
  ),
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.1 },
    { kind: 'sum', subject: 'ours', parts: STEP_IDS },
    { kind: 'sum', subject: 'ours', parts: IN_PIPELINE_IDS },
  ],
};

/** The composed call under load: 1,000 calls in flight, so what each call allocates is paid in GC too. */
export const composedThroughput: ScenarioDef = {
  id: 'composed-throughput',
  title: 'Throughput, 1,000 calls in flight through timeout + retry + breaker + bulkhead',
  kind: 'throughput',
  config:
    'the composed scenario’s four patterns, but a bulkhead that admits 1,000 at once (ours `maxConcurrent: 1000, ' +
    'maxQueue: 100`, cockatiel `bulkhead(1000, 100)`), so no call queues; each run starts 1,000 calls, then awaits ' +
    'them all with Promise.all',
  baselineLabel: '1,000 × fn() in flight, then Promise.all',
  baseline: () => inFlight(fn),
  subjects: [
    {
      id: 'ours',
      label: '@resilience/core compose(…)',
      library: '@resilience/core',
      setup: async () => {
        const four = await ourFourWide();
        if (typeof four === 'string') return unavailable(four);
        const pipeline = await ourPipeline(await loadCore(), four);
        return typeof pipeline === 'string' ? unavailable(pipeline) : prepared(inFlight(() => pipeline.execute(fn)));
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel wrap(…)',
      library: 'cockatiel',
      setup: async () => {
        const policy = await cockatielWrap(IN_FLIGHT);
        return prepared(inFlight(() => policy.execute(fn)));
      },
    },
  ],
  targets: [],
};
