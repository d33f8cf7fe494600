import type { Clock } from '../clock/clock.js';
import { IntrusiveList } from '../internal/intrusive-list.js';
import { signalHub } from '../internal/signal-hub.js';
import { armTimer, clearTimer } from '../internal/timers.js';
import { QueuedWaiter } from '../internal/waiter.js';
import type { Algorithm, KeyState } from './key-state.js';

/** A caller of `wait` queued on a key: its own node in the key's queue and in its signal's hub ({@link QueuedWaiter}). */
export class RateWaiter extends QueuedWaiter<RateWaiter, void> {
  /** The tokens it waits for. */
  readonly tokens: number;
  /** The key it waits on. */
  readonly state: KeyState;
  /** The scheduler serving it. */
  readonly scheduler: WaitScheduler;

  constructor(
    tokens: number,
    resolve: () => void,
    reject: (reason: unknown) => void,
    state: KeyState,
    scheduler: WaitScheduler,
  ) {
    super(resolve, reject);
    this.tokens = tokens;
    this.state = state;
    this.scheduler = scheduler;
  }

  /** The signal aborted: leave the queue and reject with its reason. */
  signalAborted(reason: unknown): void {
    this.scheduler.abort(this, reason);
  }
}

/** The FIFO queue of one key's waiters, with the one timer that wakes its head. */
export class WaitQueue {
  /** The waiters, oldest first. */
  readonly list: IntrusiveList<RateWaiter> = new IntrusiveList<RateWaiter>();
  /** The sum of the waiters' tokens. */
  tokens = 0;
  /** The pending wake-up timer's handle (one is pending while the queue has waiters). */
  timer: unknown = undefined;
  /** Serves the queue (the timer's callback), bound once per queue. */
  readonly wake: () => void;

  /** @param wake - serves the queue */
  constructor(wake: () => void) {
    this.wake = wake;
  }
}

/**
 * Serves the waiters of a limiter's keys: in order, each as soon as its tokens
 * exist (never before), with one timer per key that has waiters and none for
 * the others. That timer is an ordinary (held) one, since callers wait on it,
 * cleared when the key's queue empties; a wait beyond what one platform timer
 * holds (a monthly quota) is armed in steps, an early step serving nobody and
 * re-arming for the rest. Waiters sharing a caller's signal share one
 * listener on it ({@link signalHub}).
 */
export class WaitScheduler {
  #algorithm: Algorithm;
  readonly #clock: Clock;

  /**
   * @param algorithm - the limiter's algorithm
   * @param clock - the limiter's clock
   */
  constructor(algorithm: Algorithm, clock: Clock) {
    this.#algorithm = algorithm;
    this.#clock = clock;
  }

  /** Queues a caller for `tokens` of `state`; resolves once they are taken. */
  enqueue(state: KeyState, tokens: number, signal: AbortSignal | undefined, now: number): Promise<void> {
    let queue = state.waiters;
    if (queue === null) {
      const fresh: WaitQueue = new WaitQueue(() => this.#serve(state, fresh));
      queue = fresh;
      state.waiters = queue;
    }
    const q = queue;
    return new Promise<void>((resolve, reject) => {
      // A signal that is no AbortSignal throws here, before anything is queued.
      const hub = signal === undefined ? null : signalHub(signal);
      const waiter = new RateWaiter(tokens, resolve, reject, state, this);
      q.list.push(waiter);
      q.tokens += tokens;
      if (hub !== null) waiter.listen(hub);
      if (q.list.size === 1) this.#arm(state, q, now);
    });
  }

  /** Takes an aborted waiter out of its queue, giving back its place. */
  abort(waiter: RateWaiter, reason: unknown): void {
    // A waiter leaves its hub when it is served, so it is still queued here.
    const queue = waiter.state.waiters as WaitQueue;
    const wasHead = queue.list.first === waiter;
    queue.list.remove(waiter);
    queue.tokens -= waiter.tokens;
    waiter.reject(reason);
    if (wasHead) {
      // The head always has a wake-up armed: move it to the new head. A clock whose clearTimeout
      // throws leaves the old timer armed: it serves whoever is due when it fires, or nobody.
      clearTimer(this.#clock, queue.timer);
      this.#arm(waiter.state, queue, this.#clock.now());
    }
  }

  /** Serves the head of the queue, and those behind it, while their tokens exist. */
  #serve(state: KeyState, queue: WaitQueue): void {
    // A timer of a queue that was dropped meanwhile (its clock failed to clear it) serves nobody.
    if (state.waiters !== queue) return;
    queue.timer = undefined;
    const now = this.#clock.now();
    for (let head = queue.list.first; head !== null; head = queue.list.first) {
      if (!this.#algorithm.take(state, head.tokens, now)) break;
      queue.list.shift();
      queue.tokens -= head.tokens;
      head.unlisten();
      head.resolve();
    }
    this.#arm(state, queue, now);
  }

  /** Arms the timer for the head's tokens; forgets the queue when it is empty. */
  #arm(state: KeyState, queue: WaitQueue, now: number): void {
    const head = queue.list.first;
    if (head === null) {
      queue.timer = undefined;
      state.waiters = null;
      queue.tokens = 0;
      return;
    }
    // An ordinary timer: it is the pending part of a call someone awaits (cleared when the queue empties).
    try {
      queue.timer = armTimer(this.#clock, queue.wake, this.#algorithm.delay(state, head.tokens, now));
    } catch (err) {
      // The clock cannot wake the queue: every waiter of the key leaves with its error, keeping nothing.
      this.#dropAll(state, queue, err);
    }
  }

  /** Rejects every waiter of `queue` with `reason` and forgets the queue. */
  #dropAll(state: KeyState, queue: WaitQueue, reason: unknown): void {
    queue.timer = undefined;
    state.waiters = null;
    queue.tokens = 0;
    for (let head = queue.list.shift(); head !== null; head = queue.list.shift()) {
      head.unlisten();
      head.reject(reason);
    }
  }

  /** Switches to `algorithm` (a limiter's `update()`): armed wake-ups keep their time, then serve by the new one. */
  retune(algorithm: Algorithm): void {
    this.#algorithm = algorithm;
  }
}
