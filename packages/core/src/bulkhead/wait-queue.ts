import type { Clock } from '../clock/clock.js';
import type { ExecutionContext, Operation } from '../context.js';
import { canAbort } from '../internal/context.js';
import { IntrusiveList } from '../internal/intrusive-list.js';
import { isAbortSignal, notASignal, type SignalHub, signalHub } from '../internal/signal-hub.js';
import { armTimer, clearTimer } from '../internal/timers.js';
import { QueuedWaiter } from '../internal/waiter.js';

/**
 * A call waiting for a slot (internal): a node of its queue and of its
 * caller's signal hub at once ({@link QueuedWaiter}), so waiting allocates
 * nothing else. When its caller's signal aborts, it leaves the queue with the
 * signal's reason.
 */
export class Waiter extends QueuedWaiter<Waiter, unknown> {
  /** The work to run once a slot is handed over. */
  readonly fn: Operation<unknown>;
  /** The context the work gets. */
  readonly ctx: ExecutionContext;
  /** When its wait ends (0: never); set again when `update()` bounds a queue that was unbounded. */
  expiresAt: number;
  /** The queue it waits in. */
  readonly queue: WaitQueue<WaitQueueOwner>;

  constructor(
    fn: Operation<unknown>,
    ctx: ExecutionContext,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    expiresAt: number,
    queue: WaitQueue<WaitQueueOwner>,
  ) {
    super(resolve, reject);
    this.fn = fn;
    this.ctx = ctx;
    this.expiresAt = expiresAt;
    this.queue = queue;
  }

  /** The caller's signal aborted while queued: leave with its reason. */
  signalAborted(reason: unknown): void {
    this.queue.leave(this, reason);
  }
}

/** What a {@link WaitQueue} asks of the pattern that owns it. */
export interface WaitQueueOwner {
  /** The longest a call may wait, in ms (`Infinity`: no limit); read live, so `update()` applies. */
  readonly queueTimeout: number;
}

/**
 * What a {@link WaitQueue} tells its pattern, or asks it for: one object per
 * pattern class (its functions reach the pattern's private state), shared by
 * every instance, so a queue costs no closure per pattern instance.
 */
export interface WaitQueueHooks<O extends WaitQueueOwner> {
  /** The pattern's name, for errors. */
  readonly name: string;
  /** The queue changed (a call queued or left): report utilisation. */
  readonly changed: (owner: O) => void;
  /** A queued call ran out of time: the error to reject it with (the pattern calls its hooks). */
  readonly timedOut: (owner: O) => unknown;
  /** Logs a failure of the user's clock. */
  readonly clockFailed: (owner: O, message: string, err: unknown) => void;
}

/**
 * The waiting room of the bulkheads (the fixed `Bulkhead` and the
 * `AdaptiveBulkhead`): calls in arrival order, each its own abort listener
 * through its caller's signal hub, and ONE timer for the whole queue's
 * `queueTimeout`, armed for the oldest waiter while anyone waits and cleared
 * as soon as nobody does. Which waiter gets a freed slot, and when, is the
 * pattern's business: it {@link WaitQueue.take}s the oldest.
 */
export class WaitQueue<O extends WaitQueueOwner> extends IntrusiveList<Waiter> {
  readonly #clock: Clock;
  readonly #owner: O;
  readonly #hooks: WaitQueueHooks<O>;
  /** The timer's callback, made when the queue first arms a timer (a queue without `queueTimeout` never does). */
  #expire: (() => void) | undefined = undefined;
  /** Logs a `clearTimeout` that threw, made the first time the queue clears its timer. */
  #clearFailed: ((err: unknown) => void) | undefined = undefined;
  #timer: unknown = undefined;
  #armed = false;

  /**
   * @param clock - the pattern's clock
   * @param owner - the pattern (its live `queueTimeout`)
   * @param hooks - what the queue tells the pattern (one object per pattern class)
   */
  constructor(clock: Clock, owner: O, hooks: WaitQueueHooks<O>) {
    super();
    this.#clock = clock;
    this.#owner = owner;
    this.#hooks = hooks;
  }

  /**
   * Queues a call; the promise settles with its run once a slot is handed
   * over (the pattern resolves the waiter with it), or rejects when the
   * caller's signal aborts, the wait times out, or the clock cannot arm the
   * queue's timer. A `signal` that is no AbortSignal rejects before the call
   * is queued, so it never runs later.
   */
  enqueue<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queueTimeout = this.#owner.queueTimeout;
      const expiresAt = queueTimeout === Number.POSITIVE_INFINITY ? 0 : this.#clock.now() + queueTimeout;
      const waiter = new Waiter(
        fn as Operation<unknown>,
        ctx,
        resolve as (value: unknown) => void,
        reject,
        expiresAt,
        this as unknown as WaitQueue<WaitQueueOwner>,
      );
      let hub: SignalHub | null = null;
      if (canAbort(ctx)) {
        if (!isAbortSignal(ctx.signal)) throw notASignal(ctx.signal, this.#hooks.name);
        hub = signalHub(ctx.signal);
      }
      this.push(waiter);
      if (hub !== null) waiter.listen(hub);
      this.#hooks.changed(this.#owner);
      try {
        this.arm();
      } catch (err) {
        // The clock could not arm the queue timeout: this call leaves the queue with its error, nothing runs it later.
        this.leave(waiter, err);
      }
    });
  }

  /** Takes the oldest waiter out (it stops listening to its signal) to hand it a slot; `null` when none waits. */
  take(): Waiter | null {
    const waiter = this.shift();
    if (waiter === null) return null;
    waiter.unlisten();
    if (this.size === 0) this.#disarm();
    return waiter;
  }

  /** Takes `waiter` out of the queue (abort or queue timeout) and rejects it with `reason`; nothing if it left already. */
  leave(waiter: Waiter, reason: unknown): void {
    if (!this.remove(waiter)) return;
    waiter.unlisten();
    if (this.size === 0) this.#disarm();
    this.#hooks.changed(this.#owner);
    waiter.reject(reason);
  }

  /** The queue's timer: every waiter whose time is up leaves, then the timer is armed for the next one. */
  #expireWaiters(): void {
    this.#armed = false;
    this.#timer = undefined;
    let now: number;
    try {
      now = this.#clock.now();
    } catch (err) {
      // Logged, not thrown into the timer's caller; the next call that queues arms the timer again.
      this.#hooks.clockFailed(this.#owner, 'clock.now threw', err);
      return;
    }
    if (Number.isNaN(now)) return;
    // A waiter whose expiry the clock could not give (NaN) is due now: it must not hold the queue's timer at 0 ms
    // (firing again and again) nor stop the waiters behind it from timing out.
    for (let head = this.first; head !== null && !(head.expiresAt > now); head = this.first) {
      this.leave(head, this.#hooks.timedOut(this.#owner));
    }
    try {
      this.arm();
    } catch (err) {
      this.#hooks.clockFailed(this.#owner, 'clock.setTimeout threw', err);
    }
  }

  /**
   * Arms the queue's one timer for the oldest waiter's expiry: an ordinary
   * (held) timer, because calls wait on it, cleared as soon as the queue
   * empties. A wait beyond one platform timer is armed in steps; an early
   * step expires nobody and re-arms for the rest. Armed only once the clock
   * gave a timer, so a clock that threw leaves the next call to arm one.
   * With no `queueTimeout` (`Infinity`, also after an `update()`), it clears
   * any timer instead.
   */
  arm(): void {
    if (this.#owner.queueTimeout === Number.POSITIVE_INFINITY) {
      // Unbounded (an update() may have just lifted the bound): the calls already queued wait without one too.
      this.#disarm();
      return;
    }
    if (this.#armed) return;
    const head = this.first;
    if (head === null) return;
    this.#expire ??= () => this.#expireWaiters();
    this.#timer = armTimer(this.#clock, this.#expire, head.expiresAt - this.#clock.now());
    this.#armed = true;
  }

  #disarm(): void {
    if (!this.#armed) return;
    this.#armed = false;
    const timer = this.#timer;
    this.#timer = undefined;
    // A clock whose clearTimeout throws is logged: the timer, left armed, expires only waiters whose time came.
    this.#clearFailed ??= (err) => this.#hooks.clockFailed(this.#owner, 'clock.clearTimeout threw', err);
    clearTimer(this.#clock, timer, this.#clearFailed);
  }
}
