import type { Clock } from '@resilience/core';
import { type AbortMember, subscribe, unsubscribe } from './abort-fanout.js';

/** One caller sleeping until its timer fires or its signal aborts. */
class Sleeper implements AbortMember {
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  timer: unknown = undefined;

  constructor(resolve: () => void, reject: (reason: unknown) => void, signal: AbortSignal | undefined, clock: Clock) {
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
    this.clock = clock;
  }

  /** The timer's callback. */
  readonly wake = (): void => {
    if (this.signal !== undefined) unsubscribe(this.signal, this);
    this.resolve();
  };

  aborted(reason: unknown): void {
    this.clock.clearTimeout(this.timer);
    this.reject(reason);
  }
}

/**
 * Resolves after `ms` on `clock` (a ref'd timer: the caller is waiting), or
 * rejects with the signal's reason as soon as it aborts; nothing is left
 * behind either way.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, clock: Clock): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const sleeper = new Sleeper(resolve, reject, signal, clock);
    if (signal !== undefined) subscribe(signal, sleeper);
    sleeper.timer = clock.setTimeout(sleeper.wake, ms);
  });
}
