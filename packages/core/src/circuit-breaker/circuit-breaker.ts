import { supersede } from '../classify/compile.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { isCircuitOpenError } from '../errors/guards.js';
import {
  canAbort,
  contextAbortReason,
  isAbortedContext,
  notAFunction,
  rootContext,
  toContext,
} from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { describeValue } from '../internal/validate.js';
import { HANDLE_ALIASES, normalizeSettings, OWNER } from './config.js';
import { type CircuitBreakerEvents, circuitBreakerEvents } from './events.js';
import { STATE_ATTRIBUTE } from './outcome.js';
import { BreakerPermit } from './permit.js';
import { readInitialState } from './snapshot.js';
import { CircuitStateMachine, UNMEASURED } from './state-machine.js';
import type {
  CircuitBreakerConfig,
  CircuitBreakerSnapshot,
  CircuitMode,
  CircuitPermit,
  CircuitState,
  Counts,
} from './types.js';

const SPAN_NAME = 'resilience.circuit_breaker';

/** Whether `config` has an own enumerable key (checked without allocating). */
function hasOwnOptions(config: object): boolean {
  for (const key in config) if (Object.hasOwn(config, key)) return true;
  return false;
}

/** Tells `'rejected'` listeners, if any, about a refused admission (kept out of `#run`, whose size is on the hot path). */
function notifyRefused<T>(machine: CircuitStateMachine<T>, error: unknown): void {
  if (machine.events !== undefined && isCircuitOpenError(error)) machine.events.emit('rejected', { error });
}

/**
 * Settles a call whose caller's signal may abort while it runs: when it has by
 * the time `result` settles, the call is a cancellation, else a success or a
 * failure. Two closures over one context: cheaper than an async frame.
 */
function settleWatched<T, R extends T>(
  machine: CircuitStateMachine<T>,
  generation: number,
  ctx: ExecutionContext,
  result: R | PromiseLike<R>,
): Promise<R> {
  return Promise.resolve(result).then(
    (value) => {
      if (isAbortedContext(ctx)) machine.cancelled(generation, UNMEASURED);
      else machine.succeeded(generation, value, UNMEASURED);
      return value;
    },
    (error: unknown) => {
      if (isAbortedContext(ctx)) machine.cancelled(generation, UNMEASURED);
      else machine.failed(generation, error, UNMEASURED);
      throw error;
    },
  );
}

/**
 * A circuit breaker with gobreaker's semantics: closed, open and half-open,
 * lazy transitions (no timer per breaker), generations that make late results
 * harmless, and `readyToTrip` on the counts. Beyond gobreaker it has ignored
 * outcomes, result-based failures, failure-rate and slow-call windows, open-time
 * backoff, a bound on half-open, manual control, snapshots and a two-step API.
 *
 * When to use: in front of a dependency that can fail for a while (a remote
 * service, a database), so that callers fail fast instead of piling up.
 *
 * @typeParam T - the type of the values the guarded work returns
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ timeout: 30_000, handle: handleAll().orResult((res: Response) => res.status >= 500) });
 * const res = await breaker.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export class CircuitBreaker<T = unknown> implements Policy<T> {
  readonly #machine: CircuitStateMachine<T>;
  /** The config as built and updated, for `update()` to merge over. */
  #config: CircuitBreakerConfig<T> | undefined;

  /**
   * @param config - gobreaker's settings and the extensions; bad values throw
   *   a `TypeError` or `RangeError` naming the option
   */
  constructor(config: CircuitBreakerConfig<T> = {}) {
    if (config === null || typeof config !== 'object') {
      throw new TypeError(`CircuitBreaker: config must be an object, got ${describeValue(config)}`);
    }
    const settings = normalizeSettings(config);
    const initial = readInitialState(config.initialState, settings);
    this.#machine = new CircuitStateMachine(settings, Telemetry.for('circuit_breaker', config), initial);
    // A config with no options is not kept: `new CircuitBreaker({})` retains nothing of it (heap per instance).
    this.#config = hasOwnOptions(config) ? config : undefined;
  }

  /** The current state, after any transition that is due (reading it may move open to half-open). */
  get state(): CircuitState {
    return this.#machine.state;
  }

  /** Who decides the state: `'auto'`, or `'isolated'` / `'disabled'` when forced. */
  get mode(): CircuitMode {
    return this.#machine.mode;
  }

  /** A copy of the counts of the current generation (a new object on each read). */
  get counts(): Counts {
    const machine = this.#machine;
    void machine.state; // applies any transition that is due
    return machine.counts();
  }

  /**
   * Runs `fn` if the breaker admits it and counts its outcome. Rejects with
   * `CircuitOpenError` (with `retryAfterMs`) without calling `fn` when open,
   * or half-open with every probe slot taken; with the signal's reason when the
   * caller's signal has already aborted. Otherwise settles when `fn` settles,
   * with `fn`'s own value or error (it does not race the caller's signal).
   *
   * When the caller's signal aborted while `fn` ran, the call is a
   * cancellation: neither success nor failure, its half-open slot freed
   * (unless `countCancellations`). Never throws synchronously.
   *
   * @param fn - the work; it receives the caller's context
   * @param options - the caller's signal, deadline and attempt (an outer pattern's context fits)
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    const telemetry = this.#machine.telemetry;
    if (telemetry.tracer === undefined) return this.#run(fn, options);
    let attributes: Record<string, string> | undefined;
    try {
      attributes = { [STATE_ATTRIBUTE]: this.state };
    } catch {
      // A clock that throws: #run rejects with its error.
    }
    return telemetry.traced(SPAN_NAME, attributes, () => this.#run(fn, options));
  }

  /**
   * Asks for permission to make one call, for callers that cannot wrap their
   * work in a function. Report the outcome on the returned permit.
   *
   * @throws CircuitOpenError (with `retryAfterMs`) when the call is not admitted
   */
  acquire(): CircuitPermit {
    const machine = this.#machine;
    let generation: number;
    try {
      generation = machine.admit();
    } catch (error) {
      notifyRefused(machine, error);
      throw error;
    }
    const settings = machine.settings;
    return new BreakerPermit(machine, generation, settings.timed ? settings.clock.now() : UNMEASURED);
  }

  /**
   * Back to a fresh closed breaker: counts, windows and backoff cleared, a
   * forced mode released, a new generation (late results are ignored).
   */
  reset(): void {
    this.#machine.force('auto');
  }

  /** Forces the breaker open until {@link CircuitBreaker.release}: every call is rejected. */
  isolate(): void {
    this.#machine.force('isolated');
  }

  /** Forces the breaker closed until {@link CircuitBreaker.release}: every call passes and nothing is counted. */
  disable(): void {
    this.#machine.force('disabled');
  }

  /** Ends {@link CircuitBreaker.isolate} or {@link CircuitBreaker.disable}: the same as {@link CircuitBreaker.reset}. */
  release(): void {
    this.#machine.force('auto');
  }

  /** A snapshot of the state for `initialState` (JSON-safe; `JSON.stringify(breaker)` uses it). */
  toJSON(): CircuitBreakerSnapshot {
    return this.#machine.snapshot();
  }

  /** The synchronous prologue: abort check, admission and start time, without an async frame of its own. */
  #run<R extends T>(fn: Operation<R>, options: ExecuteOptions | undefined): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(notAFunction('CircuitBreaker', fn));
    const machine = this.#machine;
    const settings = machine.settings;
    let ctx: ExecutionContext;
    let generation: number;
    let start = 0;
    try {
      ctx = toContext(options);
      if (ctx !== rootContext && isAbortedContext(ctx)) return Promise.reject(contextAbortReason(ctx));
      generation = machine.admit();
      if (settings.timed) start = settings.clock.now();
    } catch (error) {
      notifyRefused(machine, error);
      return Promise.reject(error);
    }
    // A caller's signal that can abort is looked at when `fn` settles (a cancellation), so it needs the async frame.
    const watch = !settings.countCancellations && canAbort(ctx);
    if (settings.timed) return this.#call(fn, ctx, generation, start, watch);
    // No start time to keep: settle with a `then` (cheaper than an async frame).
    let result: R | PromiseLike<R>;
    try {
      result = fn(ctx);
    } catch (error) {
      if (watch && isAbortedContext(ctx)) machine.cancelled(generation, UNMEASURED);
      else machine.failed(generation, error, UNMEASURED);
      return Promise.reject(error);
    }
    if (watch) return settleWatched(machine, generation, ctx, result);
    // Nothing to look at when it settles: callbacks shared by the generation, no closure of its own.
    const settlers = machine.settlersFor(generation);
    return Promise.resolve(result).then(settlers.fulfilled<R>, settlers.rejected);
  }

  /**
   * The async frame of a call that measures its duration (and may be cancelled
   * by its caller): as few locals as possible, since each is kept across the await.
   */
  async #call<R extends T>(
    fn: Operation<R>,
    ctx: ExecutionContext,
    generation: number,
    start: number,
    watch: boolean,
  ): Promise<R> {
    let result: R;
    try {
      result = await fn(ctx);
    } catch (error) {
      if (watch && isAbortedContext(ctx)) this.#machine.cancelled(generation, start);
      else this.#machine.failed(generation, error, start);
      throw error;
    }
    if (watch && isAbortedContext(ctx)) this.#machine.cancelled(generation, start);
    else this.#machine.succeeded(generation, result, start);
    return result;
  }

  /**
   * Follows the breaker from code that did not build it: `'stateChange'`
   * (`{ from, to }`), `'success'`, `'failure'`, `'ignored'` (each with the
   * call's `error` or `result`) and `'rejected'` (`{ error }`, a
   * `CircuitOpenError`). Listeners run synchronously after the config hooks;
   * one that throws or returns a rejected promise is logged and changes
   * nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof CircuitBreakerEvents>(event: K, listener: EventListener<CircuitBreakerEvents[K]>): Subscription {
    const machine = this.#machine;
    machine.events ??= new EventHub<CircuitBreakerEvents>(OWNER, machine.telemetry);
    return machine.events.on(circuitBreakerEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated before anything changes (a bad value
   * throws, naming it, and the old settings stay). State, mode, counts and
   * calls in flight are kept; a changed `window` starts empty; a new
   * `interval` restarts the closed period now; an open breaker stays open for
   * the time it started with (a new `timeout` applies from the next opening).
   * `name`, `clock` and `initialState` cannot change. An option given as
   * `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<CircuitBreakerConfig<T>>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (breaker, partial) => breaker.#prepare(partial));
  }

  /** The validating half of {@link CircuitBreaker.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<CircuitBreakerConfig<T>>): Commit {
    const base = supersede(this.#config ?? {}, partial, HANDLE_ALIASES);
    const config = mergeUpdate(OWNER, base, partial, knownOptions.circuitBreaker, ['initialState']);
    const settings = normalizeSettings(config);
    const current = this.#machine.telemetry;
    const telemetry =
      config.logger === current.logger && config.tracer === current.tracer && config.metrics === current.metrics
        ? current
        : Telemetry.for('circuit_breaker', config);
    return () => {
      this.#machine.reconfigure(settings, telemetry);
      this.#config = config;
    };
  }
}
