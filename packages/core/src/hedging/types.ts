import type { Classifier } from '../classify/classifier.js';
import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/** Configuration of a {@link Hedging} policy. */
export interface HedgingConfig<T = unknown> extends ObservabilityOptions {
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
   * Which outcomes of an attempt are failures worth hedging past: a
   * classifier from `handle()`, `handleWhen()`, `handleAll()` or
   * `handleResult()`, the same value a `CircuitBreaker`, a `Retry` or a
   * `Fallback` takes. A handled error, or a handled returned value (a 503
   * response, say), does not end the call: the other attempts go on (and,
   * with `hedgeOnFailure`, the next starts at once). A thrown value it does
   * not handle is final: the call rejects with it at once and the other
   * attempts are aborted, as after a success. When every attempt ends in a
   * handled outcome, the call settles with the last one (rejects with an
   * error, resolves with a value).
   *
   * A predicate of the classifier that throws or returns a promise is logged
   * and counts as "not handled" (a thrown value is then final, a returned
   * value wins).
   * @default every thrown value is handled, no returned value is
   */
  handle?: Classifier<T> | undefined;
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
