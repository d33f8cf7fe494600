import type { BulkheadRejectReason } from '../bulkhead/types.js';
import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/**
 * How an {@link AdaptiveBulkhead} moves its limit:
 * - `'gradient'`: after Netflix's Gradient and Gradient2, reads latency (each
 *   call against the lowest latency seen, which may drift up slowly) and
 *   shrinks the limit as soon as calls queue up, before anything fails;
 * - `'aimd'`: additive increase, multiplicative decrease, which reads
 *   failures (and calls slower than `latencyThreshold`).
 */
export type AdaptiveLimitAlgorithm = 'gradient' | 'aimd';

/** The {@link AdaptiveLimitAlgorithm} values as constants. */
export const AdaptiveLimitAlgorithm: {
  readonly Gradient: 'gradient';
  readonly Aimd: 'aimd';
} = Object.freeze({ Gradient: 'gradient', Aimd: 'aimd' });

/** Configuration of an {@link AdaptiveBulkhead}. */
export interface AdaptiveBulkheadConfig extends ObservabilityOptions {
  /**
   * How the limit follows the dependency.
   * @default 'gradient'
   */
  algorithm?: AdaptiveLimitAlgorithm | undefined;
  /**
   * The limit to start from: a whole number within `[minLimit, maxLimit]`.
   * @default 20 (clamped into `[minLimit, maxLimit]`)
   */
  initialLimit?: number | undefined;
  /**
   * The lowest the limit goes: a whole number >= 1.
   * @default 1
   */
  minLimit?: number | undefined;
  /**
   * The highest the limit goes: a whole number >= `minLimit`.
   * @default 200
   */
  maxLimit?: number | undefined;
  /**
   * How many calls may wait, in FIFO order, when the limit is reached (a whole
   * number >= 0, or `Infinity`); the rest are rejected with a `BulkheadFullError`.
   * @default 0
   */
  maxQueue?: number | undefined;
  /**
   * The longest a call may wait in the queue, in ms (>= 0, or `Infinity`).
   * @default Infinity
   */
  queueTimeout?: number | undefined;
  /**
   * AIMD: the factor a drop multiplies the limit by (> 0 and < 1).
   * @default 0.9
   */
  backoffRatio?: number | undefined;
  /**
   * AIMD: a call slower than this, in ms, counts as a drop (> 0, or `Infinity`).
   * @default 5000
   */
  latencyThreshold?: number | undefined;
  /**
   * Gradient: how much slower than the long-term latency the latest call may
   * be before the limit shrinks (a finite number >= 1).
   * @default 1.5
   */
  tolerance?: number | undefined;
  /**
   * Gradient: the share of each new estimate taken into the limit (> 0 and <= 1);
   * higher reacts faster and wobbles more.
   * @default 0.2
   */
  smoothing?: number | undefined;
  /**
   * Gradient: how much the baseline latency (the lowest seen) may rise per
   * second, compounded (from 0 to 1; 0.02 is 2 %, about doubling in 35 s), so a
   * dependency that got slower for good is followed while a queue is not
   * mistaken for the new normal.
   * @default 0.02
   */
  baselineDrift?: number | undefined;
  /**
   * Whether a failure signals overload (a drop: AIMD backs off). A synchronous
   * predicate; an `async` one is refused at construction.
   * @default every failure is a drop
   */
  isDrop?: ((error: unknown) => boolean) | undefined;
  /**
   * Called each time a call is rejected with a `BulkheadFullError`, with the
   * reason. An exception it throws is logged and ignored.
   * @default none
   */
  onRejected?: ((reason: BulkheadRejectReason) => void) | undefined;
  /**
   * Called when the (whole-number) limit changes, with the new and the old
   * one. An exception it throws is logged and ignored.
   * @default none
   */
  onLimitChange?: ((limit: number, previous: number) => void) | undefined;
  /**
   * Where latency is measured and the queue timeout scheduled.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
