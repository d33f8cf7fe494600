import { type Clock, unrefTimer } from '../clock/clock.js';
import type { Operation, Policy } from '../context.js';
import { TimeoutError } from '../errors/errors.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { neverAbortedSignal, notAFunction } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { isThenable } from '../internal/hooks.js';
import { IntrusiveList } from '../internal/intrusive-list.js';
import { isAbortSignal, notASignal, signalHub } from '../internal/signal-hub.js';
import { invoke, registerStepRunner, type StepOp } from '../internal/step.js';
import { Telemetry } from '../internal/telemetry.js';
import { armTimer, clearTimer, refTimer } from '../internal/timers.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { clockOption, configObject, describeValue, functionOption, numberOption } from '../internal/validate.js';
import { type TimeoutEvents, timeoutEvents } from './events.js';
import { PendingCall, setReleaseCall } from './pending-call.js';
import { TimeoutContext } from './timeout-context.js';
import type { TimeoutConfig, TimeoutExecuteOptions } from './types.js';

const OWNER = 'Timeout';
const INFINITY = Number.POSITIVE_INFINITY;

const knownConfigKeys = knownKeys(['defaultTimeout', 'onTimeout', 'clock']);

/** Options of peer libraries (p-timeout, cockatiel, opossum, resilience4j), and what to use here instead. */
const peerHints: PeerHints = {
  timeout: `use "defaultTimeout" (ms), or pass { timeout } to execute for one call`,
  milliseconds: `p-timeout's milliseconds is "defaultTimeout" here`,
  ms: `use "defaultTimeout"`,
  duration: `use "defaultTimeout"`,
  timeoutDuration: `resilience4j's timeoutDuration is "defaultTimeout" here`,
  strategy: `a Timeout here is always aggressive: it rejects at once, and ctx.signal tells the work to stop`,
  abortOnReturn: `ctx.signal aborts only when the time is up; nothing is aborted on success`,
  signal: `pass the signal to execute(fn, { signal }) instead`,
};

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
 * each. That timer is held (ref'd) while a call waits on it, so a pending
 * timeout fires even in a script with nothing else to do, and released
 * (unref'd) once none does: it may stay armed, idle, until its time after the
 * last call settled, without keeping the process alive. Calls with their own
 * `timeout` get a timer each, cleared when they settle. A limit beyond the
 * 24.8 days one platform timer holds is waited out in steps.
 *
 * When the caller's signal aborts, `ctx.signal` aborts with its reason and
 * the returned promise rejects at once with that reason, even if the work
 * ignores its signal; that is not a timeout (no `onTimeout`, no metric).
 * Calls sharing a caller's signal share one listener on it, removed when the
 * last of them settled (for a reused signal, on the event loop's next turn).
 *
 * The context is a plain one (an internal `TimeoutContext`: `signal`, `attempt`,
 * `deadline`), not the Timeout's bookkeeping.
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
  readonly #clearFailed: (err: unknown) => void;
  /** The calls sharing the timer, in deadline order (so the head expires first). */
  readonly #queue = new IntrusiveList<PendingCall>();
  /** Whether the shared timer is pending. */
  #armed = false;
  /** The shared timer's handle, held while the queue has calls. */
  #timer: unknown = undefined;

  /** @param config - the default limit, `onTimeout`, clock and observability */
  constructor(config?: TimeoutConfig) {
    const c = configObject(OWNER, config);
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.defaultTimeout = numberOption(OWNER, 'defaultTimeout', c.defaultTimeout, 30_000, {
      min: 0,
      minExclusive: true,
      allowInfinity: true,
    });
    this.#clock = clockOption(OWNER, c.clock);
    this.#onTimeout = functionOption(OWNER, 'onTimeout', c.onTimeout);
    this.#telemetry = Telemetry.for('timeout', c);
    this.#onTimer = () => this.#fire();
    this.#clearFailed = (err) => this.#telemetry.log('error', 'clock.clearTimeout threw', { err });
    this.#config = c;
  }

  /**
   * Runs `fn` with a time limit: `options.timeout`, else `defaultTimeout`,
   * shortened by `options.deadline`. Rejects with a `TimeoutError` when the
   * time is up, with the caller's reason when `options.signal` aborts (at
   * once, even before the work settles), with a `RangeError` for an invalid
   * `timeout` and with a `TypeError` when `fn` is not a function. Never throws
   * synchronously (a clock that throws rejects the call); `null` options are
   * no options.
   */
  execute<R extends T>(fn: Operation<R>, options?: TimeoutExecuteOptions): Promise<R> {
    return this.#call(undefined, fn, options ?? undefined);
  }

  /** {@link Timeout.execute} of `invoke(op, arg, ctx)`: `fn(ctx)` itself, or a pipeline's step. */
  #call<R>(op: StepOp | undefined, arg: unknown, options: TimeoutExecuteOptions | undefined): Promise<R> {
    // The work: `fn` itself, or a pipeline's next step (the pipeline checked the caller's `fn`).
    const work = op ?? arg;
    if (typeof work !== 'function') return Promise.reject(notAFunction(OWNER, work));
    try {
      return this.#start(op, arg, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The prologue of {@link Timeout.execute}: limit, deadline, then the run (with a span when traced).
   *
   * The checks are `enter()`'s (`internal/context.ts`), in its order (the work, then the signal: its type, then an
   * aborted one, then the Timeout's own options; `prologue.test.ts` pins it), written out here rather than called:
   * the Timeout reads the caller's signal itself, to listen to it, and routing that through `enter()` (a context
   * function returning the caller's options or the root context, then `.signal`) cost 5-15% CPU per call with no
   * options and 6-18% with a `signal`, in an A/B of the two builds in one process (CPU time, 24 interleaved rounds of
   * 100,000 calls, Node 20, 2026-12-07), which the same A/B with this prologue does not show (0.99-1.03).
   */
  #start<R>(op: StepOp | undefined, arg: unknown, options: TimeoutExecuteOptions | undefined): Promise<R> {
    let signal = neverAbortedSignal;
    let timeoutMs = this.defaultTimeout;
    let attempt = 1;
    let shared = true;
    let callerDeadline: number | undefined;
    if (options !== undefined) {
      const callerSignal = options.signal;
      if (callerSignal !== undefined && callerSignal !== null) {
        // Checked before the work starts: a `signal` that is no AbortSignal would only fail once it ran.
        if (!isAbortSignal(callerSignal)) return Promise.reject(notASignal(callerSignal, OWNER));
        if (callerSignal.aborted) return Promise.reject(callerSignal.reason);
        signal = callerSignal;
      }
      const own = options.timeout;
      if (own !== undefined && own !== timeoutMs) {
        if (typeof own !== 'number' || !(own >= 0)) {
          return Promise.reject(
            new RangeError(`${OWNER}: timeout must be a number >= 0 (or Infinity), got ${describeValue(own)}`),
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
    const ctx = new TimeoutContext(signal, attempt, deadline === INFINITY ? undefined : deadline);
    if (this.#telemetry.tracer === undefined) return this.#run(op, arg, ctx, signal, deadline, timeoutMs, shared);
    return this.#telemetry.traced('resilience.timeout', { 'resilience.timeout.ms': timeoutMs }, () =>
      this.#run<R>(op, arg, ctx, signal, deadline, timeoutMs, shared),
    );
  }

  /**
   * Runs the work; when it returns a promise, races it against the deadline
   * and the caller's signal through one internal node (no `Promise.race`, no
   * async frame: a `then` on the work's promise settles the caller's).
   */
  #run<R>(
    op: StepOp | undefined,
    arg: unknown,
    ctx: TimeoutContext,
    caller: AbortSignal,
    deadline: number,
    timeoutMs: number,
    shared: boolean,
  ): Promise<R> {
    let value: R | PromiseLike<R>;
    try {
      value = invoke<R>(op, arg, ctx);
    } catch (err) {
      return Promise.reject(err);
    }
    // A value, or nothing that can end it early (no limit and no caller signal): it is the outcome.
    if (!isThenable(value) || (deadline === INFINITY && caller === neverAbortedSignal)) return Promise.resolve(value);
    return this.#race(value, new PendingCall(ctx, deadline, timeoutMs, this), caller, shared);
  }

  /**
   * The caller's promise of one call: settled by the work, by the deadline
   * (`PendingCall.expire`) or by the caller's signal (`PendingCall.signalAborted`),
   * whichever comes first; each way out releases the call's place, timer and hub
   * once (`#settle`).
   */
  #race<R>(value: PromiseLike<R>, call: PendingCall, caller: AbortSignal, shared: boolean): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      call.reject = reject;
      value.then(
        (result) => {
          if (!call.over) this.#settle(call);
          resolve(result);
        },
        (error: unknown) => {
          if (!call.over) this.#settle(call);
          reject(error);
        },
      );
      // A thenable that called back synchronously has settled the call: nothing to wait on or schedule.
      if (call.over) return;
      if (caller !== neverAbortedSignal) {
        // The work itself may have aborted the caller's signal.
        if (caller.aborted) {
          call.signalAborted(caller.reason);
          return;
        }
        const hub = signalHub(caller);
        call.hub = hub;
        hub.add(call);
      }
      if (call.deadline !== INFINITY) this.#schedule(call, shared);
    });
  }

  /** Puts the call in the shared queue when it keeps the queue in deadline order, else gives it its own timer. */
  #schedule(call: PendingCall, shared: boolean): void {
    const deadline = call.deadline;
    const queue = this.#queue;
    const tail = queue.last;
    if (shared && (tail === null || deadline >= tail.deadline)) {
      queue.push(call);
      // No pending timer (none yet, or the clock failed to arm one): arm for the head.
      if (!this.#armed) this.#arm((queue.first as PendingCall).deadline - this.#clock.now());
      // The first waiting call: hold the armed timer again.
      else if (tail === null) refTimer(this.#timer);
      return;
    }
    this.#armCall(call);
  }

  /** A call's own timer, held until the call settles (re-armed when a capped long delay fires early). */
  #armCall(call: PendingCall): void {
    // A timer that fires after its call settled (its clock failed to clear it) has nothing to do.
    if (call.over) return;
    const ms = call.deadline - this.#clock.now();
    if (ms <= 0) {
      this.#expire(call);
      return;
    }
    call.timer = armTimer(this.#clock, () => this.#armCall(call), ms);
  }

  /** Arms the shared timer; it is held, since a call waits on it. */
  #arm(ms: number): void {
    // Armed only once the clock gave a timer: a clock that throws here leaves the next call to arm one.
    this.#timer = armTimer(this.#clock, this.#onTimer, ms);
    this.#armed = true;
  }

  /** The shared timer: expires every queued call whose deadline passed, then re-arms for the next one. */
  #fire(): void {
    this.#armed = false;
    this.#timer = undefined;
    const now = this.#clock.now();
    const queue = this.#queue;
    for (let head = queue.first; head !== null && head.deadline <= now; head = queue.first) {
      this.#expire(head);
    }
    const head = queue.first;
    if (head !== null && !this.#armed) this.#arm(head.deadline - now);
  }

  #expire(call: PendingCall): void {
    this.#queue.remove(call);
    call.timer = undefined;
    // A call whose caller aborted has settled already; it is no timeout.
    if (call.over) return;
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
    // Settled: a timer of its own that a failing clock could not clear finds nothing to do.
    call.over = true;
    const queue = this.#queue;
    if (queue.remove(call)) {
      // A call that shared the timer has none of its own; the last one out releases the shared timer.
      if (queue.size === 0 && this.#armed) unrefTimer(this.#timer);
    } else if (call.timer !== undefined) {
      const timer = call.timer;
      call.timer = undefined;
      // A clock whose clearTimeout throws is logged; the call keeps its own outcome.
      clearTimer(this.#clock, timer, this.#clearFailed);
    }
    call.hub?.delete(call);
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
    setReleaseCall((owner, call) => (owner as Timeout<unknown>).#settle(call));
    // biome-ignore lint/complexity/noThisInStatic: as above
    registerStepRunner(this, (timeout, op, arg, options) => timeout.#call(op, arg, options ?? undefined));
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
