import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions } from '../context.js';
import type { ObservabilityOptions } from '../observability/types.js';

/** Options of a `Timeout`. */
export interface TimeoutConfig extends ObservabilityOptions {
  /**
   * The time limit of each call in milliseconds (> 0, or `Infinity` to rely on
   * the caller's deadline alone). A call can pass its own `timeout`.
   * @default 30000
   */
  defaultTimeout?: number;
  /**
   * Called when a call runs out of time (also when it had no time left to
   * start), with that call's limit in milliseconds. An exception it throws is
   * logged and ignored.
   * @default none
   */
  onTimeout?: (timeoutMs: number) => void;
  /**
   * Where time comes from and the timer is scheduled. Deadlines
   * (`ctx.deadline`) are times of this clock, so nested patterns should share it.
   * @default systemClock
   */
  clock?: Clock;
}

/** Per-call options of `Timeout.execute`. */
export interface TimeoutExecuteOptions extends ExecuteOptions {
  /**
   * This call's limit in milliseconds (>= 0, or `Infinity`), instead of the
   * `defaultTimeout`. The caller's `deadline` still wins when it is earlier.
   * @default the Timeout's defaultTimeout
   */
  readonly timeout?: number | undefined;
}
