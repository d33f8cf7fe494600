import type { Clock } from '../clock/clock.js';

/**
 * The longest delay one platform timer holds (2^31 − 1 ms, about 24.8 days).
 * Node fires a longer `setTimeout` after 1 ms (with a `TimeoutOverflowWarning`),
 * so a longer wait is armed in steps of at most this much and re-armed until
 * its time has really come.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The delay to give one platform timer for a wait of `ms`: a `NaN`, negative
 * or zero wait becomes 0 (still a timer, so it yields a macrotask turn), a
 * wait beyond {@link MAX_TIMER_MS} becomes one step of it. A caller whose
 * timer fires before its time (a capped step) re-arms for what is left: never
 * early, and never spinning.
 */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms < MAX_TIMER_MS ? ms : MAX_TIMER_MS;
}

/** Schedules `fn` on `clock` after {@link timerDelay}`(ms)`; returns the clock's handle. */
export function armTimer(clock: Clock, fn: () => void, ms: number): unknown {
  return clock.setTimeout(fn, timerDelay(ms));
}

/**
 * Holds (`ref`) a timer handle when it has that method (Node's timers do; a
 * user's clock may return anything): a timer a call is waiting on is held, so
 * the process cannot exit with the call unsettled. Its counterpart, for a
 * timer no call needs any longer, is `unrefTimer` (in `clock.ts`).
 */
export function refTimer(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null) {
    const ref = (handle as { ref?: unknown }).ref;
    if (typeof ref === 'function') ref.call(handle);
  }
}
