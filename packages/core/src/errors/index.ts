export { type ErrorClass, errorIs, findInChain } from './error-is.js';
export {
  BulkheadFullError,
  CircuitOpenError,
  ErrorCode,
  MaxAttemptsReachedError,
  type MaxAttemptsReachedErrorOptions,
  RateLimitExceededError,
  ResilienceError,
  type ResilienceErrorOptions,
  type RetryAfterErrorOptions,
  TimeoutError,
  type TimeoutErrorOptions,
} from './errors.js';
export {
  isBulkheadFullError,
  isCircuitOpenError,
  isMaxAttemptsReachedError,
  isRateLimitExceededError,
  isResilienceError,
  isTimeoutError,
} from './guards.js';
export { isRetryable, RetryableError, retryable } from './retryable.js';
