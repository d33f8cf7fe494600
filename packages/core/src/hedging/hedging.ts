import { classifierOption } from '../classify/compile.js';
import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { canAbort, enter } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { IntrusiveList, type ListNode } from '../internal/intrusive-list.js';
import { isAbortSignal, notASignal, type SignalHub, type SignalWaiter, signalHub } from '../internal/signal-hub.js';
import { Telemetry } from '../internal/telemetry.js';
import { armTimer, clearTimer } from '../internal/timers.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import {
  booleanOption,
  clockOption,
  configObject,
  functionOption,
  numberOption,
  requiredNumber,
} from '../internal/validate.js';
import { type HedgingEvents, hedgingEvents } from './events.js';
import type { HedgingConfig } from './types.js';

const OWNER = 'Hedging';

const knownConfigKeys = knownKeys(['delay', 'maxHedges', 'hedgeOnFailure', 'handle', 'onHedge', 'clock']);

/** Handles no thrown value: the test of a classifier that names no error (`handleResult(...)`). */
const noError = (): boolean => false;

/** Options of peer libraries (Polly, failsafe-go), and what to use here instead. */
const peerHints: PeerHints = {
  maxHedgedAttempts: `Polly's MaxHedgedAttempts is "maxHedges" here`,
  maxAttempts: `a hedging policy makes at most 1 + "maxHedges" attempts`,
  hedgingDelay: `use "delay"`,
  timeout: `bound the attempts with a Timeout around the Hedging`,
};

/**
 * One call under a hedging policy: its attempts, its place in the policy's
 * queue of calls waiting for their next hedge, and the caller's abort (it is
 * its own listener and its own queue node).
 */
class HedgedCall implements SignalWaiter, ListNode<HedgedCall> {
  readonly #owner: HedgingCore;
  readonly #fn: Operation<unknown>;
  readonly #ctx: ExecutionContext;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (reason: unknown) => void;
  /** The controller of each attempt, `null` once that attempt settled. */
  readonly #controllers: (AbortController | null)[] = [];
  /** The hub of the caller's signal, while the call listens to it. */
  #hub: SignalHub | null = null;
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;
  /** Neighbours in the policy's hedge queue. */
  listPrev: HedgedCall | null = null;
  listNext: HedgedCall | null = null;
  /** When its next hedge is due (clock time), while it is in the hedge queue. */
  hedgeAt = 0;
  /** The policy's queueing count when it was queued: a firing serves only the calls queued before it began. */
  queuedSeq = 0;
  #settled = false;
  #inFlight = 0;

  constructor(
    owner: HedgingCore,
    fn: Operation<unknown>,
    ctx: ExecutionContext,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    this.#owner = owner;
    this.#fn = fn;
    this.#ctx = ctx;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const ctx = this.#ctx;
    if (canAbort(ctx)) {
      // Checked before any attempt starts: a `signal` that is no AbortSignal rejects the call (a TypeError naming it).
      if (!isAbortSignal(ctx.signal)) throw notASignal(ctx.signal, OWNER);
      const hub = signalHub(ctx.signal);
      this.#hub = hub;
      hub.add(this);
    }
    this.#launch();
  }

  /** The caller's signal aborted: every attempt is aborted with its reason, and the call rejects with it at once. */
  signalAborted(reason: unknown): void {
    if (this.#settled) return;
    this.#finish();
    this.#abortPending(-1, reason);
    this.#reject(reason);
  }

  #launch(): void {
    const index = this.#controllers.length;
    const owner = this.#owner;
    const controller = new AbortController();
    this.#controllers.push(controller);
    this.#inFlight++;
    const ctx = this.#ctx;
    const attempt = ctx.attempt + index;
    const attemptCtx: ExecutionContext = { signal: controller.signal, attempt, deadline: ctx.deadline };
    if (index > 0) {
      owner.hedgeStarted(attempt);
      // The onHedge hook may have aborted the caller's signal: the call is over, and this attempt must not start.
      if (this.#settled) {
        this.#inFlight--;
        return;
      }
    }
    const work = owner.runAttempt(this.#fn, attemptCtx);
    // Every attempt's outcome is subscribed to, so a loser's late rejection is never unhandled.
    work.then(
      (value) => this.#succeeded(index, value),
      (error) => this.#failed(index, error),
    );
    // The work may have ended the call synchronously (aborting the caller's signal): then nothing is left to hedge.
    if (this.#settled) return;
    if (this.#controllers.length <= owner.maxHedges) owner.schedule(this);
    else owner.unschedule(this);
  }

  /** Its hedge is due (called by the policy's queue, which has taken it out): start the next attempt. */
  hedgeDue(now: number): void {
    if (this.#settled) return;
    const deadline = this.#ctx.deadline;
    if (deadline !== undefined && now >= deadline) return; // No time left for a new attempt.
    this.#launch();
  }

  #succeeded(index: number, value: unknown): void {
    this.#controllers[index] = null;
    this.#inFlight--;
    if (this.#settled) return;
    if (this.#owner.isHandledResult(value)) {
      this.#attemptFailed(value, false);
      return;
    }
    this.#finish();
    const owner = this.#owner;
    this.#abortPending(index, owner.lostReason);
    this.#resolve(value);
    owner.listeners.hub?.emit('success', { attempt: this.#ctx.attempt + index, attempts: this.#controllers.length });
  }

  #failed(index: number, error: unknown): void {
    this.#controllers[index] = null;
    this.#inFlight--;
    if (this.#settled) return;
    const owner = this.#owner;
    if (!owner.isHandledError(error)) {
      // An error `handle` does not handle is the answer: no other attempt can change it.
      this.#finish();
      this.#abortPending(index, owner.finalReason);
      this.#reject(error);
      owner.listeners.hub?.emit('failure', { error, attempts: this.#controllers.length });
      return;
    }
    this.#attemptFailed(error, true);
  }

  /** An attempt ended in a handled outcome (`thrown`, or returned): hedge on, or settle with it when none is left. */
  #attemptFailed(outcome: unknown, thrown: boolean): void {
    const owner = this.#owner;
    if (owner.hedgeOnFailure && this.#controllers.length <= owner.maxHedges) {
      const deadline = this.#ctx.deadline;
      if (deadline === undefined || owner.now() < deadline) {
        this.#launch();
        return;
      }
    }
    if (this.#inFlight > 0) return; // Another attempt may still succeed.
    // Every attempt started so far failed: the call settles with the last outcome.
    this.#finish();
    if (thrown) this.#reject(outcome);
    else this.#resolve(outcome);
    // A handled returned value is a failure too, although the caller gets it as a value.
    owner.listeners.hub?.emit('failure', { error: outcome, attempts: this.#controllers.length });
  }

  /** Settles the call's bookkeeping: no more hedges, no caller listener. */
  #finish(): void {
    this.#settled = true;
    this.#owner.unschedule(this);
    const hub = this.#hub;
    if (hub !== null) {
      this.#hub = null;
      hub.delete(this);
    }
  }

  #abortPending(except: number, reason: unknown): void {
    const controllers = this.#controllers;
    for (let i = 0; i < controllers.length; i++) {
      const controller = controllers[i];
      if (i === except || controller === null || controller === undefined) continue;
      controllers[i] = null;
      this.#owner.abortAttempt(controller, reason);
    }
  }
}

/** The settings and services one hedged call needs (kept off the public class). */
class HedgingCore {
  readonly delay: number;
  readonly maxHedges: number;
  readonly hedgeOnFailure: boolean;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly onHedge: ((attempt: number) => void) | undefined;
  /** Which thrown values are handled (`handle`); `undefined`: every one. */
  readonly #handlesError: ((error: unknown) => boolean) | undefined;
  /** Which returned values are handled (`handle`); `undefined`: none. */
  readonly #handlesResult: ((value: unknown) => boolean) | undefined;
  /** The listeners of the policy's `on()`, shared by the cores an `update()` left serving their calls. */
  listeners: { hub: EventHub<HedgingEvents> | undefined } = { hub: undefined };
  /** The reason the losers' signals abort with (one object per policy). */
  readonly lostReason: DOMException = new DOMException('Hedging: another attempt succeeded first', 'AbortError');
  /** The reason the other attempts abort with when an error `handle` does not handle ends the call. */
  readonly finalReason: DOMException = new DOMException(
    'Hedging: another attempt failed with an error that ends the call',
    'AbortError',
  );
  /**
   * The calls waiting for their next hedge. Every call waits the same
   * `delay`, so they fall due in the order they were queued, and one timer,
   * armed for the head, serves them all.
   */
  readonly #queue = new IntrusiveList<HedgedCall>();
  readonly #fire: () => void;
  readonly #clearFailed: (err: unknown) => void;
  #timer: unknown = undefined;
  #timerArmed = false;
  /** How many times a call was queued (numbers the queue in order). */
  #seq = 0;

  constructor(
    delay: number,
    maxHedges: number,
    hedgeOnFailure: boolean,
    clock: Clock,
    telemetry: Telemetry,
    onHedge: ((attempt: number) => void) | undefined,
    handlesError: ((error: unknown) => boolean) | undefined,
    handlesResult: ((value: unknown) => boolean) | undefined,
  ) {
    this.#handlesError = handlesError;
    this.#handlesResult = handlesResult;
    this.delay = delay;
    this.maxHedges = maxHedges;
    this.hedgeOnFailure = hedgeOnFailure;
    this.clock = clock;
    this.telemetry = telemetry;
    this.onHedge = onHedge;
    this.#fire = () => this.#hedgeDueCalls();
    this.#clearFailed = (err) => this.telemetry.log('error', 'clock.clearTimeout threw', { err });
  }

  /** Queues `call` for a hedge `delay` ms from now (at the tail: nobody queued earlier is due later). */
  schedule(call: HedgedCall): void {
    const queue = this.#queue;
    if (queue.has(call)) queue.unlink(call);
    if (this.delay === Number.POSITIVE_INFINITY) {
      if (queue.size === 0) this.#disarm();
      return;
    }
    const now = this.now();
    if (Number.isNaN(now)) return; // A clock that cannot tell the time: this call goes on unhedged.
    call.hedgeAt = now + this.delay;
    call.queuedSeq = ++this.#seq;
    queue.push(call);
    if (!this.#timerArmed) this.#arm(now);
  }

  /** Takes `call` out of the queue (it settled, or has no hedge left); the last one out clears the timer. */
  unschedule(call: HedgedCall): void {
    const queue = this.#queue;
    if (!queue.has(call)) return;
    queue.unlink(call);
    if (queue.size === 0) this.#disarm();
  }

  /** The timer fired: every call due now gets its hedge (each at most one per firing), then the timer is re-armed. */
  #hedgeDueCalls(): void {
    this.#timerArmed = false;
    this.#timer = undefined;
    const queue = this.#queue;
    const now = this.now();
    if (Number.isNaN(now)) return; // Logged; the calls settle on their own, and the next schedule() arms again.
    // Only the calls queued before this firing: one that re-queues itself (a delay of 0) waits for the next,
    // even when a call's work took another queued call out meanwhile (an abort).
    const before = this.#seq;
    for (let call = queue.first; call !== null && call.hedgeAt <= now && call.queuedSeq <= before; call = queue.first) {
      queue.unlink(call);
      call.hedgeDue(now);
    }
    if (!this.#timerArmed && queue.size > 0) this.#arm(now);
  }

  /**
   * Arms the one timer for the head's hedge: held while calls wait on it;
   * capped steps for very long delays. A clock whose `setTimeout` throws is
   * logged: the calls go on unhedged (hedging only ever adds attempts).
   */
  #arm(now: number): void {
    const head = this.#queue.first;
    if (head === null) return;
    try {
      this.#timer = armTimer(this.clock, this.#fire, head.hedgeAt - now);
      this.#timerArmed = true;
    } catch (err) {
      this.telemetry.log('error', 'clock.setTimeout threw', { err });
    }
  }

  #disarm(): void {
    if (!this.#timerArmed) return;
    this.#timerArmed = false;
    const timer = this.#timer;
    this.#timer = undefined;
    // A clearTimeout that throws is logged: the timer, left armed, finds no call due when it fires.
    clearTimer(this.clock, timer, this.#clearFailed);
  }

  /** The clock's time; `NaN` (logged) when the user's clock throws, which hedges nothing and starts no late hedge. */
  now(): number {
    try {
      return this.clock.now();
    } catch (err) {
      this.telemetry.log('error', 'clock.now threw', { err });
      return Number.NaN;
    }
  }

  /**
   * Runs one attempt; never throws synchronously. With a tracer, in a
   * `resilience.hedging.attempt` span that ends when the attempt settles or is
   * aborted (a loser whose work ignores its signal does not leave it open).
   */
  runAttempt(fn: Operation<unknown>, ctx: ExecutionContext): Promise<unknown> {
    const telemetry = this.telemetry;
    if (telemetry.tracer !== undefined) {
      return telemetry.traced('resilience.hedging.attempt', { 'resilience.hedging.attempt': ctx.attempt }, () =>
        untilAborted(invoke(fn, ctx), ctx.signal),
      );
    }
    return invoke(fn, ctx);
  }

  /** Whether a thrown value is handled (hedged past); a predicate that throws is logged and counts as `false`. */
  isHandledError(error: unknown): boolean {
    const test = this.#handlesError;
    return test === undefined || this.telemetry.ask(test, error, 'handle');
  }

  /** Whether a returned value is handled (hedged past); a predicate that throws is logged and counts as `false`. */
  isHandledResult(value: unknown): boolean {
    const test = this.#handlesResult;
    return test !== undefined && this.telemetry.ask(test, value, 'handle');
  }

  /** A hedge started (hook, log, metric). */
  hedgeStarted(attempt: number): void {
    const telemetry = this.telemetry;
    telemetry.invokeHook(this.onHedge, 'onHedge', attempt);
    this.listeners.hub?.emit('hedge', { attempt });
    telemetry.recordHedge(attempt);
    if (telemetry.logger !== undefined) telemetry.log('debug', 'hedging started another attempt', { attempt });
  }

  /** Aborts a losing or cancelled attempt; a listener of the work that throws is logged. */
  abortAttempt(controller: AbortController, reason: unknown): void {
    try {
      controller.abort(reason);
    } catch (err) {
      this.telemetry.log('error', 'an abort listener of the work threw', { err });
    }
  }
}

/**
 * Hedged requests, as in "The Tail at Scale" (Dean and Barroso): when an
 * attempt has not settled after `delay` ms, another one starts (up to
 * `maxHedges`), and the first success wins. The losers' `ctx.signal` aborts
 * and their late results, successes or failures, are ignored (never an
 * unhandled rejection). When every attempt fails, the call rejects with the
 * last failure. `handle` (a classifier, the same value a breaker or a retry
 * takes) says which outcomes are failures: a returned value it handles is
 * hedged past like an error, and an error it does not handle ends the call at once. A caller's abort aborts every attempt and rejects at once with
 * the caller's reason.
 *
 * Hedging cuts the latency tail at the price of extra load (about the share of
 * calls slower than `delay`), so use it for idempotent reads against a
 * dependency with spare capacity, and keep `delay` near its p90–p99 latency.
 *
 * Attempt numbers: the first attempt gets the incoming `ctx.attempt` (1 on its
 * own; a `Retry` outside passes its own), each hedge the next number. The
 * incoming `ctx.deadline` is passed on, and no hedge starts once it has passed.
 *
 * @example
 * ```ts
 * const hedging = new Hedging<Price>({ delay: 50, maxHedges: 2 });
 * const price = await hedging.execute(({ signal }) => fetchPrice(sku, { signal }));
 * ```
 */
export class Hedging<T = unknown> implements Policy<T> {
  /** How long an attempt may go unsettled before the next starts, in ms. */
  readonly delay: number;
  /** How many extra attempts a call may start. */
  readonly maxHedges: number;
  /** Whether a failed attempt starts the next one at once. */
  readonly hedgeOnFailure: boolean;
  /** The settings and services of the calls that start now (an `update()` gives new calls a new one). */
  #core: HedgingCore;
  /** The config as built and updated, for `update()` to merge over. */
  #config: HedgingConfig<T>;

  /**
   * @param config - `delay` (required), `maxHedges`, `hedgeOnFailure`, `handle`, `onHedge`, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: HedgingConfig<T>) {
    const c = configObject(OWNER, config) as Partial<HedgingConfig<T>>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.delay = requiredNumber(OWNER, 'delay', c.delay, { min: 0, allowInfinity: true });
    this.maxHedges = numberOption(OWNER, 'maxHedges', c.maxHedges, 1, { min: 0, max: 100, integer: true });
    this.hedgeOnFailure = booleanOption(OWNER, 'hedgeOnFailure', c.hedgeOnFailure, false);
    if (this.delay === Number.POSITIVE_INFINITY && !this.hedgeOnFailure && this.maxHedges > 0) {
      throw new RangeError(
        `${OWNER}: delay must be finite unless hedgeOnFailure is true (it would never hedge), got Infinity`,
      );
    }
    const onHedge = functionOption(OWNER, 'onHedge', c.onHedge);
    const clock = clockOption(OWNER, c.clock);
    const handle = classifierOption(OWNER, c.handle);
    const errors = handle?.errors ?? 'all';
    this.#core = new HedgingCore(
      this.delay,
      this.maxHedges,
      this.hedgeOnFailure,
      clock,
      Telemetry.for('hedging', c),
      onHedge,
      errors === 'all' ? undefined : errors === 'none' ? noError : errors,
      handle?.results as ((value: unknown) => boolean) | undefined,
    );
    this.#config = c as HedgingConfig<T>;
  }

  /**
   * Runs `fn`, hedged: settles once, with the first attempt's success, or the
   * last failure when every attempt failed, or the caller's abort reason.
   * Never throws synchronously (a non-function `fn` rejects with a `TypeError`).
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    let ctx: ExecutionContext;
    try {
      ctx = enter(OWNER, fn, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const telemetry = this.#core.telemetry;
    if (telemetry.tracer !== undefined) {
      return telemetry.traced('resilience.hedging', undefined, () => this.#hedge(fn, ctx));
    }
    return this.#hedge(fn, ctx);
  }

  #hedge<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      new HedgedCall(this.#core, fn as Operation<unknown>, ctx, resolve as (value: unknown) => void, reject).start();
    });
  }

  /**
   * Follows the policy from code that did not build it: `'hedge'`
   * (`{ attempt }`) when a hedge starts, `'success'` (`{ attempt, attempts }`:
   * the winner and how many had started) and `'failure'` (`{ error,
   * attempts }`, when every attempt failed, or one failed with an error
   * `handle` does not handle; not when the caller aborted).
   * Listeners run synchronously, after `onHedge` for a hedge and after the
   * call has settled for the others; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof HedgingEvents>(event: K, listener: EventListener<HedgingEvents[K]>): Subscription {
    const listeners = this.#core.listeners;
    listeners.hub ??= new EventHub<HedgingEvents>(OWNER, this.#core.telemetry);
    return listeners.hub.on(hedgingEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated as the constructor does (a bad value
   * throws, naming it, and the old settings stay). Calls that start afterwards
   * use the new settings; calls already running finish as they started (their
   * hedges keep the `delay`, `maxHedges`, `hedgeOnFailure`, `handle` and `onHedge` they
   * started with, and their events still reach the listeners). `name` and
   * `clock` cannot change. An option given as `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<HedgingConfig<T>>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (hedging, partial) => hedging.#prepare(partial));
  }

  /** The validating half of {@link Hedging.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<HedgingConfig<T>>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.hedging);
    const next = new Hedging<T>(config);
    return () => {
      const self = this as { delay: number; maxHedges: number; hedgeOnFailure: boolean };
      self.delay = next.delay;
      self.maxHedges = next.maxHedges;
      self.hedgeOnFailure = next.hedgeOnFailure;
      const core = next.#core;
      // The old core keeps serving the calls it started (its queue and timer), with the same listeners.
      core.listeners = this.#core.listeners;
      if (core.listeners.hub !== undefined) core.listeners.hub.telemetry = core.telemetry;
      this.#core = core;
      this.#config = config;
    };
  }
}

/**
 * `work`'s outcome, or a rejection with the signal's reason as soon as the
 * signal aborts; `work`'s own late outcome stays handled. The signal is the
 * attempt's own, so this is one listener per traced attempt.
 */
function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Calls `fn` and always answers with a promise (a synchronous throw becomes a rejection). */
function invoke(fn: Operation<unknown>, ctx: ExecutionContext): Promise<unknown> {
  try {
    return Promise.resolve(fn(ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}
