import { isCircuitOpenError } from '@resilience/core';
import { configObject, requireMethod } from '@resilience/core/validate';
import {
  breakerPredicates,
  type CircuitPermitLike,
  checkedPermit,
  circuitBreakerOptionHints,
  defaultBodies,
  onResponseEnd,
  passableError,
  Rejection,
  rejectUnknownOptions,
  reportCall,
  retryAfterSeconds,
  statusOption,
} from '@resilience/http';
import type {
  FastifyReply,
  FastifyRequest,
  onErrorHookHandler,
  onRequestHookHandler,
  onResponseHookHandler,
} from 'fastify';
import { asPlugin } from './internal/plugin.js';
import { sendRejection } from './internal/reply.js';
import type { CircuitBreakerLike, CircuitBreakerOptions, ResiliencePlugin } from './types.js';

const OWNER = 'circuitBreaker';
const OPTIONS = ['failureStatuses', 'isFailureError', 'statusCode', 'body'] as const;

/** The state of one admitted request, reported once. */
interface BreakerCall {
  readonly permit: CircuitPermitLike;
  /** The error the request failed with (from `onError`), boxed so `undefined` can be an error too. */
  error: { readonly value: unknown } | undefined;
  reported: boolean;
}

/** The error the server destroyed the response with, boxed; a client's disconnect leaves none. */
function destroyedWith(reply: FastifyReply): { readonly value: unknown } | undefined {
  const errored = (reply.raw as { errored?: unknown }).errored;
  return errored === undefined || errored === null ? undefined : { value: errored };
}

/**
 * Guards routes with a circuit breaker. Each request is one call: admitted
 * with `breaker.acquire()` in `onRequest` and reported when its answer is
 * sent (`onResponse`): a failing status (5xx by default) is a failure, any
 * other a success. An error the request failed with (Fastify's `onError`,
 * which runs before your error handler picks a status) or one the response
 * was destroyed with is a failure whatever the status. A client that
 * disconnects before the answer is finished is neither (the call is
 * ignored, so a half-open probe slot is freed). While the breaker rejects,
 * the answer is 503 with `Retry-After` (seconds until a probe is admitted)
 * and a body that never shows internal error details.
 *
 * @param breaker - a core `CircuitBreaker` (or anything with its `acquire()`)
 * @param options - failing statuses and errors, rejection status and body
 * @example
 * ```ts
 * await app.register(circuitBreaker(new CircuitBreaker({ timeout: 30_000 })));
 * // or on one route: app.get('/orders', { ...circuitBreaker(breaker).hooks }, handler)
 * ```
 */
export function circuitBreaker(breaker: CircuitBreakerLike, options?: CircuitBreakerOptions): ResiliencePlugin {
  requireMethod(OWNER, 'breaker', breaker, 'acquire');
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, circuitBreakerOptionHints);
  const { isFailureStatus, isFailureError } = breakerPredicates(OWNER, opts);
  const rejection = new Rejection<FastifyRequest>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.unavailable,
    OWNER,
  );
  const calls = new WeakMap<FastifyRequest, BreakerCall>();

  const finish = (call: BreakerCall, reply: FastifyReply, finished: boolean): void => {
    if (call.reported) return;
    call.reported = true;
    // Never throws: a throw from a 'close' listener would crash the process.
    const error = call.error ?? destroyedWith(reply);
    reportCall(call.permit, error, finished, reply.statusCode, isFailureError, isFailureStatus);
  };

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    let permit: CircuitPermitLike;
    try {
      permit = checkedPermit(OWNER, breaker.acquire());
    } catch (err) {
      if (isCircuitOpenError(err)) sendRejection(rejection, request, reply, err, retryAfterSeconds(err.retryAfterMs));
      else done(passableError(OWNER, 'breaker.acquire()', err) as Error);
      return;
    }
    const call: BreakerCall = { permit, error: undefined, reported: false };
    calls.set(request, call);
    // onResponse reports a finished answer; a connection closed first (the client gone) is reported here.
    onResponseEnd(reply.raw, (finished) => {
      if (!finished) finish(call, reply, false);
    });
    done();
  };

  const onResponse: onResponseHookHandler = (request, reply, done) => {
    const call = calls.get(request);
    if (call !== undefined) finish(call, reply, reply.raw.writableFinished || destroyedWith(reply) === undefined);
    done();
  };

  const onError: onErrorHookHandler = (request, _reply, error, done) => {
    const call = calls.get(request);
    if (call !== undefined && call.error === undefined) call.error = { value: error };
    done();
  };

  return asPlugin(OWNER, { onRequest, onResponse, onError });
}
