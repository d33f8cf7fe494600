import type { Clock } from '../clock/clock.js';
import { neverAbortedSignal } from '../internal/context.js';
import { type SignalHub, type SignalWaiter, signalHub } from '../internal/signal-hub.js';
import { armTimer } from '../internal/timers.js';

/** A pending sleep on a caller's signal: its own node in the signal's hub, and the timer's callback. */
class Sleeper implements SignalWaiter {
  readonly clock: Clock;
  readonly hub: SignalHub;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly wake: () => void;
  handle: unknown = undefined;
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;

  constructor(clock: Clock, hub: SignalHub, resolve: () => void, reject: (reason: unknown) => void) {
    this.clock = clock;
    this.hub = hub;
    this.resolve = resolve;
    this.reject = reject;
    this.wake = () => {
      this.hub.delete(this);
      this.resolve();
    };
  }

  /** The signal aborted: end the sleep at once, clearing the timer. */
  signalAborted(reason: unknown): void {
    this.reject(reason);
    this.clock.clearTimeout(this.handle);
  }
}

/**
 * Waits `ms` on `clock`. Rejects at once with the signal's reason when it
 * aborts, clearing the timer; the sleep leaves the signal's hub either way.
 *
 * Every sleep is a timer, a zero (or `NaN`, or negative) one too: a delay of
 * 0 still yields a macrotask turn, so a retry loop with no delay cannot starve
 * timers, I/O or abort signals, and a fake clock drives it like any other.
 * The timer is an ordinary (ref'd) one: a caller is awaiting this delay, and
 * a script must not exit in the middle of a back-off with its call unsettled.
 * Calls sharing a caller's signal share one listener on it.
 */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    if (signal === neverAbortedSignal) {
      armTimer(clock, resolve, ms);
      return;
    }
    const sleeper = new Sleeper(clock, signalHub(signal), resolve, reject);
    sleeper.handle = armTimer(clock, sleeper.wake, ms);
    sleeper.hub.add(sleeper);
  });
}
