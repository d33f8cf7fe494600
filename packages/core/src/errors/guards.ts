import {
  type BulkheadFullError,
  type CircuitOpenError,
  ErrorCode,
  type MaxAttemptsReachedError,
  type RateLimitExceededError,
  type ResilienceError,
  type TimeoutError,
} from './errors.js';

/** The `code` of an `Error`, or `undefined`; a `code` getter (or a proxy) that throws counts as none. */
function codeOf(err: unknown): unknown {
  try {
    return err instanceof Error ? (err as { code?: unknown }).code : undefined;
  } catch {
    return undefined;
  }
}

function hasCode(err: unknown, code: string): boolean {
  return codeOf(err) === code;
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True for any error raised by a resilience pattern, from this copy of the core or another. */
export function isResilienceError(err: unknown): err is ResilienceError {
  return knownCodes.has(codeOf(err) as string);
}

/** True when `err` is a {@link CircuitOpenError} (checked by `code`). */
export function isCircuitOpenError(err: unknown): err is CircuitOpenError {
  return hasCode(err, ErrorCode.CircuitOpen);
}

/** True when `err` is a {@link RateLimitExceededError} (checked by `code`). */
export function isRateLimitExceededError(err: unknown): err is RateLimitExceededError {
  return hasCode(err, ErrorCode.RateLimitExceeded);
}

/** True when `err` is a {@link BulkheadFullError} (checked by `code`). */
export function isBulkheadFullError(err: unknown): err is BulkheadFullError {
  return hasCode(err, ErrorCode.BulkheadFull);
}

/** True when `err` is a {@link TimeoutError} (checked by `code`). */
export function isTimeoutError(err: unknown): err is TimeoutError {
  return hasCode(err, ErrorCode.Timeout);
}

/** True when `err` is a {@link MaxAttemptsReachedError} (checked by `code`). */
export function isMaxAttemptsReachedError(err: unknown): err is MaxAttemptsReachedError {
  return hasCode(err, ErrorCode.MaxAttemptsReached);
}
