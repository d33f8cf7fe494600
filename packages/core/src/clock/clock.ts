/**
 * Where every pattern reads time and schedules its waits. Inject one (for
 * example the `FakeClock` from `@resilience/core/testing`) to drive time in tests.
 *
 * Times are milliseconds on a monotonic scale; only differences matter.
 */
export interface Clock {
  /** The current time in milliseconds (monotonic). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The default clock: `performance.now()` for time and the global timers.
 *
 * Its timers are ordinary (ref'd) ones: each pattern decides with
 * {@link unrefTimer} which of its timers must not keep the process alive (a
 * timeout's watchdog does not; a retry's back-off delay that the caller is
 * awaiting does, like the I/O it stands for).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/**
 * Calls `unref()` on a timer handle when it has one (Node's timers do; a
 * user's clock may return anything) and returns the handle. An `unref`
 * that throws is ignored (the timer then stays held): it never throws.
 */
export function unrefTimer<H>(handle: H): H {
  if (typeof handle === 'object' && handle !== null) {
    try {
      const unref = (handle as { unref?: unknown }).unref;
      if (typeof unref === 'function') unref.call(handle);
    } catch {
      // A user's handle whose unref() throws: the timer stays held, the caller's outcome stays its own.
    }
  }
  return handle;
}
