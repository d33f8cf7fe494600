import type { Logger } from '@resilience/core';
import type { Request } from 'express';

/** A value, or a promise of it: what a synchronous or a distributed limiter returns. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * A response body for a rejection: a string (sent as `text/plain`), any other
 * value (sent as JSON), or a function of the request and the rejection error
 * that returns one of those. Never put internal error details in it.
 */
export type RejectionBody = string | object | ((req: Request, error: unknown) => string | object);

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
 * What `rateLimit()` needs from a limiter: the core `RateLimiter` (answers
 * synchronously) and a distributed one such as `RedisRateLimiter` (answers
 * with promises) both fit.
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

/** What `circuitBreaker()` needs from a breaker: the core `CircuitBreaker` fits. */
export interface CircuitBreakerLike {
  /** Admits one call or throws a `CircuitOpenError` (with `retryAfterMs`). */
  acquire(): CircuitPermitLike;
}

/** Options of every middleware that answers a rejected request itself. */
export interface RejectionOptions {
  /**
   * The status code of the rejection.
   * @default 503 (429 for `rateLimit`)
   */
  statusCode?: number | undefined;
  /**
   * The body of the rejection. It never contains internal error details
   * unless your function puts them there.
   * @default a small JSON object `{ error, message }` naming the reason
   */
  body?: RejectionBody | undefined;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerMiddlewareOptions extends RejectionOptions {
  /**
   * Which answer statuses count as failures of the call: a list of status
   * codes or a predicate. Every other finished answer is a success.
   * @default every status >= 500
   */
  failureStatuses?: readonly number[] | ((status: number) => boolean) | undefined;
  /**
   * Whether an error passed to `next()` (seen by the middleware's
   * `errorHandler`), or one the server destroyed the response with
   * (`res.destroy(err)`), counts as a failure whatever status the answer
   * gets, even when it cut off an answer that had started.
   * @default every error counts
   */
  isFailureError?: ((error: unknown) => boolean) | undefined;
}

/** Which standard rate-limit headers `rateLimit()` writes. */
export type StandardHeadersVersion = 'draft-7' | 'draft-8';

/** What `rateLimit()` does when the limiter itself fails (throws or rejects). */
export type LimiterFailMode = 'open' | 'closed';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends RejectionOptions {
  /**
   * The key a request is counted under. The default uses `req.ip` (so
   * Express's `trust proxy` setting decides which address that is), falling
   * back to the socket's address, with IPv6 addresses grouped by subnet
   * (see `ipv6Subnet`). A key that is not a string (a finite number is
   * made one) goes to `next(err)` as a `TypeError`: an object would count
   * each request in a fresh bucket, `undefined` every request in one; use
   * `skip` for requests that have no key.
   * @default ipKey(req, 56)
   */
  key?: ((req: Request) => string | number) | undefined;
  /**
   * The prefix length IPv6 addresses are grouped by in the default key
   * (a client usually owns a whole /56 or /64), or `false` to key by the
   * full address (in one canonical spelling: `2001:DB8::1` and
   * `2001:db8:0:0::1` are one key). IPv4-mapped IPv6 addresses are keyed as
   * IPv4 either way.
   * @default 56
   */
  ipv6Subnet?: number | false | undefined;
  /**
   * How many tokens a request costs: a number or a function of the request.
   * A function's result that is not a finite number > 0 goes to
   * `next(err)`; a cost above `limiter.burst` is answered 429 at once.
   * @default 1
   */
  cost?: number | ((req: Request) => number) | undefined;
  /**
   * Requests for which this returns true pass without being counted.
   * @default none are skipped
   */
  skip?: ((req: Request) => boolean) | undefined;
  /**
   * Which IETF draft of `RateLimit-Policy` and `RateLimit` to write, or
   * `false` for none. draft-7: `RateLimit-Policy: 10;w=1` and
   * `RateLimit: limit=10, remaining=9, reset=1`; draft-8:
   * `RateLimit-Policy: "default";q=10;w=1` and `RateLimit: "default";r=9;t=1`.
   * @default 'draft-7'
   */
  standardHeaders?: StandardHeadersVersion | false | undefined;
  /**
   * Also write `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
   * `X-RateLimit-Reset` (Unix time in seconds when the bucket is full).
   * @default false
   */
  legacyHeaders?: boolean | undefined;
  /**
   * The quota policy's name in draft-8 headers (a structured-field string).
   * @default 'default'
   */
  policyName?: string | undefined;
  /**
   * When the limiter throws, rejects or gives a malformed decision: `'open'`
   * lets the request through, `'closed'` answers 503. Either way the failure
   * is logged.
   * @default 'open'
   */
  failMode?: LimiterFailMode | undefined;
  /**
   * The longest a limiter that answers with a promise may take, in
   * milliseconds (at most 2147483647, the longest timer). Past it the request
   * takes the limiter-failure path (`failMode`) with a `TimeoutError`, and the
   * limiter's late answer is ignored. A limiter that answers synchronously
   * (the core `RateLimiter`) is never timed.
   * @default 1000
   */
  limiterTimeout?: number | undefined;
  /**
   * The `trust proxy` checks, as express-rate-limit runs them: each warns
   * once per middleware through `logger.warn`. `false` turns both off; an
   * object turns single checks off.
   * @default true (both checks on)
   */
  validate?: boolean | RateLimitValidations | undefined;
  /**
   * Where a failing limiter is reported (at most one record per second,
   * with the number of failures since the last one; failures held back are
   * reported a second after the last record), and where the `validate`
   * warnings go.
   * @default console
   */
  logger?: Logger | undefined;
}

/** The checks of `rateLimit()`'s `validate` option; each is on unless set to `false`. */
export interface RateLimitValidations {
  /**
   * Warn when the Express `trust proxy` setting is `true`: Express then
   * takes the left-most `X-Forwarded-For` address, which any client chooses,
   * so each request can claim a fresh quota.
   * @default true
   */
  trustProxy?: boolean | undefined;
  /**
   * Warn when an `X-Forwarded-For` header arrives while `trust proxy` is off:
   * behind a proxy, `req.ip` is then the proxy's address and every client
   * shares one quota.
   * @default true
   */
  xForwardedForHeader?: boolean | undefined;
}

/** Options of {@link timeout}. */
export interface TimeoutMiddlewareOptions extends RejectionOptions {}

/** Options of {@link bulkhead}. */
export interface BulkheadMiddlewareOptions extends RejectionOptions {
  /**
   * The `Retry-After` value, in seconds, of a rejection, or `false` for none.
   * @default 1
   */
  retryAfter?: number | false | undefined;
}

declare global {
  // Express's own request type lives in this global namespace; merging into it types `req.signal`.
  namespace Express {
    interface Request {
      /**
       * Set by `timeout()` from `@resilience/express`: aborts when the time
       * is up or the client disconnects. Pass it to whatever the handler awaits.
       */
      signal?: AbortSignal;
    }
  }
}
