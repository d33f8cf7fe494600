import type { Classifier } from '../classify/classifier.js';
import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/**
 * The three states of a circuit breaker, as a constant object.
 *
 * @example
 * ```ts
 * if (breaker.state === CircuitState.Open) serveFromCache();
 * ```
 */
export const CircuitState = {
  /** Calls pass and their outcomes are counted. */
  Closed: 'closed',
  /** Calls are rejected with `CircuitOpenError` until the open time has passed. */
  Open: 'open',
  /** A few probe calls pass; their outcomes decide between closed and open. */
  HalfOpen: 'half-open',
} as const;

/** One of `'closed' | 'open' | 'half-open'` (see the constant object {@link CircuitState}). */
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/**
 * Who decides the state: the breaker itself (`'auto'`), or an operator who
 * forced it open (`'isolated'`, see `isolate()`) or closed (`'disabled'`, see `disable()`).
 */
export type CircuitMode = 'auto' | 'isolated' | 'disabled';

/**
 * The request counts of the current generation, gobreaker's `Counts`. They are
 * cleared on every state change and, while closed, every `interval`.
 */
export interface Counts {
  /** Calls admitted in this generation (an ignored outcome gives its admission back). */
  readonly requests: number;
  /** Successes in this generation. */
  readonly totalSuccesses: number;
  /** Failures in this generation. */
  readonly totalFailures: number;
  /** Successes since the last failure. */
  readonly consecutiveSuccesses: number;
  /** Failures since the last success. */
  readonly consecutiveFailures: number;
}

/**
 * A sliding window over the latest outcomes, for tripping on a failure rate
 * or a slow-call rate.
 *
 * - `{ kind: 'count', size }`: the last `size` calls.
 * - `{ kind: 'time', duration, buckets }`: the calls of the last `duration` ms,
 *   kept in `buckets` rolling buckets (older buckets drop out whole).
 */
export type SlidingWindowConfig = CountWindowConfig | TimeWindowConfig;

/** A window over the last `size` calls. */
export interface CountWindowConfig {
  /** Selects a window by number of calls. */
  readonly kind: 'count';
  /** How many of the latest calls the window holds (an integer >= 1). */
  readonly size: number;
}

/** A window over the calls of the last `duration` ms. */
export interface TimeWindowConfig {
  /** Selects a window by time. */
  readonly kind: 'time';
  /** The window's length in ms (> 0). */
  readonly duration: number;
  /**
   * How many rolling buckets the window is split into; a bucket drops out whole.
   * @default 10
   */
  readonly buckets?: number | undefined;
}

/**
 * A saved state of a breaker, from `toJSON()`, to pass back as the
 * `initialState` option of a new breaker (after a restart, or between two
 * invocations of a serverless function). Times are relative, so it survives a
 * change of process; `savedAt` (wall-clock ms, `Date.now()`) lets the open
 * time that passed meanwhile count.
 */
export interface CircuitBreakerSnapshot {
  /** The state when saved. */
  readonly state: CircuitState;
  /** Who decided the state when saved. @default 'auto' */
  readonly mode?: CircuitMode | undefined;
  /** The counts when saved (restored while closed; half-open restarts its episode). @default all zero */
  readonly counts?: Counts | undefined;
  /** While open: ms left until a probe is admitted. @default the full open time */
  readonly openRemainingMs?: number | undefined;
  /** How many half-open episodes in a row failed (drives the open-time backoff). @default 0 */
  readonly failedEpisodes?: number | undefined;
  /** Wall-clock time (`Date.now()`) of the snapshot. @default no time passed since */
  readonly savedAt?: number | undefined;
}

/**
 * The configuration of a {@link CircuitBreaker}: gobreaker's settings with
 * the same meaning and defaults, plus failure-rate windows, slow calls,
 * result-based failures, open-time backoff and a bound on half-open.
 *
 * @typeParam T - the type of the values the guarded work returns
 */
export interface CircuitBreakerConfig<T = unknown> extends ObservabilityOptions {
  /**
   * Calls admitted per half-open episode (admitted, not in flight); when that
   * many succeed in a row, the breaker closes. 0 means 1, as in gobreaker.
   * @default 1
   */
  maxRequests?: number | undefined;
  /**
   * While closed, the counts are cleared every `interval` ms (a new generation).
   * 0 (or `Infinity`) never clears them. A negative value or `NaN` throws a
   * `RangeError` at construction.
   * @default 0
   */
  interval?: number | undefined;
  /**
   * How long the breaker stays open before it admits a probe, in ms. 0 means
   * the default; a negative value, `NaN` or `Infinity` throws a `RangeError` at construction.
   * This is not a call timeout (opossum's `timeout` is): bound each call with
   * a `Timeout` inside the breaker.
   * @default 60000
   */
  timeout?: number | undefined;
  /**
   * Asked with a copy of the counts after each failure while closed; a truthy
   * answer opens the breaker. When a failure-rate or slow-call window is configured and this
   * is omitted, only the rates trip the breaker. A predicate, like `isSuccessful`,
   * `isIgnored`, `isExcluded` and `isFailureResult`: it must answer synchronously
   * (an `async` function throws a `TypeError` at construction; a promise returned
   * at run time is logged and counts as `false`; a throw is logged and counts as `false`).
   * @default `(counts) => counts.consecutiveFailures > 5`
   */
  readyToTrip?: ((counts: Counts) => boolean) | undefined;
  /**
   * Called once per real transition, after the state is consistent. A throwing
   * listener, or one returning a promise that rejects, is logged and does not break the breaker.
   * @default none
   */
  onStateChange?: ((from: CircuitState, to: CircuitState) => void) | undefined;
  /**
   * Which thrown values and which returned values are failures: a classifier
   * from `handle()`, `handleWhen()`, `handleAll()` or `handleResult()`, the
   * same value a `Retry`, a `Fallback` or a `Hedging` takes. A handled error
   * or result is a failure; a thrown value it does not handle is a success
   * (gobreaker's `IsSuccessful`: a 404, say). `isIgnored` is still asked
   * first: an ignored error counts as neither.
   *
   * It replaces `isSuccessful` (the errors it does not handle) and
   * `isFailureResult` (its `orResult` predicates), which remain as aliases:
   * giving one of them together with `handle` is a `TypeError`.
   *
   * A predicate of the classifier that throws or returns a promise is logged
   * (as `isSuccessful` or `isFailureResult`, the predicate it compiles to):
   * the error then counts as a failure, the result as a success.
   * @default every thrown value is a failure, no returned value is
   */
  handle?: Classifier<T> | undefined;
  /**
   * Alias of the errors `handle` does not handle.
   * gobreaker's `IsSuccessful`: `true` when a thrown value counts as a success
   * (a 404, say). Asked after `isIgnored`.
   * @default every thrown value is a failure
   */
  isSuccessful?: ((error: unknown) => boolean) | undefined;
  /**
   * `true` when a thrown value counts as neither success nor failure: it
   * changes no count and frees its half-open slot. (A caller's abort needs no
   * predicate: it is a cancellation, see `countCancellations`.)
   * @default nothing is ignored
   */
  isIgnored?: ((error: unknown) => boolean) | undefined;
  /** Another name of {@link CircuitBreakerConfig.isIgnored} (gobreaker's `IsExcluded`); both are asked. @default none */
  isExcluded?: ((error: unknown) => boolean) | undefined;
  /**
   * Alias of `handleResult(...)` / `.orResult(...)`.
   * `true` when a returned value is a failure (an HTTP 503 response, say). The
   * value still reaches the caller.
   * @default no returned value is a failure
   */
  isFailureResult?: ((result: T) => boolean) | undefined;
  /**
   * A sliding window of outcomes for tripping on rates while closed. Required
   * by `failureRateThreshold` and `slowCallDuration`. Only the current
   * generation's outcomes enter it; `interval` does not clear it, closing does.
   * Rates are checked after a failure or a slow call (a fast success never trips).
   * @default none
   */
  window?: SlidingWindowConfig | undefined;
  /**
   * The failure rate (0 < rate <= 1) of the window at or above which the breaker opens.
   * @default 0.5 when a `window` is configured
   */
  failureRateThreshold?: number | undefined;
  /**
   * The window must hold at least this many calls before its rates are
   * considered (at most the size of a count window).
   * @default 10, or the size of a smaller count window
   */
  minimumCalls?: number | undefined;
  /**
   * A call that takes longer than this many ms is slow: it counts towards the
   * slow-call rate while closed, and a slow half-open probe counts as a failure.
   * @default Infinity (no call is slow)
   */
  slowCallDuration?: number | undefined;
  /**
   * The slow-call rate (0 < rate <= 1) of the window at or above which the breaker opens.
   * @default 1
   */
  slowCallRateThreshold?: number | undefined;
  /**
   * Each failed half-open episode in a row multiplies the open time by this
   * factor (>= 1), up to `maxTimeout`; closing resets it. 1 keeps it constant.
   * @default 1
   */
  backoffMultiplier?: number | undefined;
  /**
   * The cap of the open time under backoff, in ms (>= `timeout`).
   * @default the larger of `timeout` and 600000
   */
  maxTimeout?: number | undefined;
  /**
   * Opt-in bound on half-open: when every half-open slot is taken and no probe
   * has reported for this many ms after the latest one was admitted, the
   * episode counts as failed and the breaker opens again. Off by default: the
   * breaker waits for its probes, as gobreaker and resilience4j do, so a slow
   * probe that succeeds closes it. Turn it on only when probes can hang with
   * no timeout of their own (work that ignores its signal and has no `Timeout`
   * inside the breaker); then set it above the slowest healthy call.
   * @default Infinity (no bound)
   */
  halfOpenTimeout?: number | undefined;
  /**
   * What a call whose caller's signal had aborted by the time `fn` settled
   * counts as. By default it is a cancellation: neither success nor failure
   * (metrics outcome `cancelled`), and its half-open slot is freed, because the
   * caller giving up says nothing about the dependency. `true` counts it like
   * any other call (its error goes through `isIgnored` and `isSuccessful`, and
   * is a failure by default). Either way the breaker does not race the signal:
   * the call settles when `fn` does, with what `fn` gave. A `TimeoutError` from
   * a `Timeout` inside the breaker is not a cancellation (its signal is not the caller's).
   * @default false
   */
  countCancellations?: boolean | undefined;
  /**
   * The state to start in: a snapshot from `toJSON()`, or just a state (open
   * starts a full open time).
   * @default 'closed'
   */
  initialState?: CircuitBreakerSnapshot | CircuitState | undefined;
  /**
   * Where time is read. Inject a `FakeClock` in tests.
   * @default systemClock
   */
  clock?: Clock | undefined;
}

/**
 * A permission to make one call, from `CircuitBreaker.acquire()`, for callers
 * that cannot wrap the work in a function (an HTTP middleware, a stream).
 * Report the outcome once; only the first report counts, later ones do nothing.
 * A report for a permit of an earlier generation (the state changed since)
 * changes nothing, exactly as a late result of `execute`.
 */
export interface CircuitPermit {
  /** The call succeeded. */
  success(): void;
  /**
   * The call failed. A given `error` goes through `isIgnored` and
   * `isSuccessful` like a thrown value; without one it is a failure.
   */
  failure(error?: unknown): void;
  /** The call counts as neither (a client that went away): its half-open slot is freed. */
  ignore(): void;
  /**
   * The caller gave up (its signal aborted, the client went away): like
   * {@link CircuitPermit.ignore}, neither success nor failure and its half-open
   * slot is freed, but reported to metrics as `cancelled`, as `execute` does.
   */
  cancel(): void;
}
