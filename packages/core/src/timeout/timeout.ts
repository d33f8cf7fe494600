import { type Clock, unrefTimer } from '../clock/clock.js';
import type { Operation, Policy } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { neverAbortedSignal } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { IntrusiveList } from '../internal/intrusive-list.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { clockOption, configObject, functionOption, numberOption } from '../internal/validate.js';
import { type TimeoutEvents, timeoutEvents } from './events.js';
import { PendingCall } from './pending-call.js';
import type { TimeoutConfig, TimeoutExecuteOptions } from './types.js';

const OWNER = 'Timeout';
const INFINITY = Number.POSITIVE_INFINITY;
/** Node's timers fire at once for longer delays; longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

function isThenable<R>(value: R | PromiseLike<R>): value is PromiseLike<R> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Bounds the time of the work, cooperatively and aggressively at once: when
 * time is up, `ctx.signal` aborts with a `TimeoutError` and the returned
 * promise rejects with that error at once, even if the work ignores the
 * signal. A late value or a late rejection of the work is swallowed.
 *
 * Deadlines propagate: `ctx.deadline` is the absolute clock time by which the
 * work must end; a caller's `deadline` (an outer `Timeout`'s context passed as
 * options) is kept when it is earlier; with no time left the call rejects
 * without running the work.
 *
 * Cheap when the work finishes in time: the `AbortController` behind
 * `ctx.signal` is created only when the work reads it, nothing is aborted on
 * success, and calls with the default limit share one timer per `Timeout`
 * over a queue of deadlines (they expire in arrival order) instead of a timer
 * each. That timer is unref'd, and may stay armed, idle, until its time after
 * the last call settled; calls with their own `timeout` get a timer each,
 * cleared when they settle.
 *
 * The caller's signal reaches `ctx.signal` (linked only when the work reads
 * it, unlinked when the call settles); on a caller's abort the returned
 * promise settles as the work does, so work that ignores signals should be
 * given a limit of its own.
 *
 * @example
 * ```ts
 * const timeout = new Timeout({ defaultTimeout: 2_000 });
 * const body = await timeout.execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()));
 * ```
 */
export class Timeout<T = unknown> implements Policy<T, TimeoutExecuteOptions> {
  /** The limit of a call that passes no `timeout`, in milliseconds. */
  readonly defaultTimeout: number;
  readonly #clock: Clock;
  #onTimeout: ((timeoutMs: number) => void) | undefined;
  #telemetry: Telemetry;
  /** The config as built and updated, for `update()` to merge over. */
  #config: TimeoutConfig;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<TimeoutEvents> | undefined = undefined;
  readonly #onTimer: () => void;
  /** The calls sharing the timer, in deadline order (so the head expires first). */
  readonly #queue = new IntrusiveList<PendingCall>();
  #armed = false;

  /** @param config - the default limit, `onTimeout`, clock and observability */
  constructor(config?: TimeoutConfig) {
    const c = configObject(OWNER, config);
    this.defaultTimeout = numberOption(OWNER, 'defaultTimeout', c.defaultTimeout, 30_000, {
      min: 0,
      minExclusive: true,
      allowInfinity: true,
    });
    this.#clock = clockOption(OWNER, c.clock);
    this.#onTimeout = functionOption(OWNER, 'onTimeout', c.onTimeout);
    this.#telemetry = Telemetry.for('timeout', c);
    this.#onTimer = () => this.#fire();
    this.#config = c;
  }

  /**
   * Runs `fn` with a time limit: `options.timeout`, else `defaultTimeout`,
   * shortened by `options.deadline`. Rejects with a `TimeoutError` when the
   * time is up, with the caller's reason when `options.signal` is already
   * aborted, and with a `RangeError` for an invalid `timeout`.
   */
  execute<R extends T>(fn: Operation<R>, options?: TimeoutExecuteOptions): Promise<R> {
    let signal = neverAbortedSignal;
    let timeoutMs = this.defaultTimeout;
    let attempt = 1;
    let shared = true;
    let callerDeadline: number | undefined;
    if (options !== undefined) {
      const callerSignal = options.signal;
      if (callerSignal !== undefined) {
        if (callerSignal.aborted) return Promise.reject(callerSignal.reason);
        signal = callerSignal;
      }
      const own = options.timeout;
      if (own !== undefined && own !== timeoutMs) {
        if (typeof own !== 'number' || !(own >= 0)) {
          return Promise.reject(
            new RangeError(`${OWNER}: timeout must be a number >= 0 (or Infinity), got ${String(own)}`),
          );
        }
        timeoutMs = own;
        shared = false;
      }
      attempt = options.attempt ?? 1;
      callerDeadline = options.deadline;
    }
    const now = this.#clock.now();
    let deadline = now + timeoutMs;
    if (callerDeadline !== undefined && callerDeadline < deadline) {
      // Shared-timer deadlines grow in arrival order; an earlier one gets a timer of its own.
      shared = false;
      deadline = callerDeadline;
      timeoutMs = deadline > now ? deadline - now : 0;
    }
    if (!(deadline > now)) {
      const error = new TimeoutError({ timeoutMs, message: 'No time left to start the operation' });
      this.#timedOut(error);
      return Promise.reject(error);
    }
    const call = new PendingCall(signal, attempt, deadline === INFINITY ? undefined : deadline, timeoutMs);
    if (this.#telemetry.tracer === undefined) return this.#run(fn, call, shared);
    return this.#telemetry.traced('resilience.timeout', { 'resilience.timeout.ms': timeoutMs }, () =>
      this.#run(fn, call, shared),
    );
  }

  async #run<R>(fn: Operation<R>, call: PendingCall, shared: boolean): Promise<R> {
    try {
      const value = fn(call);
      if (!isThenable(value)) return value;
      return await new Promise<R>((resolve, reject) => {
        call.reject = reject;
        value.then(resolve, reject);
        if (call.deadline !== undefined) this.#schedule(call, shared);
      });
    } finally {
      this.#settle(call);
    }
  }

  /** Puts the call in the shared queue when it keeps the queue in deadline order, else gives it its own timer. */
  #schedule(call: PendingCall, shared: boolean): void {
    const deadline = call.deadline as number;
    const queue = this.#queue;
    const tail = queue.last;
    if (shared && (tail === null || deadline >= (tail.deadline as number))) {
      queue.push(call);
      if (!this.#armed) this.#arm(deadline - this.#clock.now());
      return;
    }
    this.#armCall(call);
  }

  /** A call's own timer (re-armed when a clamped long delay fires early). */
  #armCall(call: PendingCall): void {
    const ms = (call.deadline as number) - this.#clock.now();
    if (ms <= 0) {
      this.#expire(call);
      return;
    }
    call.timer = unrefTimer(this.#clock.setTimeout(() => this.#armCall(call), Math.min(ms, MAX_TIMER_MS)));
  }

  #arm(ms: number): void {
    this.#armed = true;
    unrefTimer(this.#clock.setTimeout(this.#onTimer, Math.min(ms, MAX_TIMER_MS)));
  }

  /** The shared timer: expires every queued call whose deadline passed, then re-arms for the next one. */
  #fire(): void {
    this.#armed = false;
    const now = this.#clock.now();
    const queue = this.#queue;
    for (let head = queue.first; head !== null && (head.deadline as number) <= now; head = queue.first) {
      this.#expire(head);
    }
    const head = queue.first;
    if (head !== null && !this.#armed) this.#arm((head.deadline as number) - now);
  }

  #expire(call: PendingCall): void {
    this.#queue.remove(call);
    call.timer = undefined;
    const error = new TimeoutError({ timeoutMs: call.timeoutMs });
    call.expire(error);
    this.#timedOut(error);
  }

  #timedOut(error: TimeoutError): void {
    const telemetry = this.#telemetry;
    telemetry.recordTimeout();
    telemetry.log('warn', 'timed out', { timeoutMs: error.timeoutMs });
    telemetry.invokeHook(this.#onTimeout, 'onTimeout', error.timeoutMs);
    this.#events?.emit('timeout', { timeoutMs: error.timeoutMs });
  }

  #settle(call: PendingCall): void {
    // A call that shared the timer has none of its own to clear.
    if (!this.#queue.remove(call) && call.timer !== undefined) {
      this.#clock.clearTimeout(call.timer);
      call.timer = undefined;
    }
    call.release();
  }

  /**
   * Follows the timeout from code that did not build it: `'timeout'`
   * (`{ timeoutMs }`) each time a call runs out of time. Listeners run
   * synchronously after `onTimeout`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof TimeoutEvents>(event: K, listener: EventListener<TimeoutEvents[K]>): Subscription {
    this.#events ??= new EventHub<TimeoutEvents>(OWNER, this.#telemetry);
    return this.#events.on(timeoutEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated before anything changes (a bad value
   * throws, naming it, and the old settings stay). A call in flight keeps the
   * deadline it started with; a new `defaultTimeout` applies to calls that
   * start afterwards. `name` and `clock` cannot change. An option given as
   * `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<TimeoutConfig>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (timeout, partial) => timeout.#prepare(partial));
  }

  /** The validating half of {@link Timeout.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<TimeoutConfig>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.timeout);
    const next = new Timeout(config);
    return () => {
      (this as { defaultTimeout: number }).defaultTimeout = next.defaultTimeout;
      this.#onTimeout = next.#onTimeout;
      this.#telemetry = next.#telemetry;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}
