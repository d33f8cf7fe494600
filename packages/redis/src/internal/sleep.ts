import type { Clock } from '@resilience/core';

/** One caller sleeping until its timer fires or its signal aborts. */
class Sleeper {
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
    if (this.signal !== undefined) leave(this.signal, this);
    this.resolve();
  };
}

/**
 * The sleepers of each caller signal. One abort listener per signal fans out
 * to all of them, so many calls sharing one signal cost linear time and never
 * trigger `MaxListenersExceededWarning`.
 */
const bySignal = new WeakMap<AbortSignal, Set<Sleeper>>();

function onAbort(this: AbortSignal): void {
  const sleepers = bySignal.get(this);
  bySignal.delete(this);
  if (sleepers === undefined) return;
  for (const sleeper of sleepers) {
    sleeper.clock.clearTimeout(sleeper.timer);
    sleeper.reject(this.reason);
  }
}

function leave(signal: AbortSignal, sleeper: Sleeper): void {
  const sleepers = bySignal.get(signal);
  if (sleepers === undefined) return;
  sleepers.delete(sleeper);
  if (sleepers.size === 0) {
    bySignal.delete(signal);
    signal.removeEventListener('abort', onAbort);
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
    if (signal !== undefined) {
      let sleepers = bySignal.get(signal);
      if (sleepers === undefined) {
        sleepers = new Set();
        bySignal.set(signal, sleepers);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      sleepers.add(sleeper);
    }
    sleeper.timer = clock.setTimeout(sleeper.wake, ms);
  });
}
