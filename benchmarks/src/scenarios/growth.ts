// How the per-call cost grows with the work: the same pattern at growing sizes,
// each size in its own child, each against a baseline of the same size.
import type { Op } from '../harness/types.js';
import { fn, prepared, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { GrowthDef, ScenarioDef, SubjectDef, TargetDef } from './types.js';

/** `1`, `1k`, `100k`, `1M`: the id suffix and label of a size. */
function short(n: number): string {
  if (n >= 1e6) return `${n / 1e6}M`;
  if (n >= 1e3) return `${n / 1e3}k`;
  return `${n}`;
}

/** The size a growth subject id ends in (`in-flight-100k` → 100,000). */
export function sizeOf(subjectId: string): number {
  const match = /-(\d+)(k|M)?$/.exec(subjectId);
  if (match === null) throw new Error(`growth: subject id ${subjectId} names no size`);
  return Number(match[1]) * (match[2] === 'M' ? 1e6 : match[2] === 'k' ? 1e3 : 1);
}

/**
 * `n` calls started before any is awaited, then awaited together: the
 * array is reused, so every size pays the same per call for it.
 */
export function manyInFlight(n: number, call: (i: number) => Promise<unknown>): Op {
  const pending: Promise<unknown>[] = new Array(n);
  return {
    callsPerRun: n,
    run: () => {
      for (let i = 0; i < n; i++) pending[i] = call(i);
      return Promise.all(pending);
    },
  };
}

/** A sync op over `keys` in rotation. */
export function rotating(keys: readonly string[], decide: (key: string) => unknown): Op {
  const n = keys.length;
  let i = 0;
  return {
    sync: true,
    run: () => {
      const key = keys[i] as string;
      i = i + 1 === n ? 0 : i + 1;
      return decide(key);
    },
  };
}

/** The subjects, growth points and flatness target of one series. */
function series(
  prefix: string,
  sizes: readonly number[],
  label: (n: number) => string,
  setup: (n: number) => SubjectDef['setup'],
  maxSpread: number,
): { subjects: SubjectDef[]; growth: Omit<GrowthDef, 'axis' | 'legend'>; targets: TargetDef[] } {
  const subjects = sizes.map(
    (n): SubjectDef => ({
      id: `${prefix}-${short(n)}`,
      label: label(n),
      library: '@resilience/core',
      setup: setup(n),
    }),
  );
  return {
    subjects,
    growth: { points: subjects.map((s, i) => ({ subject: s.id, x: sizes[i] as number })) },
    targets: [{ kind: 'flat', subjects: subjects.map((s) => s.id), maxSpread }],
  };
}

const BREAKER_SIZES = [1, 1000, 100_000];
const breakerSeries = series(
  'in-flight',
  BREAKER_SIZES,
  (n) => `CircuitBreaker, ${n.toLocaleString('en-US')} call${n === 1 ? '' : 's'} in flight`,
  (n) => async () => {
    const CircuitBreaker = await ours('CircuitBreaker');
    if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
    const breaker: Executable = new CircuitBreaker({});
    return prepared(manyInFlight(n, () => breaker.execute(fn)));
  },
  3,
);

/** One closed breaker with 1, 1,000 and 100,000 calls in flight. */
export const growthBreakerInFlight: ScenarioDef = {
  id: 'growth-breaker-in-flight',
  title: 'Growth: a breaker with 1 to 100,000 calls in flight',
  kind: 'throughput',
  config:
    '`new CircuitBreaker({})`; each run starts n calls before awaiting any, then awaits them with Promise.all; ' +
    'overhead per call over n × `fn()` in flight the same way',
  baselineLabel: 'n × fn() in flight, then Promise.all (n of the row)',
  baseline: (subjectId) => manyInFlight(sizeOf(subjectId), () => fn()),
  subjects: breakerSeries.subjects,
  targets: breakerSeries.targets,
  growth: { axis: 'calls in flight', legend: 'CircuitBreaker', ...breakerSeries.growth },
};

/** The keys of a row, built once per child. */
function keysOf(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `client:${i}`);
}

/**
 * The floor of a keyed decision at a size: a `Map` of the keys to small
 * objects made in key order (as the limiter makes its key states), each
 * lookup reading a field of what it finds.
 */
export function mapLookups(keys: readonly string[]): Op {
  const map = new Map<string, { n: number }>();
  for (const key of keys) map.set(key, { n: map.size });
  return rotating(keys, (key) => (map.get(key) as { n: number }).n);
}

const LIMITER_SIZES = [1, 10_000, 1_000_000];
const limiterSeries = series(
  'keys',
  LIMITER_SIZES,
  (n) => `RateLimiter allow(key), ${n.toLocaleString('en-US')} key${n === 1 ? '' : 's'} at the key cap`,
  (n) => async () => {
    const RateLimiter = await ours<{ allow(key: string): boolean; size: number }>('RateLimiter');
    if (typeof RateLimiter === 'string') return unavailable(RateLimiter);
    // No idle expiry: every key stays until the cap evicts one, so the store holds exactly its n keys.
    const limiter = new RateLimiter({ rate: 1e9, interval: 1000, burst: 1e9, maxKeys: n, idleTtl: Infinity });
    const keys = keysOf(n);
    for (const key of keys) limiter.allow(key);
    if (limiter.size !== n) throw new Error(`growth: expected ${n} keys kept, got ${limiter.size}`);
    return prepared(rotating(keys, (key) => limiter.allow(key)));
  },
  4,
);

/** A limiter holding 1, 10,000 and 1,000,000 keys (its `maxKeys`), deciding for each in rotation. */
export const growthLimiterKeys: ScenarioDef = {
  id: 'growth-limiter-keys',
  title: 'Growth: a rate limiter with 1 to 1,000,000 keys',
  kind: 'latency',
  config:
    '`new RateLimiter({ rate: 1e9, burst: 1e9, maxKeys: n, idleTtl: Infinity })` (never limits) filled with its n keys before timing, ' +
    'so it sits at the key cap; `allow(key)` over the n keys in rotation (each decision misses the cache of the last)',
  baselineLabel:
    'picking the key and reading a small object found under it in a `Map` of the n keys (the memory latency any ' +
    'keyed store pays at that size; sync loop)',
  baseline: (subjectId) => mapLookups(keysOf(sizeOf(subjectId))),
  subjects: limiterSeries.subjects,
  targets: limiterSeries.targets,
  growth: { axis: 'keys at the cap', legend: 'RateLimiter allow(key)', ...limiterSeries.growth },
};

const QUEUE_SIZES = [10, 10_000, 100_000];
const queueSeries = series(
  'depth',
  QUEUE_SIZES,
  (n) => `Bulkhead(1), queue depth ${n.toLocaleString('en-US')}`,
  (n) => async () => {
    const Bulkhead = await ours('Bulkhead');
    if (typeof Bulkhead === 'string') return unavailable(Bulkhead);
    const bulkhead: Executable = new Bulkhead({ maxConcurrent: 1, maxQueue: n });
    return prepared(manyInFlight(n + 1, () => bulkhead.execute(fn)));
  },
  3,
);

/** A bulkhead of one slot whose queue fills to 10, 10,000 and 100,000 waiters, then drains. */
export const growthBulkheadQueue: ScenarioDef = {
  id: 'growth-bulkhead-queue',
  title: 'Growth: a bulkhead queue 10 to 100,000 deep',
  kind: 'throughput',
  config:
    '`new Bulkhead({ maxConcurrent: 1, maxQueue: n })`; each run starts n + 1 calls (one runs, n queue), then awaits ' +
    'them all: every call but the first is queued and handed the slot in turn',
  baselineLabel: '(n + 1) × fn() in flight, then Promise.all',
  baseline: (subjectId) => manyInFlight(sizeOf(subjectId) + 1, () => fn()),
  subjects: queueSeries.subjects,
  targets: queueSeries.targets,
  growth: { axis: 'queue depth', legend: 'Bulkhead queue', ...queueSeries.growth },
};

const CALLER_SIZES = [1, 100, 1000];
const budgetSeries = series(
  'callers',
  CALLER_SIZES,
  (n) => `Retry with a shared RetryBudget, ${n.toLocaleString('en-US')} concurrent caller${n === 1 ? '' : 's'}`,
  (n) => async () => {
    const Retry = await ours<Executable>('Retry');
    const RetryBudget = await ours<object>('RetryBudget');
    if (typeof Retry === 'string') return unavailable(Retry);
    if (typeof RetryBudget === 'string') return unavailable(RetryBudget);
    const budget = new RetryBudget({});
    const retries: Executable[] = Array.from(
      { length: n },
      () => new Retry({ maxAttempts: 3, initialDelay: 100, budget }),
    );
    return prepared(manyInFlight(n, (i) => (retries[i] as Executable).execute(fn)));
  },
  3,
);

/** n `Retry` instances (one per caller) sharing one budget, each with a call in flight. */
export const growthRetryBudget: ScenarioDef = {
  id: 'growth-retry-budget',
  title: 'Growth: a retry budget shared by 1 to 1,000 concurrent callers',
  kind: 'throughput',
  config:
    'one `new RetryBudget({})` (ratio 0.2 over 10 s) shared by n `new Retry({ maxAttempts: 3, initialDelay: 100, budget })`, ' +
    'one per caller; each run starts one call per caller, then awaits them all; every call counts in the budget',
  baselineLabel: 'n × fn() in flight, then Promise.all',
  baseline: (subjectId) => manyInFlight(sizeOf(subjectId), () => fn()),
  subjects: budgetSeries.subjects,
  targets: budgetSeries.targets,
  growth: { axis: 'concurrent callers', legend: 'shared RetryBudget', ...budgetSeries.growth },
};
