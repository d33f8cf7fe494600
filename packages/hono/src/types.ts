import type { CommonRateLimitOptions, RejectionBody } from '@resilience/http';
import type { Context } from 'hono';
import type { GetConnInfo } from 'hono/conninfo';

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
 * The context variables these middlewares set: `signal`, an `AbortSignal`
 * that aborts when a `timeout()` runs out or the client goes away (read it
 * with `c.var.signal` or `signalOf(c)`).
 */
export interface ResilienceVariables {
  /** Aborts when the time is up or the client disconnects; pass it to whatever the handler awaits. */
  signal: AbortSignal;
}

/** The Hono environment of these middlewares: `{ Variables: { signal } }`. */
export interface ResilienceEnv {
  /** The context variables set by `timeout()` and `bulkhead()`. */
  Variables: ResilienceVariables;
}

/**
 * A response body for a rejection: a string (sent as `text/plain`), any other
 * value (sent as JSON), or a function of the context and the rejection error
 * that returns one of those. Never put internal error details in it.
 */
export type HonoRejectionBody = RejectionBody<Context>;

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
  body?: HonoRejectionBody | undefined;
}

/**
 * Options of {@link rateLimit}: the options every `@resilience` HTTP
 * adapter shares (as in `@resilience/express`), plus `getConnInfo`. Hono has
 * no portable client address: give `getConnInfo` (the runtime's, from
 * `hono/bun`, `hono/deno`, `hono/cloudflare-workers` or
 * `@hono/node-server/conninfo`) for the default key, or a `key(c)` of your own.
 */
export interface RateLimitOptions extends CommonRateLimitOptions<Context> {
  /**
   * The runtime's `getConnInfo`, for the default key: the client's address
   * (`remote.address`), IPv6 grouped by `ipv6Subnet`. Required unless `key`
   * is given.
   */
  getConnInfo?: GetConnInfo | undefined;
}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions extends RejectionOptions {
  /**
   * Which answer statuses count as failures of the call: a list of status
   * codes or a predicate. Every other answer is a success.
   * @default every status >= 500
   */
  failureStatuses?: readonly number[] | ((status: number) => boolean) | undefined;
  /**
   * Whether an error the handler threw (`c.error`, whatever status your
   * `onError` answers with) counts as a failure.
   * @default every error counts
   */
  isFailureError?: ((error: unknown) => boolean) | undefined;
}

/** Options of {@link timeout}. */
export interface TimeoutOptions extends RejectionOptions {}

/** Options of {@link bulkhead}. */
export interface BulkheadOptions extends RejectionOptions {
  /**
   * The `Retry-After` value, in seconds, of a rejection, or `false` for none.
   * @default 1
   */
  retryAfter?: number | false | undefined;
}
