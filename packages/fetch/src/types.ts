import type { BackoffPolicy, CircuitBreakerConfig, Clock, Jitter, ObservabilityOptions } from '@resilience/core';

/** A `fetch` function: Node's global `fetch` (undici) or any other with the same shape. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Per-request options, passed as `init.resilience` to the function
 * `createFetch()` returns. The key is removed before the request reaches the
 * underlying `fetch`.
 */
export interface RequestResilience {
  /**
   * The caller says this request is safe to send more than once (a `POST`
   * with an idempotency key, say), so it is retried like a `GET`. `false`
   * turns retries off for an idempotent method.
   * @default true for GET, HEAD, OPTIONS, PUT, DELETE and TRACE (`retry.methods`) and for a request with an
   *   `Idempotency-Key` header, else false
   */
  idempotent?: boolean | undefined;
  /**
   * This request's overall time limit in ms (until the response headers
   * arrive, retries and their delays included), instead of the `timeout` option.
   * @default the `timeout` option
   */
  timeout?: number | undefined;
  /**
   * This request's limit per attempt in ms, instead of the `attemptTimeout` option.
   * @default the `attemptTimeout` option
   */
  attemptTimeout?: number | undefined;
}

/** The `init` of the function `createFetch()` returns: a `RequestInit` plus `resilience`. */
export interface ResilientRequestInit extends RequestInit {
  /** Per-request options (see {@link RequestResilience}). @default none */
  resilience?: RequestResilience | undefined;
}

/** A `fetch`-compatible function with a breaker per origin, retries and timeouts. */
export type ResilientFetch = (input: string | URL | Request, init?: ResilientRequestInit) => Promise<Response>;

/**
 * The circuit breaker of each origin: the core's `CircuitBreakerConfig`
 * (gobreaker's settings and the extensions), without `handle`,
 * `isFailureResult` and `clock`, which `createFetch` sets (see
 * `failureStatuses` and `clock`; thrown errors are classified with
 * `isSuccessful` and `isIgnored`).
 */
export type OriginBreakerConfig = Omit<
  CircuitBreakerConfig<Response>,
  'handle' | 'isFailureResult' | 'clock' | 'name' | 'logger' | 'tracer' | 'metrics'
>;

/** The retry of `createFetch`: the core `Retry` settings that apply to HTTP, and which requests and statuses retry. */
export interface FetchRetryConfig {
  /**
   * Attempts at most, the first one included (an integer >= 1).
   * @default 3
   */
  maxAttempts?: number | undefined;
  /**
   * The first retry's delay in ms, the base of the backoff.
   * @default 100
   */
  initialDelay?: number | undefined;
  /**
   * The longest wait between attempts in ms. It also caps a server's
   * `Retry-After`: a longer hint waits this long.
   * @default 30000
   */
  maxDelay?: number | undefined;
  /**
   * Growth factor of the exponential backoff (>= 1).
   * @default 2
   */
  multiplier?: number | undefined;
  /**
   * How the delay grows.
   * @default 'exponential'
   */
  backoff?: BackoffPolicy | undefined;
  /**
   * Randomises the delays so that many clients do not retry in lockstep.
   * @default true (full jitter)
   */
  jitter?: Jitter | undefined;
  /**
   * The methods retried without the caller saying so (upper case).
   * @default ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
   */
  methods?: readonly string[] | undefined;
  /**
   * Response statuses that are retried (a 429 or 503 after its `Retry-After`).
   * When retries run out, the last response is returned.
   * @default [408, 429, 500, 502, 503, 504]
   */
  statuses?: readonly number[] | undefined;
  /**
   * Called before each wait with the attempt that failed (from 1), its error
   * or `Response` (whose body is already cancelled) and the delay to come.
   * A throw is logged and ignored.
   * @default none
   */
  onRetry?: ((attempt: number, errorOrResponse: unknown, delayMs: number) => void) | undefined;
}

/**
 * Hedged requests (the core's `Hedging`): when an attempt has no response
 * headers after `delay` ms, another identical request starts (up to
 * `maxHedges`), and the first response wins; the others are aborted, and
 * the body of any that answered anyway is cancelled. Only idempotent
 * requests with a replayable body are hedged (a streamed body never is).
 */
export interface FetchHedgingConfig {
  /**
   * How long an attempt may go without its response headers before the next
   * one starts, in ms (>= 0, finite). Pick it near the service's p90-p99
   * latency: lower sends more extra requests. Required.
   */
  delay: number;
  /**
   * How many extra requests one attempt may start (1 to 100).
   * @default 1
   */
  maxHedges?: number | undefined;
  /**
   * The methods hedged without the caller saying so (upper case); requests
   * with an `Idempotency-Key` header or `resilience: { idempotent: true }`
   * are hedged too, `idempotent: false` never.
   * @default ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
   */
  methods?: readonly string[] | undefined;
  /**
   * Called when an extra request starts, with its attempt number. A throw is
   * logged and ignored.
   * @default none
   */
  onHedge?: ((attempt: number) => void) | undefined;
}

/** Options of {@link createFetch}. */
export interface CreateFetchOptions extends ObservabilityOptions {
  /**
   * The `fetch` to wrap.
   * @default globalThis.fetch (read when `createFetch` is called)
   */
  fetch?: FetchLike | undefined;
  /**
   * The circuit breaker of each origin (`https://api.example.com:8443`), or
   * `false` for none.
   * @default `{}` (the core's defaults: opens after more than 5 failures in a row, 60 s open)
   */
  breaker?: OriginBreakerConfig | false | undefined;
  /**
   * How many origins keep a breaker. Past it the least recently used closed
   * breaker is forgotten, then a half-open one; an open breaker is never
   * forgotten before its open time ends, nor one whose origin has requests
   * in flight (the count may exceed this while that many are open or busy).
   * @default 1000
   */
  maxOrigins?: number | undefined;
  /**
   * Which response statuses count as failures for the breaker: an array of
   * codes or a synchronous predicate. Network errors and attempt timeouts are
   * failures too; a 429 is not (one user's quota must not cut everyone off).
   * @default 5xx
   */
  failureStatuses?: readonly number[] | ((status: number) => boolean) | undefined;
  /**
   * Retries, or `false` for none.
   * @default `{}` (3 attempts of idempotent requests, see {@link FetchRetryConfig})
   */
  retry?: FetchRetryConfig | false | undefined;
  /**
   * Hedged requests for idempotent requests with a replayable body (see
   * {@link FetchHedgingConfig}), inside each retry attempt: every extra
   * request goes through the origin's breaker and has its own
   * `attemptTimeout`. `false` or absent: none.
   * @default none
   */
  hedging?: FetchHedgingConfig | false | undefined;
  /**
   * The overall time limit of a request in ms, until its response headers
   * arrive (retries and their waits included); `Infinity` for none. Reading
   * the body is not bounded by it; the caller's `signal` still cancels that.
   * @default 30000
   */
  timeout?: number | undefined;
  /**
   * The time limit of each attempt in ms, until its response headers arrive;
   * `Infinity` for none. A timed-out attempt counts as a failure for the
   * breaker and is retried.
   * @default 10000
   */
  attemptTimeout?: number | undefined;
  /**
   * Where time comes from (the breakers, retry delays and timeouts). Inject a
   * `FakeClock` in tests.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
