import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, Operation } from '../context.js';
import type { ObservabilityOptions } from '../observability/types.js';

/**
 * How a {@link RateLimiter} counts:
 * - `'token-bucket'`: a bucket of `burst` tokens refilled continuously at
 *   `rate` per `interval`, computed lazily from the clock (no timers). Exact.
 * - `'sliding-window'`: at most `rate` tokens per `interval`, with the
 *   two-window approximation (not an exact log): the tokens of the last
 *   `interval` ms are estimated as `previous * (1 - elapsed / interval) + current`
 *   over fixed windows. Three numbers per key. Error bound: no fixed window
 *   ever holds more than `rate`, so any `interval`-long span holds fewer than
 *   `2 * rate` (only when the previous window's calls bunched at its very end);
 *   with evenly spread traffic the estimate is exact.
 * - `'sliding-log'`: at most `rate` tokens in any `interval`-long span,
 *   exactly: each key keeps the time of every token of the last `interval`
 *   ms. Memory: a `Float64Array` per key that has taken a token, sized to
 *   the tokens it took in the window (8 entries at first, doubled as needed,
 *   at most `rate`: 8 × `rate` bytes, plus about 150 bytes of key state), so
 *   at most `maxKeys` × 8 × `rate` bytes, reached only by keys that each take
 *   their whole `rate`; `rate` must be a whole number from 1
 *   to 100,000 (use `'sliding-window'` above). Fractional tokens round up.
 * - `'leaky-bucket'`: admissions spaced evenly at `rate` per `interval`, with
 *   no burst: a take is allowed only once the previous ones have drained, and
 *   `wait()` callers are released one by one at the rate. `burst` (default 1)
 *   is only the largest single take.
 */
export type RateLimitAlgorithm = 'token-bucket' | 'sliding-window' | 'sliding-log' | 'leaky-bucket';

/** The {@link RateLimitAlgorithm} values as constants. */
export const RateLimitAlgorithm: {
  readonly TokenBucket: 'token-bucket';
  readonly SlidingWindow: 'sliding-window';
  readonly SlidingLog: 'sliding-log';
  readonly LeakyBucket: 'leaky-bucket';
} = Object.freeze({
  TokenBucket: 'token-bucket',
  SlidingWindow: 'sliding-window',
  SlidingLog: 'sliding-log',
  LeakyBucket: 'leaky-bucket',
});

/** A value, or a promise of it: what a distributed limiter returns where the in-memory one answers at once. */
export type MaybePromise<T> = T | Promise<T>;

/** Configuration of a {@link RateLimiter}. */
export interface RateLimiterConfig extends ObservabilityOptions {
  /** Tokens added per `interval`: a finite number > 0. Required. */
  rate: number;
  /**
   * The period `rate` refers to, in ms (finite, > 0).
   * @default 1000
   */
  interval?: number | undefined;
  /**
   * The bucket size: how many tokens may be taken at once after a quiet
   * period (finite, >= 1). The sliding window's limit is `rate` per
   * `interval`, so with `'sliding-window'` and `'sliding-log'` `burst` must be
   * left out or equal `rate`. With `'leaky-bucket'` it is only the largest
   * single take (admissions never bunch), 1 unless given.
   * The default is never below 1, so a `rate` below 1 (one call every two
   * seconds: `rate: 0.5`) still admits one call at a time.
   * @default max(1, rate); 1 for `'leaky-bucket'`
   */
  burst?: number | undefined;
  /**
   * The counting algorithm.
   * @default 'token-bucket'
   */
  algorithm?: RateLimitAlgorithm | undefined;
  /**
   * The most keys kept at once (a whole number >= 1). When a new key would go
   * beyond it, the least recently used key is forgotten (it starts again with
   * a full bucket). The default bucket (no key) is not counted.
   * @default 100000
   */
  maxKeys?: number | undefined;
  /**
   * Idle expiry, in ms (>= 0, or `Infinity` to keep keys until evicted): a key
   * whose state has been back to that of a new key (a full bucket, an empty
   * window) for this long is forgotten, lazily, as new keys arrive (or on
   * `prune()`); no timer. Forgetting such a key changes no decision; the delay
   * only spares keys that come and go the cost of being re-created.
   * @default interval
   */
  idleTtl?: number | undefined;
  /**
   * How long `execute` may wait for tokens, in ms (>= 0, or `Infinity`); with 0
   * it rejects at once with a `RateLimitExceededError` when the tokens are not
   * there. Also the default `maxWait` of {@link RateLimiter.wait}.
   * @default 0 for `execute`, `Infinity` for `wait`
   */
  maxWait?: number | undefined;
  /**
   * Called each time a call is refused (`allow`, `take`, `consume`, `wait`,
   * `execute`; not `check`), with the key (`undefined` for the default
   * bucket), after the answer is computed: it may use the limiter (even evict
   * the key) without changing that answer; a refusal inside the hook does not
   * call it again. An exception it throws, or a rejected promise it returns,
   * is logged and ignored.
   * @default none
   */
  onLimit?: ((key: string | undefined) => void) | undefined;
  /**
   * Where the limiter reads time and schedules the wake-ups of `wait`.
   * @default systemClock
   */
  clock?: Clock | undefined;
}

/**
 * The answer of `consume` and `check`: everything needed for the standard
 * rate-limit response headers, in one step.
 */
export interface RateLimitResult {
  /** Whether the tokens were (for `check`: would be) taken. */
  readonly allowed: boolean;
  /** The most tokens the key can hold: `burst` for a token bucket, `rate` for a sliding window. */
  readonly limit: number;
  /** Whole tokens left after this call (0 when none), minus any promised to queued waiters. */
  readonly remaining: number;
  /**
   * Milliseconds until the key is back to its full `limit` (the bucket is
   * full again, the window holds nothing), if nothing more is taken. 0 when it is full.
   */
  readonly resetMs: number;
  /**
   * 0 when allowed; otherwise milliseconds until the requested tokens exist
   * (after those promised to queued waiters), the value for `Retry-After`.
   */
  readonly retryAfterMs: number;
}

/** Options of {@link RateLimiter.wait}. */
export interface RateLimitWaitOptions {
  /** Aborting it rejects the wait with the signal's reason and gives its place back. */
  signal?: AbortSignal | undefined;
  /**
   * How many tokens to take (finite, > 0, <= the limit); anything else rejects with a `RangeError` naming `tokens`.
   * @default 1
   */
  tokens?: number | undefined;
  /**
   * Reject at once with a `RateLimitExceededError` when the tokens cannot be
   * taken within this many ms (>= 0, or `Infinity`; `NaN` or a negative number
   * rejects with a `RangeError` naming `maxWait`, it never means "wait forever").
   * @default the limiter's `maxWait`, else `Infinity`
   */
  maxWait?: number | undefined;
  /**
   * Reject at once with a `RateLimitExceededError` when the tokens cannot be
   * taken before this absolute clock time (as `ctx.deadline`); it must be a
   * finite number, else the wait rejects with a `RangeError` naming `deadline`.
   * @default none
   */
  deadline?: number | undefined;
}

/** Options of {@link RateLimiter.execute}: the call's context plus the key and the tokens to take. */
export interface RateLimiterExecuteOptions extends ExecuteOptions {
  /**
   * Whose budget the call spends.
   * @default the shared default bucket
   */
  key?: string | undefined;
  /**
   * How many tokens the call costs.
   * @default 1
   */
  tokens?: number | undefined;
}

/**
 * The seam between rate-limit users (the express and gRPC adapters, a
 * pipeline) and rate limiters. The in-memory {@link RateLimiter} answers
 * `allow`, `take`, `consume` and `check` synchronously; a distributed limiter
 * (such as `RedisRateLimiter` of `@resilience/redis`) has the same method names
 * and returns promises. Callers accept both: `await` only when the answer is
 * a thenable, so the in-memory limiter stays on the synchronous fast path.
 *
 * @example
 * ```ts
 * async function admit(limiter: RateLimiterLike, key: string): Promise<RateLimitResult> {
 *   const answer = limiter.consume(key);
 *   return answer instanceof Promise ? await answer : answer;
 * }
 * ```
 */
export interface RateLimiterLike {
  /** Tokens added per `interval`. */
  readonly rate: number;
  /** The bucket size (for a sliding window, equal to `rate`). */
  readonly burst: number;
  /** The period of `rate`, in ms. */
  readonly interval: number;
  /** Takes one token of `key` (the default bucket when omitted) if there is one. */
  allow(key?: string): MaybePromise<boolean>;
  /** Takes `tokens` of `key` at once, or none. */
  take(key: string | undefined, tokens: number): MaybePromise<boolean>;
  /** Takes `tokens` (default 1) when allowed and reports the key's state, in one step. */
  consume(key?: string, tokens?: number): MaybePromise<RateLimitResult>;
  /** Reports what `consume` would, without taking anything. */
  check(key?: string, tokens?: number): MaybePromise<RateLimitResult>;
  /** Resolves once the tokens are taken; rejects when they cannot come in time or the signal aborts. */
  wait(key?: string, options?: RateLimitWaitOptions): Promise<void>;
  /** Takes the tokens, then runs `fn`. */
  execute<R>(fn: Operation<R>, options?: RateLimiterExecuteOptions): Promise<R>;
}
