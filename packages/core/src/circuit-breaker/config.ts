import { classifierOption, refuseAliases } from '../classify/compile.js';
import type { Clock } from '../clock/clock.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { predicateOption } from '../internal/hooks.js';
import {
  booleanOption,
  clockOption,
  describeValue,
  functionOption,
  type NumberRule,
  numberOption,
  oneOfOption,
  requiredNumber,
} from '../internal/validate.js';
import type { CircuitBreakerConfig, CircuitState as CircuitStateType, Counts, SlidingWindowConfig } from './types.js';

/** The owner named in every configuration error. */
export const OWNER = 'CircuitBreaker';

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_MAX_TIMEOUT = 600_000;
const DEFAULT_MINIMUM_CALLS = 10;
const DEFAULT_BUCKETS = 10;
const MAX_BUCKETS = 1_000;

/** Classifies a thrown value: `true` when it matches. */
type ErrorPredicate = (error: unknown) => boolean;

/** A window, checked and with its defaults filled in. */
export interface WindowSettings {
  /** `'count'` or `'time'`. */
  readonly kind: 'count' | 'time';
  /** Calls held by a count window; buckets of a time window. */
  readonly slots: number;
  /** Length of one bucket of a time window, in ms (0 for a count window). */
  readonly bucketMs: number;
  /** Calls needed before rates count. */
  readonly minimumCalls: number;
  /** Failure rate that trips (above 1: never). */
  readonly failureRateThreshold: number;
  /** Slow-call rate that trips (above 1: never). */
  readonly slowCallRateThreshold: number;
}

/**
 * A breaker's configuration after validation, with every default filled in.
 * Built once per instance; instances with the default configuration share one.
 */
export interface Settings<T> {
  /** Half-open slots per episode (>= 1). */
  readonly maxRequests: number;
  /** Closed-count reset period in ms; 0 never resets. */
  readonly interval: number;
  /** Base open time in ms. */
  readonly timeout: number;
  /** Trip predicate on counts; `undefined` when only rates trip. */
  readonly readyToTrip: ((counts: Counts) => boolean) | undefined;
  /** The transition listener. */
  readonly onStateChange: ((from: CircuitStateType, to: CircuitStateType) => void) | undefined;
  /** gobreaker's `IsSuccessful`. */
  readonly isSuccessful: ErrorPredicate | undefined;
  /** `isIgnored`. */
  readonly isIgnored: ErrorPredicate | undefined;
  /** `isExcluded` (asked after `isIgnored`, with the same meaning). */
  readonly isExcluded: ErrorPredicate | undefined;
  /** Whether a call whose caller aborted counts like any other (else it is cancelled: neither success nor failure). */
  readonly countCancellations: boolean;
  /** Result-based failure. */
  readonly isFailureResult: ((result: T) => boolean) | undefined;
  /** The rate window, if any. */
  readonly window: WindowSettings | undefined;
  /** Slow-call threshold in ms (`Infinity`: none). */
  readonly slowCallDuration: number;
  /** Open-time growth per failed half-open episode. */
  readonly backoffMultiplier: number;
  /** Cap of the open time in ms. */
  readonly maxTimeout: number;
  /** Bound on a half-open episode whose probes do not report, in ms (`Infinity`: none, the default). */
  readonly halfOpenTimeout: number;
  /** The clock. */
  readonly clock: Clock;
  /** Whether each call's duration must be measured (slow calls or duration metrics). */
  readonly timed: boolean;
  /** No window, no timing, no `isFailureResult`: a closed success only bumps two counts. */
  readonly plain: boolean;
}

/** gobreaker's default `ReadyToTrip`: more than five failures in a row. */
export function defaultReadyToTrip(counts: Counts): boolean {
  return counts.consecutiveFailures > 5;
}

const settingKeys = [
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
  'clock',
  'metrics',
] as const;

const knownConfigKeys = knownKeys([...settingKeys, 'initialState']);

/** The older spellings of parts of `handle`. */
export const HANDLE_ALIASES: readonly string[] = ['isSuccessful', 'isFailureResult'];
const countWindowKeys: ReadonlySet<string> = new Set(['kind', 'size']);
const timeWindowKeys: ReadonlySet<string> = new Set(['kind', 'duration', 'buckets']);

/** Options of peer libraries, and what to use here instead. */
const peerHints: PeerHints = {
  resetTimeout: `opossum's resetTimeout is "timeout" here (ms the breaker stays open); note that "timeout" here is not a call timeout: put a Timeout inside the breaker for that`,
  errorThresholdPercentage: `opossum's errorThresholdPercentage is a "window" with "failureRateThreshold" (0 to 1) here`,
  rollingCountTimeout: `opossum's rollingCountTimeout is window: { kind: 'time', duration } here`,
  rollingCountBuckets: `opossum's rollingCountBuckets is window: { kind: 'time', duration, buckets } here`,
  volumeThreshold: `opossum's volumeThreshold is "minimumCalls" here (with a "window")`,
  errorFilter: `opossum's errorFilter is "isIgnored" here, or "handle" (a thrown value it does not handle is a success; alias "isSuccessful")`,
  capacity: `opossum's capacity is a Bulkhead's "maxConcurrent" here`,
  halfOpenAfter: `cockatiel's halfOpenAfter is "timeout" here (ms the breaker stays open)`,
  breaker: `cockatiel's breaker strategies are "readyToTrip" or a "window" with "failureRateThreshold" here`,
  waitDurationInOpenState: `resilience4j's waitDurationInOpenState is "timeout" here`,
  permittedNumberOfCallsInHalfOpenState: `resilience4j's permittedNumberOfCallsInHalfOpenState is "maxRequests" here`,
  minimumNumberOfCalls: `resilience4j's minimumNumberOfCalls is "minimumCalls" here`,
  slowCallDurationThreshold: `resilience4j's slowCallDurationThreshold is "slowCallDuration" here`,
  slidingWindowSize: `resilience4j's slidingWindowSize is window: { kind: 'count', size } here`,
  isCancellationFailure: `use "countCancellations"`,
};

let sharedDefaults: Settings<unknown> | undefined;
/** The latest settings built, shared with the next breaker whose settings come out the same. */
let latest: Settings<unknown> | undefined;

/**
 * Validates `config` and fills in the defaults. Throws a `TypeError` or
 * `RangeError` naming the option and the value on bad input.
 *
 * Breakers whose settings come out the same (the defaults, spelt out or not,
 * or many breakers built in a row from one configuration) share one frozen
 * settings object, so that an instance retains little memory of its own.
 */
export function normalizeSettings<T>(config: CircuitBreakerConfig<T>): Settings<T> {
  checkConfigKeys(OWNER, config, knownConfigKeys, peerHints);
  sharedDefaults ??= Object.freeze(buildSettings<unknown>({}));
  if (settingKeys.every((key) => config[key] === undefined)) return sharedDefaults;
  const built = buildSettings(config);
  if (sameSettings(built, sharedDefaults)) return sharedDefaults;
  if (latest !== undefined && sameSettings(built, latest)) return latest;
  const frozen = Object.freeze(built);
  latest = frozen as Settings<unknown>;
  return frozen;
}

function sameSettings<T>(a: Settings<T>, b: Settings<unknown>): boolean {
  for (const key of Object.keys(a) as (keyof Settings<T>)[]) {
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (key !== 'window' || x === undefined || y === undefined) return false;
    const wx = x as WindowSettings;
    const wy = y as WindowSettings;
    for (const field of Object.keys(wx) as (keyof WindowSettings)[]) if (wx[field] !== wy[field]) return false;
  }
  return true;
}

function buildSettings<T>(config: CircuitBreakerConfig<T>): Settings<T> {
  const maxRequests = numberOption(OWNER, 'maxRequests', config.maxRequests, 1, { min: 0, integer: true }) || 1;
  const interval = numberOption(OWNER, 'interval', config.interval, 0, { min: 0, allowInfinity: true });
  const timeout = numberOption(OWNER, 'timeout', config.timeout, DEFAULT_TIMEOUT, { min: 0 }) || DEFAULT_TIMEOUT;
  const backoffMultiplier = numberOption(OWNER, 'backoffMultiplier', config.backoffMultiplier, 1, { min: 1 });
  const maxTimeout = numberOption(OWNER, 'maxTimeout', config.maxTimeout, Math.max(timeout, DEFAULT_MAX_TIMEOUT), {
    min: timeout,
  });
  const halfOpenTimeout = numberOption(OWNER, 'halfOpenTimeout', config.halfOpenTimeout, Number.POSITIVE_INFINITY, {
    min: 0,
    minExclusive: true,
    allowInfinity: true,
  });
  const isIgnored = predicateOption(OWNER, 'isIgnored', config.isIgnored);
  const isExcluded = predicateOption(OWNER, 'isExcluded', config.isExcluded);
  const window = windowSettings(config);
  const slowCallDuration = numberOption(OWNER, 'slowCallDuration', config.slowCallDuration, Number.POSITIVE_INFINITY, {
    min: 0,
    allowInfinity: true,
  });
  if (slowCallDuration !== Number.POSITIVE_INFINITY && window === undefined) {
    throw new TypeError(
      `${OWNER}: slowCallDuration needs a window, got slowCallDuration ${describeValue(slowCallDuration)} and no window`,
    );
  }
  const readyToTrip = predicateOption(OWNER, 'readyToTrip', config.readyToTrip);
  const timed = slowCallDuration !== Number.POSITIVE_INFINITY || config.metrics !== undefined;
  const handle = classifierOption(OWNER, config.handle);
  if (handle !== undefined) refuseAliases(OWNER, config, HANDLE_ALIASES);
  // A classifier compiles into the two predicates below (cached per classifier, so settings stay shareable).
  const isFailureResult =
    handle === undefined
      ? predicateOption(OWNER, 'isFailureResult', config.isFailureResult)
      : (handle.results as ((result: T) => boolean) | undefined);
  const isSuccessful =
    handle === undefined ? predicateOption(OWNER, 'isSuccessful', config.isSuccessful) : handle.notHandled;
  return {
    maxRequests,
    interval: interval === Number.POSITIVE_INFINITY ? 0 : interval,
    timeout,
    readyToTrip: readyToTrip ?? (window === undefined ? defaultReadyToTrip : undefined),
    onStateChange: functionOption(OWNER, 'onStateChange', config.onStateChange),
    isSuccessful,
    isIgnored,
    isExcluded,
    countCancellations: booleanOption(OWNER, 'countCancellations', config.countCancellations, false),
    isFailureResult,
    window,
    slowCallDuration,
    backoffMultiplier,
    maxTimeout,
    halfOpenTimeout,
    clock: clockOption(OWNER, config.clock),
    timed,
    plain: !timed && window === undefined && isFailureResult === undefined,
  };
}

function windowSettings<T>(config: CircuitBreakerConfig<T>): WindowSettings | undefined {
  const window = config.window as SlidingWindowConfig | null | undefined;
  if (window === undefined) {
    for (const key of ['failureRateThreshold', 'minimumCalls', 'slowCallRateThreshold'] as const) {
      if (config[key] !== undefined) {
        throw new TypeError(`${OWNER}: ${key} needs a window, got ${key} ${describeValue(config[key])} and no window`);
      }
    }
    return undefined;
  }
  if (window === null || typeof window !== 'object') {
    throw new TypeError(`${OWNER}: window must be an object, got ${describeValue(window)}`);
  }
  const kind = oneOfOption(OWNER, 'window.kind', window.kind, ['count', 'time'], 'count');
  checkConfigKeys(OWNER, window, kind === 'count' ? countWindowKeys : timeWindowKeys, {}, 'window.');
  let slots: number;
  let bucketMs = 0;
  if (kind === 'count') {
    const size = (window as { size?: unknown }).size;
    slots = requiredNumber(OWNER, 'window.size', size, { min: 1, integer: true });
  } else {
    const { duration, buckets } = window as { duration?: unknown; buckets?: unknown };
    const ms = requiredNumber(OWNER, 'window.duration', duration, { min: 0, minExclusive: true });
    slots = numberOption(OWNER, 'window.buckets', buckets, DEFAULT_BUCKETS, {
      min: 1,
      max: MAX_BUCKETS,
      integer: true,
    });
    bucketMs = ms / slots;
  }
  const isCount = kind === 'count';
  const minimumRule: NumberRule = isCount ? { min: 1, max: slots, integer: true } : { min: 1, integer: true };
  const fallback = isCount ? Math.min(DEFAULT_MINIMUM_CALLS, slots) : DEFAULT_MINIMUM_CALLS;
  const minimumCalls = numberOption(OWNER, 'minimumCalls', config.minimumCalls, fallback, minimumRule);
  const rate = { min: 0, minExclusive: true, max: 1 };
  return {
    kind,
    slots,
    bucketMs,
    minimumCalls,
    failureRateThreshold: numberOption(OWNER, 'failureRateThreshold', config.failureRateThreshold, 0.5, rate),
    slowCallRateThreshold: numberOption(OWNER, 'slowCallRateThreshold', config.slowCallRateThreshold, 1, rate),
  };
}

/** The open time after `failedEpisodes` failed half-open episodes in a row: `timeout × multiplier^n`, capped. */
export function openDuration<T>(settings: Settings<T>, failedEpisodes: number): number {
  const { timeout, backoffMultiplier, maxTimeout } = settings;
  if (failedEpisodes === 0 || backoffMultiplier === 1) return timeout;
  return Math.min(timeout * backoffMultiplier ** failedEpisodes, maxTimeout);
}
