import type { Classifier, ErrorMatcher } from '../classify/classifier.js';
import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';
import type { BackoffPolicy, Jitter } from './backoff.js';
import type { RetryBudget } from './retry-budget.js';

export type { ErrorMatcher } from '../classify/classifier.js';

/** Options of a `Retry`. */
export interface RetryConfig<T = unknown> extends ObservabilityOptions {
  /**
   * How many attempts at most, counting the first call. An integer >= 1, or
   * `Infinity` (then bound the retry with `maxElapsed`, a deadline or a signal).
   * @default 3
   */
  maxAttempts?: number;
  /**
   * The first retry's delay in milliseconds, and the base of every backoff.
   * @default 100
   */
  initialDelay?: number;
  /**
   * The longest delay in milliseconds: caps every backoff, jitter and server
   * hint. At most 2147483647 (the longest timer Node can arm).
   * @default 30000
   */
  maxDelay?: number;
  /**
   * Growth factor of the exponential backoff (>= 1).
   * @default 2
   */
  multiplier?: number;
  /**
   * How the delay grows from one retry to the next.
   * @default 'exponential'
   */
  backoff?: BackoffPolicy;
  /**
   * Randomises the delays so that many clients do not retry in lockstep:
   * `true` or `'full'`, `'equal'`, or a strategy of your own.
   * @default false
   */
  jitter?: Jitter;
  /**
   * Which errors and which returned values are retried: a classifier from
   * `handle()`, `handleWhen()`, `handleAll()` or `handleResult()`, the same
   * value a `CircuitBreaker`, a `Fallback` or a `Hedging` takes. Exactly what
   * it handles is retried (a `handleAll()` retries a `CircuitOpenError` too:
   * add `.except(CircuitOpenError)` when it should not); errors marked with
   * `retryable()` are retried unless its `except` names them. A handled
   * returned value is retried like `retryOnResult`; when no retry is left, the
   * last value is returned as it is.
   *
   * It replaces `retryableErrors` (its classes and objects), `isRetryable`
   * (its `orWhen` predicates), `nonRetryableErrors` (its `except`) and
   * `retryOnResult` (its `orResult` predicates), which remain as aliases:
   * giving one of them together with `handle` is a `TypeError`.
   *
   * A predicate of the classifier that throws or returns a promise is logged
   * (as `isRetryable` or `retryOnResult`, the predicate it compiles to) and
   * counts as "not retried".
   * @default none: every error is retried except a `CircuitOpenError`, no returned value is
   */
  handle?: Classifier<T>;
  /**
   * Alias of the classes and objects of `handle(...)`.
   * Only these errors (objects or classes, matched through the `cause` chain
   * with `errorIs`) are retried, together with those `isRetryable` accepts and
   * those marked with `retryable()`. With none of `retryableErrors`,
   * `nonRetryableErrors` and `isRetryable` given, every error is retried.
   * @default none
   */
  retryableErrors?: readonly ErrorMatcher[];
  /**
   * Alias of `handle(...).except(...)`.
   * These errors are never retried and reach the caller as they are. They win
   * over every other classifier, including `retryable()` marks.
   * @default none
   */
  nonRetryableErrors?: readonly ErrorMatcher[];
  /**
   * Alias of `handleWhen(...)` / `.orWhen(...)`.
   * Decides whether an error is retried (see `retryableErrors`). An exception
   * it throws is logged and counts as "not retryable".
   * @default none
   */
  isRetryable?: (err: unknown) => boolean;
  /**
   * Alias of `handleResult(...)` / `.orResult(...)`.
   * Result-based retry: return `true` to retry a value the work returned (a 503
   * response, say). When no retry is left, the last value is returned as it
   * is. An exception it throws is logged and counts as `false`.
   * @default none
   */
  retryOnResult?: (value: T) => boolean;
  /**
   * A server's hint: returns how long to wait before the next attempt, given
   * the error (or the value, for a result-based retry) and the number of the
   * attempt that failed; `undefined` uses the backoff. Without it, a numeric
   * `retryAfterMs` anywhere in the error's `cause` chain (as our
   * `CircuitOpenError` and `RateLimitExceededError` carry) is used. Capped by
   * `maxDelay`.
   * @default the `retryAfterMs` of the error's `cause` chain
   */
  delay?: (errOrResult: unknown, attempt: number) => number | undefined;
  /**
   * The most time the whole call may take, first attempt included, in
   * milliseconds: no delay starts that cannot end within it. It does not cut an
   * attempt short (put a `Timeout` inside the retry for that).
   * @default Infinity
   */
  maxElapsed?: number;
  /**
   * A budget shared with other `Retry` instances that bounds the share of
   * retries among calls.
   * @default none
   */
  budget?: RetryBudget;
  /**
   * Called before each delay with the number of the attempt that failed (from
   * 1), its error (or the value, for a result-based retry) and the delay to
   * come. An exception it throws is logged and ignored.
   * @default none
   */
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
  /**
   * Where time comes from and delays are scheduled.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * The random source of the jitter, returning numbers in `[0, 1)`; inject one
   * for deterministic tests.
   * @default Math.random
   */
  random?: () => number;
}
