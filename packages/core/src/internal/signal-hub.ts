/**
 * Something waiting on a caller's `AbortSignal` through its {@link SignalHub}:
 * a queued bulkhead call, a rate-limit waiter, a pending timeout, a retry's
 * back-off. It carries its own links (initialise both to `null` in the
 * constructor), so joining a hub allocates nothing.
 */
export interface SignalWaiter {
  /** The waiter before this one in its hub, or `null` at the head or when in none. */
  signalPrev: SignalWaiter | null;
  /** The waiter after this one in its hub, or `null` at the tail or when in none. */
  signalNext: SignalWaiter | null;
  /**
   * The signal aborted with `reason`. Called at most once, after the waiter
   * left the hub. It must not throw.
   */
  signalAborted(reason: unknown): void;
}

/**
 * The one `abort` listener the core adds to a caller's signal, however many
 * calls of however many patterns wait on it: it fans the abort out to its
 * waiters, oldest first.
 *
 * Node's `addEventListener` scans a signal's listeners for a duplicate, and a
 * `removeEventListener` during the abort dispatch walks them again, so one
 * listener per call is quadratic in the number of calls sharing a signal
 * (and prints `MaxListenersExceededWarning` from 11 on). Here joining and
 * leaving are O(1) pointer writes. The listener is added when the first
 * waiter joins and removed when the last one leaves (never when the signal
 * has aborted: the dispatch already dropped it). A signal that is used again
 * after its hub emptied (a long-lived one: a worker's, a connection's) keeps
 * its listener until the next turn of the event loop instead, unless a waiter
 * joined again meanwhile: one call after another on it does not pay an
 * `addEventListener` and a `removeEventListener` each, which cost more than
 * the rest of a `Timeout` call, while a signal used once (a request's) is
 * released at once. Either way no listener outlives that turn.
 */
export class SignalHub {
  /** The signal this hub listens to. */
  readonly signal: AbortSignal;
  #head: SignalWaiter | null = null;
  #tail: SignalWaiter | null = null;
  #size = 0;
  #listening = false;
  #sweepQueued = false;
  /** Whether the hub emptied before: a signal used again is kept listened to until the next turn. */
  #reused = false;

  /** @param signal - the signal to listen to (use {@link signalHub} to share one hub per signal) */
  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  /** How many waiters wait on the signal. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds `waiter` (in no hub). On a signal that has already aborted, the
   * waiter is told at once instead (callers check `signal.aborted` first, so
   * this is a safety net, not a path).
   */
  add(waiter: SignalWaiter): void {
    if (!this.#listening) {
      const signal = this.signal;
      if (signal.aborted) {
        waiter.signalAborted(signal.reason);
        return;
      }
      signal.addEventListener('abort', this, { once: true });
      this.#listening = true;
    }
    const tail = this.#tail;
    if (tail === null) this.#head = waiter;
    else tail.signalNext = waiter;
    waiter.signalPrev = tail;
    this.#tail = waiter;
    this.#size++;
  }

  /**
   * Removes `waiter` when it is in this hub (nothing happens when it is in
   * none); the last one out removes the listener, at once the first time and
   * on the next turn of the event loop after that.
   */
  delete(waiter: SignalWaiter): void {
    if (waiter.signalPrev === null && this.#head !== waiter) return;
    this.#unlink(waiter);
    if (this.#size === 0 && this.#listening && !this.#sweepQueued) {
      if (this.#reused) {
        this.#sweepQueued = true;
        queueSweep(this);
      } else {
        // The first time it empties: a signal used once goes at once; one used again will be kept a turn.
        this.#reused = true;
        this.sweep();
      }
    }
  }

  /** The queued removal: drops the listener when the hub is still empty and the signal has not aborted. */
  sweep(): void {
    this.#sweepQueued = false;
    if (this.#size === 0 && this.#listening && !this.signal.aborted) {
      this.#listening = false;
      this.signal.removeEventListener('abort', this);
    }
  }

  /** The abort listener: tells every waiter, oldest first, each after it left the hub. */
  handleEvent(): void {
    // `once` removed the listener; a waiter that leaves during the dispatch is unlinked in O(1).
    this.#listening = false;
    const reason = this.signal.reason;
    for (let waiter = this.#head; waiter !== null; waiter = this.#head) {
      this.#unlink(waiter);
      try {
        waiter.signalAborted(reason);
      } catch (error) {
        // Not expected (waiters must not throw); reported as an EventTarget listener's error is, and the rest are still told.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #unlink(waiter: SignalWaiter): void {
    const prev = waiter.signalPrev;
    const next = waiter.signalNext;
    if (prev === null) this.#head = next;
    else {
      prev.signalNext = next;
      waiter.signalPrev = null;
    }
    if (next === null) this.#tail = prev;
    else {
      next.signalPrev = prev;
      waiter.signalNext = null;
    }
    this.#size--;
  }
}

const hubs = new WeakMap<AbortSignal, SignalHub>();

/** Hubs whose last waiter left during this turn of the event loop. */
let emptied: SignalHub[] = [];
let sweepScheduled = false;
/**
 * How many emptied hubs may wait for the next turn: a loop that never yields a
 * macrotask and uses a fresh signal per call would otherwise hold every one of
 * them until it does. Past this many, they are swept at once.
 */
const MAX_EMPTIED = 1024;

/** Runs on the next turn (an immediate, or a 0 ms timer where there are none), never holding the process. */
const nextTurn: (fn: () => void) => unknown =
  typeof globalThis.setImmediate === 'function'
    ? (fn) => globalThis.setImmediate(fn)
    : (fn) => globalThis.setTimeout(fn, 0);

function sweepNow(): void {
  const hubs = emptied;
  emptied = [];
  for (const hub of hubs) hub.sweep();
}

function sweepEmptied(): void {
  sweepScheduled = false;
  sweepNow();
}

function queueSweep(hub: SignalHub): void {
  emptied.push(hub);
  if (emptied.length >= MAX_EMPTIED) sweepNow();
  if (sweepScheduled) return;
  sweepScheduled = true;
  const handle = nextTurn(sweepEmptied) as { unref?: () => void } | undefined;
  if (typeof handle?.unref === 'function') handle.unref();
}

/**
 * The hub of `signal`, shared by every pattern (created on first use; it
 * lives as long as the signal does and holds no waiter once they all left).
 */
export function signalHub(signal: AbortSignal): SignalHub {
  let hub = hubs.get(signal);
  if (hub === undefined) {
    hub = new SignalHub(signal);
    hubs.set(signal, hub);
  }
  return hub;
}
