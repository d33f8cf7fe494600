import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/**
 * Why a bulkhead turned a call away: `'full'` when every slot was busy and the
 * queue had no room, `'queue-timeout'` when the call waited `queueTimeout` ms
 * in the queue without getting a slot.
 */
export type BulkheadRejectReason = 'full' | 'queue-timeout';

/** Configuration of a {@link Bulkhead}. */
export interface BulkheadConfig extends ObservabilityOptions {
  /**
   * How many calls may run at once: a whole number >= 1. Required.
   */
  maxConcurrent: number;
  /**
   * How many calls may wait, in FIFO order, for a slot when all are busy: a
   * whole number >= 0, or `Infinity`. Calls beyond it are rejected at once
   * with a `BulkheadFullError`.
   * @default 0
   */
  maxQueue?: number | undefined;
  /**
   * The longest a call may wait in the queue, in ms (>= 0, or `Infinity`);
   * then it is rejected with a `BulkheadFullError`. All waiters share the
   * duration, so they expire in arrival order and one timer serves the queue.
   * @default Infinity (wait as long as it takes)
   */
  queueTimeout?: number | undefined;
  /**
   * Called each time a call is rejected with a `BulkheadFullError`, with the
   * reason. An exception it throws is logged and ignored.
   * @default none
   */
  onRejected?: ((reason: BulkheadRejectReason) => void) | undefined;
  /**
   * Where the queue timeout reads time and schedules its timer.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
