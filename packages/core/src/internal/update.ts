import { describeValue } from './validate.js';

/** Applies a validated change; cannot fail. */
export type Commit = () => void;

/** Validates a change of `instance` and returns what applies it. */
type Preparer = (instance: never, partial: object) => Commit;

const preparers = new WeakMap<object, Preparer>();

/**
 * Registers the validating half of a pattern's `update()` (from a static
 * block, which sees the class's private fields), so that
 * `PolicyRegistry.configure` can validate every change before any applies.
 * Call it as `registerUpdater(this, …)`: tsc 7 compiles the class's own name
 * inside a static block to a variable assigned only after the class, so the
 * name would be `undefined` there in the built package.
 */
export function registerUpdater<P extends object>(
  pattern: abstract new (...args: never[]) => P,
  prepare: (instance: P, partial: object) => Commit,
): void {
  preparers.set(pattern.prototype as object, prepare as Preparer);
}

/**
 * Validates `partial` for `instance` (a pattern with a registered updater)
 * and returns what applies it; throws what `update()` would throw.
 */
export function prepareUpdate(instance: object, partial: object): Commit {
  for (let proto = Object.getPrototypeOf(instance); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const prepare = preparers.get(proto);
    if (prepare !== undefined) return (prepare as (instance: object, partial: object) => Commit)(instance, partial);
  }
  throw new TypeError(`${describeValue(instance)} cannot be updated`);
}

/** Options no pattern lets `update()` change: they identify it or define its time base. */
const FIXED_EVERYWHERE = ['name', 'clock'] as const;

/**
 * The config an `update(partial)` leads to: `partial` over `current`. A key
 * given as `undefined` goes back to its default. Throws a `TypeError` when
 * `partial` is not a plain object, names an option the pattern does not know
 * (`known`), or changes an option that cannot change at run time (`name`,
 * `clock` and the pattern's own `fixed` ones).
 */
export function mergeUpdate<C extends object>(
  owner: string,
  current: C,
  partial: unknown,
  known: readonly string[],
  fixed: readonly string[] = [],
): C {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new TypeError(`${owner}: update() takes an object of options, got ${describeValue(partial)}`);
  }
  const given = partial as Record<string, unknown>;
  const before = current as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new TypeError(`${owner}: update() got an unknown option ${JSON.stringify(key)}`);
    }
    if ((FIXED_EVERYWHERE as readonly string[]).includes(key) || fixed.includes(key)) {
      if (given[key] !== before[key]) {
        throw new TypeError(
          `${owner}: ${key} cannot be changed by update() (got ${describeValue(given[key])}); build a new ${owner}`,
        );
      }
    }
  }
  return { ...current, ...given } as C;
}

/** The options every pattern takes for observability. */
const OBSERVABILITY = ['name', 'logger', 'tracer', 'metrics', 'clock'] as const;

/** The option names each pattern knows (its config type's keys), for `update()` and `PolicyRegistry.configure`. */
export const knownOptions: {
  readonly circuitBreaker: readonly string[];
  readonly retry: readonly string[];
  readonly timeout: readonly string[];
  readonly bulkhead: readonly string[];
  readonly rateLimiter: readonly string[];
  readonly adaptiveBulkhead: readonly string[];
  readonly adaptiveThrottle: readonly string[];
  readonly hedging: readonly string[];
  readonly chaos: readonly string[];
} = {
  circuitBreaker: [
    'maxRequests',
    'interval',
    'timeout',
    'readyToTrip',
    'onStateChange',
    'handle',
    'isSuccessful',
    'isIgnored',
    'isExcluded',
    'isFailureResult',
    'window',
    'failureRateThreshold',
    'minimumCalls',
    'slowCallDuration',
    'slowCallRateThreshold',
    'backoffMultiplier',
    'maxTimeout',
    'halfOpenTimeout',
    'countCancellations',
    'initialState',
    ...OBSERVABILITY,
  ],
  retry: [
    'maxAttempts',
    'initialDelay',
    'maxDelay',
    'multiplier',
    'backoff',
    'jitter',
    'handle',
    'retryableErrors',
    'nonRetryableErrors',
    'isRetryable',
    'retryOnResult',
    'delay',
    'maxElapsed',
    'budget',
    'onRetry',
    'random',
    ...OBSERVABILITY,
  ],
  timeout: ['defaultTimeout', 'onTimeout', ...OBSERVABILITY],
  bulkhead: ['maxConcurrent', 'maxQueue', 'queueTimeout', 'onRejected', ...OBSERVABILITY],
  rateLimiter: ['rate', 'interval', 'burst', 'algorithm', 'maxKeys', 'idleTtl', 'maxWait', 'onLimit', ...OBSERVABILITY],
  adaptiveBulkhead: [
    'algorithm',
    'initialLimit',
    'minLimit',
    'maxLimit',
    'maxQueue',
    'queueTimeout',
    'backoffRatio',
    'latencyThreshold',
    'tolerance',
    'smoothing',
    'baselineDrift',
    'isDrop',
    'onRejected',
    'onLimitChange',
    ...OBSERVABILITY,
  ],
  adaptiveThrottle: [
    'k',
    'window',
    'maxRejectionProbability',
    'isSuccessful',
    'onRejected',
    'random',
    ...OBSERVABILITY,
  ],
  hedging: ['delay', 'maxHedges', 'hedgeOnFailure', 'handle', 'onHedge', ...OBSERVABILITY],
  chaos: ['rate', 'fault', 'latency', 'result', 'enabled', 'onInject', 'random', ...OBSERVABILITY],
};
