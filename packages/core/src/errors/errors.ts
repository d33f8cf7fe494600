/**
 * The stable codes carried by every error the resilience patterns raise.
 *
 * Guards compare `code` rather than using `instanceof`, so two installed copies
 * of `@resilience/core` still recognise each other's errors.
 */
export const ErrorCode = {
  CircuitOpen: 'ERR_CIRCUIT_OPEN',
  RateLimitExceeded: 'ERR_RATE_LIMIT_EXCEEDED',
  BulkheadFull: 'ERR_BULKHEAD_FULL',
  Timeout: 'ERR_TIMEOUT',
  MaxAttemptsReached: 'ERR_MAX_ATTEMPTS_REACHED',
  /** Carried by errors marked with `retryable()`. */
  Retryable: 'ERR_RETRYABLE',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options accepted by every resilience error: the standard `cause` and a message override. */
export interface ResilienceErrorOptions extends ErrorOptions {
  /** Replaces the default message. */
  message?: string;
}

/**
 * Base class of every error raised by a resilience pattern.
 *
 * @example
 * ```ts
 * try { await breaker.execute(call); }
 * catch (err) { if (isResilienceError(err)) log.warn({ code: err.code }, 'rejected'); }
 * ```
 */
export class ResilienceError extends Error {
  /** A stable, machine-readable code such as `ERR_CIRCUIT_OPEN`. */
  readonly code: string;

  /**
   * @param code - the stable code
   * @param message - the human-readable message
   * @param options - the standard `cause`
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Options of a rejection that can tell the caller when to try again. */
export interface RetryAfterErrorOptions extends ResilienceErrorOptions {
  /** Milliseconds until a new call may be admitted, when known. */
  retryAfterMs?: number | undefined;
}

/** Rejected without running the work because the circuit breaker is open (or half-open and full). */
export class CircuitOpenError extends ResilienceError {
  /** Milliseconds until the breaker will admit a probe, when known. */
  readonly retryAfterMs: number | undefined;

  /** @param options - `retryAfterMs`, `cause` and an optional message */
  constructor(options: RetryAfterErrorOptions = {}) {
    super(ErrorCode.CircuitOpen, options.message ?? 'Circuit breaker is open', options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Rejected because the rate limit has no tokens left for this call. */
export class RateLimitExceededError extends ResilienceError {
  /** Milliseconds until enough tokens will exist, when known. */
  readonly retryAfterMs: number | undefined;

  /** @param options - `retryAfterMs`, `cause` and an optional message */
  constructor(options: RetryAfterErrorOptions = {}) {
    super(ErrorCode.RateLimitExceeded, options.message ?? 'Rate limit exceeded', options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Rejected because the bulkhead has no free slot and no room (or no time) in its queue. */
export class BulkheadFullError extends ResilienceError {
  /** @param options - `cause` and an optional message */
  constructor(options: ResilienceErrorOptions = {}) {
    super(ErrorCode.BulkheadFull, options.message ?? 'Bulkhead is full', options);
  }
}

/** Options of a {@link TimeoutError}. */
export interface TimeoutErrorOptions extends ResilienceErrorOptions {
  /** The time limit that ran out, in milliseconds. */
  timeoutMs: number;
}

/**
 * The work did not finish in time. Its `name` is `"TimeoutError"`, like the DOM's.
 */
export class TimeoutError extends ResilienceError {
  /** The time limit that ran out, in milliseconds. */
  readonly timeoutMs: number;

  /** @param options - `timeoutMs`, `cause` and an optional message */
  constructor(options: TimeoutErrorOptions) {
    super(ErrorCode.Timeout, options.message ?? `Operation timed out after ${options.timeoutMs} ms`, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/** Options of a {@link MaxAttemptsReachedError}. */
export interface MaxAttemptsReachedErrorOptions extends ResilienceErrorOptions {
  /** How many attempts ran. */
  attempts: number;
}

/** Every attempt of a retry failed; `cause` is the last attempt's error. */
export class MaxAttemptsReachedError extends ResilienceError {
  /** How many attempts ran. */
  readonly attempts: number;

  /** @param options - `attempts`, the last error as `cause`, and an optional message */
  constructor(options: MaxAttemptsReachedErrorOptions) {
    super(
      ErrorCode.MaxAttemptsReached,
      options.message ?? `Gave up after ${options.attempts} attempt${options.attempts === 1 ? '' : 's'}`,
      options,
    );
    this.attempts = options.attempts;
  }
}
