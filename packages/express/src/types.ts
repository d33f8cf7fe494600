import type { CommonRateLimitOptions, RejectionBody as SharedRejectionBody } from '@resilience/http';
import type { Request } from 'express';

export type {
  CircuitBreakerLike,
  CircuitPermitLike,
  LimiterFailMode,
  MaybePromise,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitValidations,
  StandardHeadersVersion,
} from '@resilience/http';

/**
 * A response body for a rejection: a string (sent as `text/plain`), any other
 * value (sent as JSON), or a function of the request and the rejection error
 * that returns one of those. Never put internal error details in it.
 */
export type RejectionBody = SharedRejectionBody<Request>;

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

/**
 * Options of {@link rateLimit}: the options every `@resilience` HTTP adapter
 * shares (`CommonRateLimitOptions` of `@resilience/http`). The default key
 * is `ipKey(req, ipv6Subnet)`: `req.ip`, so Express's `trust proxy` setting
 * decides which address that is, falling back to the socket's address. A
 * `cost(req)` that is not a finite number > 0 goes to `next(err)`. The
 * `validate` checks read Express's `trust proxy` setting.
 */
export interface RateLimitOptions extends CommonRateLimitOptions<Request> {}

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
