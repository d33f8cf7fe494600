import { isCircuitOpenError } from '@resilience/core';
import { configObject, requireMethod } from '@resilience/core/validate';
import {
  breakerPredicates,
  type CircuitPermitLike,
  checkedPermit,
  circuitBreakerOptionHints,
  defaultBodies,
  Rejection,
  rejectUnknownOptions,
  reportCall,
  retryAfterSeconds,
  statusOption,
} from '@resilience/http';
import type { Context, MiddlewareHandler } from 'hono';
import { rejectionResponse } from './internal/respond.js';
import type { CircuitBreakerLike, CircuitBreakerOptions } from './types.js';

const OWNER = 'circuitBreaker';
const OPTIONS = ['failureStatuses', 'isFailureError', 'statusCode', 'body'] as const;

/**
 * Guards the routes after it with a circuit breaker. Each request is one
 * call: admitted with `breaker.acquire()` and reported when the rest of the
 * chain has answered: an error the handler threw (`c.error`, whatever status
 * your `onError` gives it) or a failing status (5xx by default) is a
 * failure, any other answer a success. A client that disconnected before
 * the answer (`c.req.raw.signal` aborted) is neither: the call is ignored,
 * so a half-open probe slot is freed. While the breaker rejects, the answer
 * is 503 with `Retry-After` (seconds until a probe is admitted) and a body
 * that never shows internal error details.
 *
 * A streamed body is judged by its status: the call is reported when the
 * handler has returned its `Response`, not when the stream ends.
 *
 * @param breaker - a core `CircuitBreaker` (or anything with its `acquire()`)
 * @param options - failing statuses and errors, rejection status and body
 * @example
 * ```ts
 * app.use('/orders/*', circuitBreaker(new CircuitBreaker({ timeout: 30_000 })));
 * ```
 */
export function circuitBreaker(breaker: CircuitBreakerLike, options?: CircuitBreakerOptions): MiddlewareHandler {
  requireMethod(OWNER, 'breaker', breaker, 'acquire');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, circuitBreakerOptionHints);
  const { isFailureStatus, isFailureError } = breakerPredicates(OWNER, opts);
  const rejection = new Rejection<Context>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.unavailable,
    OWNER,
  );

  const report = (permit: CircuitPermitLike, c: Context, thrown: { value: unknown } | undefined): void => {
    const error = thrown ?? (c.error === undefined ? undefined : { value: c.error });
    // Never throws: a broken permit must not turn the handler's answer into an error.
    const status = thrown === undefined ? c.res.status : undefined;
    reportCall(permit, error, !c.req.raw.signal.aborted, status, isFailureError, isFailureStatus);
  };

  return async (c, next) => {
    let permit: CircuitPermitLike;
    try {
      permit = checkedPermit(OWNER, breaker.acquire());
    } catch (err) {
      if (isCircuitOpenError(err)) return rejectionResponse(rejection, c, err, retryAfterSeconds(err.retryAfterMs));
      throw err;
    }
    try {
      await next();
    } catch (err) {
      // Hono turns a handler's error into c.error; one that escapes (no onError for it) still counts.
      report(permit, c, { value: err });
      throw err;
    }
    report(permit, c, undefined);
    return undefined;
  };
}
