import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/** Configuration of a {@link Hedging} policy. */
export interface HedgingConfig extends ObservabilityOptions {
  /**
   * How long an attempt may go without settling before the next one starts,
   * in ms (>= 0, or `Infinity` to hedge only on failures). Pick it near the
   * dependency's p90–p99 latency: lower hedges more calls (more extra load).
   * Required.
   */
  delay: number;
  /**
   * How many extra attempts may start (a whole number from 0 to 100), so a
   * call makes at most `1 + maxHedges` attempts.
   * @default 1
   */
  maxHedges?: number | undefined;
  /**
   * Whether an attempt that fails starts the next one at once (while hedges
   * remain) instead of waiting for the delay. Without it hedging is for
   * slowness only: the call rejects as soon as every attempt started so far
   * has failed (use a `Retry` for failures).
   * @default false
   */
  hedgeOnFailure?: boolean | undefined;
  /**
   * Called when a hedge starts, with its attempt number (2 for the first
   * hedge). An exception it throws, or a rejected promise it returns, is
   * logged and ignored.
   * @default none
   */
  onHedge?: ((attempt: number) => void) | undefined;
  /**
   * Where the hedging delay reads time and schedules its timer.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
