// Rows for every pattern of ours: heap per instance and calls per second on the fast path.
import type { Prepared } from '../harness/types.js';
import { awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { ScenarioDef, SubjectDef } from './types.js';

/** A pattern of ours, constructed the way the latency scenarios construct it. */
interface PatternDef {
  readonly id: string;
  readonly name: string;
  /** What the constructor gets, in words. */
  readonly shown: string;
  readonly config: Record<string, unknown>;
}

const PATTERNS: readonly PatternDef[] = [
  { id: 'breaker', name: 'CircuitBreaker', shown: '`new CircuitBreaker({})` (defaults)', config: {} },
  {
    id: 'retry',
    name: 'Retry',
    shown: '`new Retry({ maxAttempts: 3, initialDelay: 100 })`',
    config: { maxAttempts: 3, initialDelay: 100 },
  },
  {
    id: 'timeout',
    name: 'Timeout',
    shown: '`new Timeout({ defaultTimeout: 1000 })`',
    config: { defaultTimeout: 1000 },
  },
  {
    id: 'bulkhead',
    name: 'Bulkhead',
    shown: '`new Bulkhead({ maxConcurrent: 10, maxQueue: 100 })`',
    config: { maxConcurrent: 10, maxQueue: 100 },
  },
  {
    id: 'fallback',
    name: 'Fallback',
    shown: '`new Fallback({ fallback: () => 0 })`',
    config: { fallback: () => 0 },
  },
];

/** Keys a limiter's per-key row creates, made before any reading so their strings are not counted. */
const KEY_POOL = 120_000;

/** A limiter's per-key state: each "instance" is a new key taking its first token. */
function perKeySubject(): SubjectDef {
  return {
    id: 'rate-limiter-key',
    label: '@resilience/core RateLimiter, per key (a new key taking one token)',
    library: '@resilience/core',
    setup: async (): Promise<Prepared> => {
      const RateLimiter = await ours<{ allow(key: string): boolean }>('RateLimiter');
      if (typeof RateLimiter === 'string') return unavailable(RateLimiter);
      // No idle expiry and a cap above the pool: every key created stays, none is swept or evicted.
      const limiter = new RateLimiter({ rate: 100, interval: 1000, maxKeys: KEY_POOL + 1, idleTtl: Infinity });
      const keys = Array.from({ length: KEY_POOL }, (_, i) => `client:${i}`);
      let next = 0;
      return {
        kind: 'instance',
        create: () => {
          if (next === KEY_POOL) throw new Error(`memory-per-instance: more than ${KEY_POOL} keys asked for`);
          return limiter.allow(keys[next++] as string);
        },
      };
    },
  };
}

/** Heap retained per instance of each pattern (the Go spec's budget: under 100 B). */
export const memoryPerInstance: ScenarioDef = {
  id: 'memory-per-instance',
  title: 'Heap retained per pattern instance',
  kind: 'instance',
  config: `${PATTERNS.map((p) => p.shown).join('; ')}; a RateLimiter's key: the state a new key adds to a limiter (\`rate: 100\`, no idle expiry), its key string made beforehand and not counted; instances kept in a preallocated array, full GC before and after`,
  baselineLabel: 'none (absolute bytes per instance)',
  subjects: [
    ...PATTERNS.map(
      (p): SubjectDef => ({
        id: p.id === 'breaker' ? 'ours' : `ours-${p.id}`,
        label: `@resilience/core ${p.name}`,
        library: '@resilience/core',
        setup: async () => {
          const Pattern = await ours(p.name);
          if (typeof Pattern === 'string') return unavailable(Pattern);
          return { kind: 'instance', create: () => new Pattern(p.config) };
        },
      }),
    ),
    perKeySubject(),
  ],
  targets: [{ kind: 'at-most', subject: 'ours', max: 100 }],
};

/** The fast path of each pattern: one call at a time, `fn` succeeding at once. */
export const patternThroughput: ScenarioDef = {
  id: 'pattern-throughput',
  title: 'Throughput of each pattern’s fast path, one call at a time',
  kind: 'throughput',
  config: `${PATTERNS.map((p) => p.shown).join('; ')}; \`new RateLimiter({ rate: 1e9, burst: 1e9 })\` \`execute(fn)\` (never limits); each call awaited before the next; calls/s = 1e9 ÷ ns per call, \`fn\` included`,
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: [
    ...PATTERNS.map(
      (p): SubjectDef => ({
        id: p.id === 'breaker' ? 'ours' : `ours-${p.id}`,
        label: `@resilience/core ${p.name} execute(fn)`,
        library: '@resilience/core',
        setup: async () => {
          const Pattern = await ours(p.name);
          if (typeof Pattern === 'string') return unavailable(Pattern);
          const pattern: Executable = new Pattern(p.config);
          return prepared({ run: () => pattern.execute(fn) });
        },
      }),
    ),
    {
      id: 'ours-rate-limiter',
      label: '@resilience/core RateLimiter execute(fn)',
      library: '@resilience/core',
      setup: async () => {
        const RateLimiter = await ours('RateLimiter');
        if (typeof RateLimiter === 'string') return unavailable(RateLimiter);
        const limiter = new RateLimiter({ rate: 1e9, interval: 1000, burst: 1e9 });
        return prepared({ run: () => limiter.execute(fn) });
      },
    },
  ],
  targets: [...PATTERNS.map((p) => (p.id === 'breaker' ? 'ours' : `ours-${p.id}`)), 'ours-rate-limiter'].map(
    (subject) => ({ kind: 'rate', subject, minPerSecond: 1_000_000 }),
  ),
};
