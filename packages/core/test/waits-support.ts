/**
 * Helpers for the tests of waits, timers and signals. Test-only: this module
 * is not part of the published package.
 */
import { getEventListeners } from 'node:events';
import type { Clock } from '../src/clock/clock.js';

/** Thirty days in milliseconds: longer than one platform timer holds (2^31 − 1 ms). */
export const THIRTY_DAYS: number = 30 * 24 * 60 * 60 * 1000;

/**
 * Collects the process warnings (`MaxListenersExceededWarning`,
 * `TimeoutOverflowWarning`, …) emitted until `stop()`, which waits a turn so
 * that warnings emitted on the next tick count too.
 */
export function captureWarnings(): { warnings: Error[]; stop(): Promise<Error[]> } {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  return {
    warnings,
    async stop() {
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
      return warnings;
    },
  };
}

/** A clock that delegates to `base` and counts the timers it was asked for, with their delays. */
export function countingClock(base: Clock): Clock & { delays: number[]; handles: unknown[] } {
  const delays: number[] = [];
  const handles: unknown[] = [];
  return {
    delays,
    handles,
    now: () => base.now(),
    setTimeout: (fn: () => void, ms: number) => {
      delays.push(ms);
      const handle = base.setTimeout(fn, ms);
      handles.push(handle);
      return handle;
    },
    clearTimeout: (handle: unknown) => base.clearTimeout(handle),
  };
}

/** Whether a Node timer handle is held (ref'd); `undefined` for anything else. */
export function isHeld(handle: unknown): boolean | undefined {
  const hasRef = (handle as { hasRef?: () => boolean } | undefined)?.hasRef;
  return typeof hasRef === 'function' ? hasRef.call(handle) : undefined;
}

/** Lets timers, I/O and immediates of the real event loop run for `ms` milliseconds. */
export function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How many `abort` listeners `signal` has once the event loop turned: the core
 * removes its one listener on a signal on the turn after the last call
 * waiting on it settled.
 */
export async function listenersAfterTurn(signal: AbortSignal): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return getEventListeners(signal, 'abort').length;
}
