import type { ExecuteOptions, Operation, RateLimitResult } from '@resilience/core';
import { describeValue } from '@resilience/core/validate';

/** Anything with a bulkhead's `execute`: the core's `Bulkhead`, `AdaptiveBulkhead`, a `RedisBulkhead`. */
export interface BulkheadLike {
  /** Runs `fn` in a slot; rejects with a `BulkheadFullError` when none comes. */
  execute<R>(fn: Operation<R>, options?: ExecuteOptions): Promise<R>;
}

/** Validates a `retryAfter` option (ms, or `false`). */
export function retryAfterOption(owner: string, value: unknown): number | undefined {
  if (value === undefined) return 1000;
  if (value === false) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${owner}: retryAfter must be a number of ms >= 0 or false, got ${describeValue(value)}`);
  }
  return value;
}

/** Whether a limiter's answer has the shape of a `RateLimitResult` (a boolean `allowed`). */
export function isResult(value: unknown): value is RateLimitResult {
  return typeof (value as { allowed?: unknown } | null)?.allowed === 'boolean';
}
