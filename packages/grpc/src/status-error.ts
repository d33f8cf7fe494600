import type { Metadata, StatusObject, status } from '@grpc/grpc-js';
import { codeName } from './internal/status.js';

/**
 * A call's final status as an `Error`: what the circuit breaker's `handle`
 * classifier (or `isSuccessful`) and `isIgnored` and the retry's receive for
 * a call that ended with a status counted as a failure. It has the fields of
 * grpc-js's `ServiceError` (`code`, `details`, `metadata`) so the same checks
 * work on both.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({
 *   // with RESOURCE_EXHAUSTED in failureCodes: one caller's quota, not the server failing
 *   handle: handleWhen((err) => !(err instanceof GrpcStatusError && err.code === status.RESOURCE_EXHAUSTED)),
 * });
 * ```
 */
export class GrpcStatusError extends Error {
  /** The status code. */
  readonly code: status;
  /** The status details string. */
  readonly details: string;
  /** The trailing metadata. */
  readonly metadata: Metadata;
  /** The server's `grpc-retry-pushback-ms`, when it sent a valid one (a `Retry` waits that long). */
  readonly retryAfterMs: number | undefined;
  /** The status itself, as grpc-js delivered it. */
  readonly status: StatusObject;

  /**
   * @param statusObject - the final status of the call
   * @param retryAfterMs - the pushback, when one is known
   */
  constructor(statusObject: StatusObject, retryAfterMs?: number) {
    super(`${statusObject.code} ${codeName(statusObject.code)}: ${statusObject.details}`);
    this.name = 'GrpcStatusError';
    this.code = statusObject.code;
    this.details = statusObject.details;
    this.metadata = statusObject.metadata;
    this.retryAfterMs = retryAfterMs;
    this.status = statusObject;
  }
}
