/** A value, or a promise of it: what a synchronous or a distributed limiter returns. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * The report of one rate-limit decision, as the core `RateLimiter.consume()`
 * returns it.
 */
export interface RateLimitDecision {
  /** Whether the tokens were taken. */
  readonly allowed: boolean;
  /** The bucket size (the most a client can spend at once). */
  readonly limit: number;
  /** Tokens left after this decision. */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
  /** Milliseconds until the requested tokens exist (0 when allowed). */
  readonly retryAfterMs: number;
}

/**
 * What a `rateLimit()` middleware needs from a limiter: the core
 * `RateLimiter` (answers synchronously) and a distributed one such as
 * `RedisRateLimiter` (answers with promises) both fit.
 */
export interface RateLimiterLike {
  /** Tokens added per `interval`. */
  readonly rate: number;
  /** The bucket size. */
  readonly burst: number;
  /** The refill interval in milliseconds. */
  readonly interval: number;
  /** Takes `tokens` for `key` when there are enough and reports the decision. */
  consume(key: string, tokens: number): MaybePromise<RateLimitDecision>;
}

/** One admitted call through a circuit breaker, reported once (later reports are ignored). */
export interface CircuitPermitLike {
  /** The call succeeded. */
  success(): void;
  /** The call failed with `error`. */
  failure(error?: unknown): void;
  /** The call counts as neither (the client went away). */
  ignore(): void;
}

/** What a `circuitBreaker()` middleware needs from a breaker: the core `CircuitBreaker` fits. */
export interface CircuitBreakerLike {
  /** Admits one call or throws a `CircuitOpenError` (with `retryAfterMs`). */
  acquire(): CircuitPermitLike;
}

/** Which standard rate-limit headers a `rateLimit()` middleware writes. */
export type StandardHeadersVersion = 'draft-7' | 'draft-8';

/** What a `rateLimit()` middleware does when the limiter itself fails (throws or rejects). */
export type LimiterFailMode = 'open' | 'closed';

/** The proxy checks of a `rateLimit()` middleware's `validate` option; each is on unless set to `false`. */
export interface RateLimitValidations {
  /**
   * Warn when the framework's proxy-trust setting is `true`: the client
   * address is then the left-most `X-Forwarded-For` entry, which any client
   * chooses, so each request can claim a fresh quota.
   * @default true
   */
  trustProxy?: boolean | undefined;
  /**
   * Warn when an `X-Forwarded-For` header arrives while no proxy is trusted:
   * behind a proxy, the client address is then the proxy's and every client
   * shares one quota.
   * @default true
   */
  xForwardedForHeader?: boolean | undefined;
}

/**
 * A response body for a rejection: a string (sent as `text/plain`), any other
 * value (sent as JSON), or a function of the request and the rejection error
 * that returns one of those. Never put internal error details in it.
 */
export type RejectionBody<Req> = string | object | ((req: Req, error: unknown) => string | object);
