import type { CommonRateLimitOptions, RejectionBody } from '@resilience/http';
import type {
  FastifyPluginCallback,
  FastifyRequest,
  onErrorHookHandler,
  onRequestHookHandler,
  onResponseHookHandler,
} from 'fastify';

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
 * The hooks of one or more guards, as Fastify's route options take them
 * (`app.get('/x', { ...guard.hooks }, handler)`). Each read of `guard.hooks`
 * gives fresh arrays, so Fastify never shares one between routes.
 */
export interface ResilienceHooks {
  /** Admit, limit or time the request, in order. */
  onRequest: onRequestHookHandler[];
  /** Report the outcome once the answer is sent (circuit breaker). */
  onResponse: onResponseHookHandler[];
  /** Record an error the request failed with (circuit breaker). */
  onError: onErrorHookHandler[];
}

/**
 * What each guard factory returns: a Fastify plugin (wrapped with
 * `fastify-plugin`, so `app.register(guard)` applies it to every route of
 * the scope it is registered in, routes added before included), with the
 * same hooks at `guard.hooks` for route-level use:
 * `app.get('/x', { ...guard.hooks }, handler)`, or
 * `{ ...routeHooks(a, b) }` for several.
 */
export type ResiliencePlugin = FastifyPluginCallback & {
  /** The guard's hooks, for route options. */
  readonly hooks: ResilienceHooks;
};

/**
 * A response body for a rejection: a string (sent as `text/plain`), any other
 * value (sent as JSON), or a function of the request and the rejection error
 * that returns one of those. Never put internal error details in it.
 */
export type FastifyRejectionBody = RejectionBody<FastifyRequest>;

/** Options of every guard that answers a rejected request itself. */
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
  body?: FastifyRejectionBody | undefined;
}

/**
 * Options of {@link rateLimit}: the options every `@resilience` HTTP
 * adapter shares (as in `@resilience/express`). The default key is
 * `request.ip` (so Fastify's `trustProxy` option decides which address that
 * is), IPv6 grouped by /56. A `cost(request)` or `key(request)` that throws
 * or gives a bad cost fails the request through Fastify's error handler.
 * `validate` warns once when Fastify's `trustProxy` is `true` and when an
 * `X-Forwarded-For` header arrives while `trustProxy` is off.
 */
export interface RateLimitOptions extends CommonRateLimitOptions<FastifyRequest> {}

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions extends RejectionOptions {
  /**
   * Which answer statuses count as failures of the call: a list of status
   * codes or a predicate. Every other finished answer is a success.
   * @default every status >= 500
   */
  failureStatuses?: readonly number[] | ((status: number) => boolean) | undefined;
  /**
   * Whether an error the request failed with (seen by Fastify's `onError`
   * hook, before your error handler picks a status), or one the response was
   * destroyed with, counts as a failure whatever status the answer gets.
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
