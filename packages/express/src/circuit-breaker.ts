import { isCircuitOpenError } from '@resilience/core';
import { configObject, requireMethod } from '@resilience/core/validate';
import {
  breakerPredicates,
  checkedPermit,
  circuitBreakerOptionHints,
  defaultBodies,
  passableError,
  rejectUnknownOptions,
  reportCall,
} from '@resilience/http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { onResponseEnd } from './internal/lifecycle.js';
import { Rejection, retryAfterSeconds } from './internal/respond.js';
import { statusOption } from './internal/status.js';
import type { CircuitBreakerLike, CircuitBreakerMiddlewareOptions, CircuitPermitLike } from './types.js';

const OWNER = 'circuitBreaker';
const OPTIONS: readonly string[] = ['failureStatuses', 'isFailureError', 'statusCode', 'body'];

/** The middleware returned by {@link circuitBreaker}, with its companion error handler. */
export type CircuitBreakerMiddleware = RequestHandler & {
  /**
   * An error-handling middleware to mount after your routes: it marks the
   * request's call as failed whenever an error is passed to `next()`, even
   * when your error handler then answers with a status below 500, and passes
   * the error on unchanged.
   */
  readonly errorHandler: ErrorRequestHandler;
};

/** The state of one admitted request, reported once when its response is over. */
interface BreakerCall {
  readonly permit: CircuitPermitLike;
  /** Set by the error handler: the error passed to `next()`, boxed so `undefined` can be an error too. */
  error: { readonly value: unknown } | undefined;
}

/** The error the server destroyed `res` with (`res.destroy(err)`), boxed; a client's disconnect leaves none. */
function destroyedWith(res: Response): { readonly value: unknown } | undefined {
  const errored = (res as { errored?: unknown }).errored;
  return errored === undefined || errored === null ? undefined : { value: errored };
}

/**
 * Guards the routes after it with a circuit breaker. Each request is one
 * call: admitted with `breaker.acquire()` and reported when its response is
 * over. A finished answer with a failing status (5xx by default) is a
 * failure, any other finished answer a success; a client that disconnects
 * before the answer is finished is neither (the call is ignored). An error
 * seen by `middleware.errorHandler`, or one the server destroyed the
 * response with (`res.destroy(err)`), is a failure even when it cut off an
 * answer that had started. While the
 * breaker rejects, the middleware answers 503 with `Retry-After` (seconds
 * until the breaker admits a probe, rounded up) and a body that never shows
 * internal error details.
 *
 * An error passed to `next()` usually ends as a 500 and so as a failure; to
 * count every such error whatever status your error handler picks, mount
 * `middleware.errorHandler` after your routes.
 *
 * @param breaker - a core `CircuitBreaker` (or anything with its `acquire()`)
 * @param options - failing statuses, rejection status and body
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ timeout: 30_000 });
 * const guard = circuitBreaker(breaker);
 * app.use('/orders', guard, ordersRouter);
 * app.use(guard.errorHandler);
 * ```
 */
export function circuitBreaker(
  breaker: CircuitBreakerLike,
  options?: CircuitBreakerMiddlewareOptions,
): CircuitBreakerMiddleware {
  requireMethod(OWNER, 'breaker', breaker, 'acquire');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, circuitBreakerOptionHints);
  const { isFailureStatus, isFailureError } = breakerPredicates(OWNER, opts);
  const rejection = new Rejection(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.unavailable,
    OWNER,
  );
  const calls = new WeakMap<Request, BreakerCall>();

  const finish = (call: BreakerCall, res: Response, finished: boolean): void => {
    // An error passed to next() (seen by errorHandler), or one the response was destroyed with, is a failure
    // even when the answer never finished: Express drops the connection of a response that had started.
    // Never throws: a throw from a 'close' listener would crash the process.
    reportCall(
      call.permit,
      call.error ?? destroyedWith(res),
      finished,
      res.statusCode,
      isFailureError,
      isFailureStatus,
    );
  };

  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
    let permit: CircuitPermitLike;
    try {
      permit = checkedPermit(OWNER, breaker.acquire());
    } catch (err) {
      if (isCircuitOpenError(err)) {
        rejection.send(req, res, err, retryAfterSeconds(err.retryAfterMs));
      } else {
        next(passableError(OWNER, 'breaker.acquire()', err));
      }
      return;
    }
    const call: BreakerCall = { permit, error: undefined };
    calls.set(req, call);
    onResponseEnd(res, (finished) => finish(call, res, finished));
    next();
  };

  const errorHandler: ErrorRequestHandler = (err: unknown, req: Request, _res: Response, next: NextFunction) => {
    const call = calls.get(req);
    if (call !== undefined && call.error === undefined) call.error = { value: err };
    next(err);
  };

  return Object.assign(middleware, { errorHandler });
}
