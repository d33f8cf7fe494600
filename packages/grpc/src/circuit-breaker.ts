import { InterceptingCall, type Interceptor, status as Status, type StatusObject } from '@grpc/grpc-js';
import { isCircuitOpenError } from '@resilience/core';
import { requireMethod } from '@resilience/core/validate';
import { type Guard, GuardedCall } from './internal/guarded-call.js';
import { codesOption, hasCode, optionsObject } from './internal/options.js';
import { generatedReason, rejectionStatus, waitText } from './internal/status.js';
import { GrpcStatusError } from './status-error.js';
import type { CircuitBreakerInterceptorOptions } from './types.js';

const OWNER = 'circuitBreakerInterceptor';

/** The codes a breaker counts as failures unless told otherwise: the dependency is down, slow or broken. */
export const DEFAULT_FAILURE_CODES: readonly Status[] = Object.freeze([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
  Status.UNKNOWN,
  Status.DATA_LOSS,
]);

/**
 * The permit of one admitted call, as the interceptor reports on it: the
 * core's `CircuitPermit` (`cancel()` where the core has it).
 */
export interface CircuitPermitLike {
  /** The call succeeded. */
  success(): void;
  /** The call failed with `error`. */
  failure(error?: unknown): void;
  /** The call counts as neither. */
  ignore(): void;
  /** The caller gave up: neither, reported as a cancellation. Without it, `ignore()` is used. */
  cancel?(): void;
}

/** What the interceptor needs of a breaker: the two-step API of the core's `CircuitBreaker`. */
export interface CircuitBreakerLike {
  /** Admits one call and returns its permit, or throws a `CircuitOpenError`. */
  acquire(): CircuitPermitLike;
}

class BreakerGuard implements Guard {
  readonly #breaker: CircuitBreakerLike;
  readonly #failures: readonly boolean[];

  constructor(breaker: CircuitBreakerLike, failures: readonly boolean[]) {
    this.#breaker = breaker;
    this.#failures = failures;
  }

  admit(call: GuardedCall): void {
    let permit: CircuitPermitLike;
    try {
      permit = this.#breaker.acquire();
    } catch (err) {
      call.reject(rejection(err, call.method));
      return;
    }
    call.token = permit;
    call.proceed();
  }

  settle(call: GuardedCall, status: StatusObject): void {
    const permit = call.token as CircuitPermitLike;
    if (call.cancelled) {
      // A core whose permits know cancellations reports it as one (metrics outcome `cancelled`); else it is ignored.
      if (typeof permit.cancel === 'function') permit.cancel();
      else permit.ignore();
    } else if (generatedReason(status) !== undefined) permit.ignore();
    else if (hasCode(this.#failures, status.code)) permit.failure(new GrpcStatusError(status));
    else permit.success();
  }
}

function rejection(err: unknown, method: string): StatusObject {
  if (isCircuitOpenError(err)) {
    const wait = (err as { retryAfterMs?: number }).retryAfterMs;
    return rejectionStatus(
      Status.UNAVAILABLE,
      `Circuit breaker open: ${method} rejected locally without a call${waitText(wait)}`,
      'circuit-open',
      wait,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return rejectionStatus(Status.UNKNOWN, `Circuit breaker failed to admit ${method}: ${message}`, 'circuit-open');
}

/**
 * A client interceptor that runs every call (unary and streaming) through a
 * circuit breaker. The call is admitted when it starts; its outcome is its
 * final status:
 * - a code in `failureCodes` is a failure (passed to the breaker as a
 *   {@link GrpcStatusError}, so its `handle` classifier (or `isSuccessful`)
 *   and `isIgnored` apply);
 * - any other code is a success: the dependency answered;
 * - a call the client cancelled (`call.cancel()`), and a status another of
 *   our interceptors generated (a full bulkhead, a rate limit), count as
 *   neither: the breaker's slot is freed.
 *
 * While the breaker is open the call never reaches the network: it ends with
 * `UNAVAILABLE`, details saying the circuit is open, and trailing metadata
 * `resilience-rejection: circuit-open` and `grpc-retry-pushback-ms` (when the
 * breaker will be half-open again). `retryInterceptor` does not retry it.
 *
 * @param breaker - a core `CircuitBreaker` (anything with its `acquire()`)
 * @param options - which status codes are failures
 * @returns a grpc-js client interceptor
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ timeout: 10_000 });
 * const client = new Greeter('localhost:50051', credentials.createInsecure(), {
 *   interceptors: [circuitBreakerInterceptor(breaker)],
 * });
 * ```
 */
export function circuitBreakerInterceptor(
  breaker: CircuitBreakerLike,
  options?: CircuitBreakerInterceptorOptions,
): Interceptor {
  requireMethod(OWNER, 'breaker', breaker, 'acquire');
  const opts = optionsObject(OWNER, options, ['failureCodes'], {
    isSuccessful: 'set isSuccessful on the CircuitBreaker; it receives a GrpcStatusError',
    handle: 'set handle on the CircuitBreaker; its classifier receives a GrpcStatusError',
  });
  const guard = new BreakerGuard(breaker, codesOption(OWNER, 'failureCodes', opts.failureCodes, DEFAULT_FAILURE_CODES));
  return (callOptions, nextCall) => new InterceptingCall(new GuardedCall(callOptions, nextCall, guard));
}
