import type {
  CircuitPermit,
  RateLimiterLike as CoreRateLimiterLike,
  MaybePromise,
  RateLimitResult,
} from '@resilience/core';

// The shapes below are the core's, narrowed to what a middleware calls: one definition of each, in the core.
export type { MaybePromise } from '@resilience/core';

/**
 * The report of one rate-limit decision: the core's `RateLimitResult`
 * (what `RateLimiter.consume()` returns), under the name the adapters have
 * always used.
 */
export type RateLimitDecision = RateLimitResult;

/**
 * What a `rateLimit()` middleware needs from a limiter: the members of the
 * core's `RateLimiterLike` it uses (`rate`, `burst`, `interval`, `consume`).
 * Every core `RateLimiterLike` fits: the in-memory `RateLimiter` (answers
 * synchronously) and a distributed one such as `RedisRateLimiter` (answers
 * with promises); so does an object with just these four members.
 */
export interface RateLimiterLike extends Pick<CoreRateLimiterLike, 'rate' | 'burst' | 'interval'> {
  /**
   * The core's `consume`, as a middleware calls it: always with the
   * request's key and cost, so an implementation may require both.
   */
  consume(key: string, tokens: number): MaybePromise<RateLimitDecision>;
}

/**
 * One admitted call through a circuit breaker, reported once (later reports
 * are ignored): the members of the core's `CircuitPermit` a middleware calls.
 */
export type CircuitPermitLike = Pick<CircuitPermit, 'success' | 'failure' | 'ignore'>;

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
