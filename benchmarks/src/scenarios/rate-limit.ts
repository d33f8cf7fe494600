import type { Op } from '../harness/types.js';
import { fn, prepared, unavailable } from './fixtures.js';
import { ours } from './ours.js';
import type { ScenarioDef, SubjectDef } from './types.js';

/** Decisions per second every library is configured for: high enough that every call is allowed. */
const RATE = 1_000_000_000;

interface OurLimiter {
  allow(key?: string): boolean;
  consume(key?: string): unknown;
  execute(fn: () => Promise<number>, options?: { key?: string }): Promise<number>;
}

/** The keys a scenario rotates through, built once per process. */
function keysOf(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (count === 1 ? 'client' : `client:${i}`));
}

/** A sync op over rotating keys. */
function keyed(keys: readonly string[], decide: (key: string) => unknown): Op {
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

/** An async op over rotating keys. */
function keyedAsync(keys: readonly string[], decide: (key: string) => Promise<unknown>): Op {
  const { run } = keyed(keys, decide);
  return { run };
}

/** A clock as the limiter's `clock` option takes it. */
interface BenchClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * An integer clock: whole milliseconds since it was made, kept in a variable
 * by an unref'd 1 ms interval, so `now()` reads a small integer (a Smi: no
 * allocation) instead of asking the system. Its resolution is 1 ms, and it
 * stands still while synchronous code holds the thread (a decision is then
 * made on the time the loop last saw, as with any cached clock).
 */
export function integerClock(): BenchClock {
  const origin = performance.now();
  let ms = 0;
  setInterval(() => {
    ms = Math.floor(performance.now() - origin);
  }, 1).unref();
  return {
    now: () => ms,
    setTimeout: (callback, delay) => setTimeout(callback, delay),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

async function ourLimiter(clock?: BenchClock): Promise<OurLimiter | string> {
  const RateLimiter = await ours<OurLimiter>('RateLimiter');
  if (typeof RateLimiter === 'string') return RateLimiter;
  // Its default key cap (100,000) holds every key of the scenarios, like rate-limiter-flexible's unbounded map.
  return new RateLimiter({ rate: RATE, interval: 1000, burst: RATE, ...(clock === undefined ? {} : { clock }) });
}

async function flexible(): Promise<{ consume: (key: string) => Promise<unknown> }> {
  const { RateLimiterMemory } = await import('rate-limiter-flexible');
  return new RateLimiterMemory({ points: RATE, duration: 1 });
}

function decisionSubjects(keyCount: number): SubjectDef[] {
  const keys = (): string[] => keysOf(keyCount);
  return [
    {
      id: 'clock',
      label: 'the clock read alone: `performance.now()` (the default clock)',
      library: 'node',
      setup: async () => prepared(keyed(keys(), () => performance.now())),
    },
    {
      id: 'clock-integer',
      label: 'the clock read alone: the integer clock’s `now()`',
      library: 'node',
      setup: async () => {
        const clock = integerClock();
        return prepared(keyed(keys(), () => clock.now()));
      },
    },
    {
      id: 'ours',
      label: '@resilience/core RateLimiter allow(key)',
      library: '@resilience/core',
      setup: async () => {
        const limiter = await ourLimiter();
        if (typeof limiter === 'string') return unavailable(limiter);
        return prepared(keyed(keys(), (key) => limiter.allow(key)));
      },
    },
    {
      id: 'ours-integer-clock',
      label: '@resilience/core RateLimiter allow(key), integer clock injected',
      library: '@resilience/core',
      setup: async () => {
        const limiter = await ourLimiter(integerClock());
        if (typeof limiter === 'string') return unavailable(limiter);
        return prepared(keyed(keys(), (key) => limiter.allow(key)));
      },
    },
    // Node 24 and later read `performance.now()` through a fast call, so the default clock need not allocate there.
    {
      id: 'clock@node24',
      label: 'the clock read alone: `performance.now()` (the default clock)',
      library: 'node',
      node: 24,
      setup: async () => prepared(keyed(keys(), () => performance.now())),
    },
    {
      id: 'ours@node24',
      label: '@resilience/core RateLimiter allow(key)',
      library: '@resilience/core',
      node: 24,
      setup: async () => {
        const limiter = await ourLimiter();
        if (typeof limiter === 'string') return unavailable(limiter);
        return prepared(keyed(keys(), (key) => limiter.allow(key)));
      },
    },
    {
      id: 'ours-consume',
      label: '@resilience/core RateLimiter consume(key) (with header report)',
      library: '@resilience/core',
      setup: async () => {
        const limiter = await ourLimiter();
        if (typeof limiter === 'string') return unavailable(limiter);
        return prepared(keyed(keys(), (key) => limiter.consume(key)));
      },
    },
    {
      id: 'rate-limiter-flexible',
      label: 'rate-limiter-flexible RateLimiterMemory await consume(key)',
      library: 'rate-limiter-flexible',
      setup: async () => {
        const limiter = await flexible();
        return prepared(keyedAsync(keys(), (key) => limiter.consume(key)));
      },
    },
  ];
}

const DECISION_CONFIG =
  `${RATE.toExponential(0)} per second (every call allowed): ours token bucket rate = burst = 1e9 per 1,000 ms, ` +
  'rate-limiter-flexible memory 1e9 points per 1 s; rate-limiter-flexible answers with a promise, so its await counts. ' +
  'The integer clock is whole milliseconds kept in a variable by an unref’d 1 ms interval (`now()` returns a small ' +
  'integer, no allocation); the clock rows are the same loop calling only the clock';

/** The targets for a decision: the clock read + 15 ns, 0.3× rate-limiter-flexible, 0 B with an integer clock. */
const DECISION_TARGETS: ScenarioDef['targets'] = [
  { subject: 'ours', against: 'rate-limiter-flexible', maxRatio: 0.3 },
  { kind: 'plus', subject: 'ours', against: 'clock', maxExtraNs: 15 },
  { kind: 'plus', subject: 'ours-integer-clock', against: 'clock-integer', maxExtraNs: 15 },
  { kind: 'bytes', subject: 'ours-integer-clock', maxOverheadBytes: 0.5 },
];

/** One key: the cost of a decision for a hot key. */
export const rateLimitOneKey: ScenarioDef = {
  id: 'rate-limit-1-key',
  title: 'Rate-limit decision, 1 key',
  kind: 'latency',
  config: DECISION_CONFIG,
  baselineLabel: 'picking the key (sync loop)',
  baseline: () => keyed(keysOf(1), (key) => key),
  subjects: decisionSubjects(1),
  targets: DECISION_TARGETS,
};

/**
 * 10,000 keys: the same ratio and bytes targets; the clock + 15 ns bound is
 * the 1-key row's (a decision's own cost), since a cold key adds the memory
 * latency of its state, which the growth rows show apart.
 */
const MANY_KEY_TARGETS: ScenarioDef['targets'] = DECISION_TARGETS.filter((t) => t.kind !== 'plus');

/** 10,000 keys in rotation: every decision misses the CPU cache of the last one. */
export const rateLimitManyKeys: ScenarioDef = {
  id: 'rate-limit-10k-keys',
  title: 'Rate-limit decision, 10,000 rotating keys',
  kind: 'latency',
  config: DECISION_CONFIG,
  baselineLabel: 'picking the key (sync loop)',
  baseline: () => keyed(keysOf(10_000), (key) => key),
  subjects: decisionSubjects(10_000),
  targets: MANY_KEY_TARGETS,
};

/** A call admitted by a limiter: the only place bottleneck is comparable (it schedules jobs, it has no decision call). */
export const rateLimitedCall: ScenarioDef = {
  id: 'rate-limited-call',
  title: 'Rate-limited call, 1 key',
  kind: 'latency',
  config: `${DECISION_CONFIG}; bottleneck reservoir 1e9 refreshed every 1,000 ms, no concurrency limit`,
  baselineLabel: 'await fn()',
  baseline: () => ({ run: () => fn() }),
  subjects: [
    {
      id: 'ours',
      label: '@resilience/core RateLimiter execute(fn)',
      library: '@resilience/core',
      setup: async () => {
        const limiter = await ourLimiter();
        if (typeof limiter === 'string') return unavailable(limiter);
        return prepared({ run: () => limiter.execute(fn) });
      },
    },
    {
      id: 'rate-limiter-flexible',
      label: 'rate-limiter-flexible await consume(key), then fn',
      library: 'rate-limiter-flexible',
      setup: async () => {
        const limiter = await flexible();
        const call = async (): Promise<number> => {
          await limiter.consume('client');
          return fn();
        };
        return prepared({ run: call });
      },
    },
    {
      id: 'bottleneck',
      label: 'bottleneck schedule(fn)',
      library: 'bottleneck',
      setup: async () => {
        const { default: Bottleneck } = await import('bottleneck');
        const limiter = new Bottleneck({
          reservoir: RATE,
          reservoirRefreshAmount: RATE,
          reservoirRefreshInterval: 1000,
        });
        return prepared({ run: () => limiter.schedule(fn) });
      },
    },
  ],
  targets: [],
};
