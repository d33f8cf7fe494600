import { findInChain } from './error-is.js';
import { ErrorCode, ResilienceError } from './errors.js';

/**
 * An error explicitly marked as retryable by {@link retryable}; the original
 * failure is its `cause`. Recognised by its `code`, `ERR_RETRYABLE`.
 */
export class RetryableError extends ResilienceError {
  /** @param cause - the original failure */
  constructor(cause: unknown) {
    super(ErrorCode.Retryable, cause instanceof Error ? cause.message : `Retryable failure: ${String(cause)}`, {
      cause,
    });
  }
}

/**
 * Marks a failure as retryable: returns an error whose `cause` is `err`.
 * A `Retry` retries it even when its classifiers would not (non-retryable
 * classifiers still win).
 *
 * @example
 * ```ts
 * if (res.status === 503) throw retryable(new HttpError(res));
 * ```
 */
export function retryable(err: unknown): RetryableError {
  return new RetryableError(err);
}

function isMarked(candidate: unknown): boolean {
  return candidate instanceof Error && (candidate as { code?: unknown }).code === ErrorCode.Retryable;
}

/** True when `err` or any error in its `cause` chain was marked with {@link retryable}. */
export function isRetryable(err: unknown): boolean {
  return findInChain(err, isMarked) !== undefined;
}
