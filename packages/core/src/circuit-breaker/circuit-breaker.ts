import { supersede } from '../classify/compile.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { isCircuitOpenError } from '../errors/guards.js';
import { canAbort, enter, isAbortedContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { invoke, registerStepRunner, type StepOp } from '../internal/step.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { describeValue } from '../internal/validate.js';
import type { CallOutcome } from '../observability/types.js';
import { HANDLE_ALIASES, normalizeSettings, OWNER, openDuration, type Settings } from './config.js';
import { type CircuitBreakerEvents, circuitBreakerEvents } from './events.js';
import {
  askReadyToTrip,
  CANCELLED,
  classifyError,
  classifyResult,
  FAILURE,
  IGNORED,
  notifyTransition,
  type Outcome,
  outcomeNames,
  reject,
  STATE_ATTRIBUTE,
  SUCCESS,
} from './outcome.js';
import { readInitialState } from './snapshot.js';
import {
  type CircuitBreakerConfig,
  type CircuitBreakerSnapshot,
  type CircuitMode,
  type CircuitPermit,
  CircuitState,
  type Counts,
} from './types.js';
import { createWindow, type OutcomeWindow, ratesExceeded } from './windows.js';

const SPAN_NAME = 'resilience.circuit_breaker';
const CLOSED = CircuitState.Closed;
const OPEN = CircuitState.Open;
const HALF_OPEN = CircuitState.HalfOpen;
/** No expiry: the current generation lasts until something happens. */
const NONE = Number.POSITIVE_INFINITY;
/** The start time of a call whose duration is not measured (`#record` then measures nothing). */
const UNMEASURED = Number.NaN;
/** The telemetry every breaker configured with no `name`, `logger`, `tracer` or `metrics` shares. */
const PLAIN_TELEMETRY = Telemetry.for('circuit_breaker', {});

/** Whether `config` has an own enumerable key (checked without allocating). */
function hasOwnOptions(config: object): boolean {
  for (const key in config) if (Object.hasOwn(config, key)) return true;
  return false;
}

/**
 * The state only some breakers need, created the first time one needs it
 * (an option given, a listener, a transition that sets an expiry, a forced
 * mode). A default breaker that has never opened has none: its whole state
 * is the breaker's own nine fields (heap per instance, issue 16).
 */
class Extras<T> {
  state: CircuitState = CLOSED;
  /** The generation: calls admitted before it changed are not counted (0 until the side object exists). */
  generation = 0;
  telemetry: Telemetry = PLAIN_TELEMETRY;
  /** The listeners of `on()`. */
  events: EventHub<CircuitBreakerEvents> | undefined = undefined;
  /** The sliding window, when configured. */
  window: OutcomeWindow | undefined = undefined;
  /** The config as built and updated, for `update()` to merge over (a config with no options is not kept). */
  config: CircuitBreakerConfig<T> | undefined = undefined;
  mode: CircuitMode = 'auto';
  /** When the current generation ends (interval, open time or half-open bound); {@link NONE} for never. */
  expiry = NONE;
  /** Failed half-open episodes in a row (the open-time backoff). */
  failedEpisodes = 0;
}

/** How a {@link BreakerPermit} reports (set by the class's static block, which reaches its private state). */
let reportPermit: (
  breaker: CircuitBreaker<never>,
  generation: number,
  start: number,
  outcome: Outcome,
  error: unknown,
) => void;
/** The shared settlement callbacks of one generation of a breaker (set by the class's static block). */
let newSettlers: (breaker: CircuitBreaker<never>, generation: number) => Settlers;
/** How a permit asks its breaker to classify an error. */
let classifyPermitError: (breaker: CircuitBreaker<never>, error: unknown) => Outcome;

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
  // Seven fields, plus the brand V8 gives a class with private methods: a default breaker is 24 + 8 × 8 =
  // 88 bytes on 64-bit Node without pointer compression (issue 16 asks ≤ 100). Everything only some
  // breakers need lives in `#x`, created when first needed; without it the breaker is closed, in
  // automatic mode, in generation 0, with no expiry, window or listener.
  /** The normalised configuration (shared between breakers with equal settings; replaced by `update`). */
  #settings: Settings<T>;
  #x: Extras<T> | undefined = undefined;
  #requests = 0;
  #totalSuccesses = 0;
  #totalFailures = 0;
  /** The run of consecutive successes (positive) or failures (negative): one ends the other. */
  #streak = 0;
  /** The `then` callbacks of calls admitted before `#x` existed, made on the first such call. */
  #settlers: Settlers | undefined = undefined;

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
    const telemetry = Telemetry.for('circuit_breaker', config);
    this.#settings = settings;
    // A config with no options is not kept: `new CircuitBreaker({})` retains nothing of it.
    if (hasOwnOptions(config) || telemetry !== PLAIN_TELEMETRY || settings.window !== undefined) {
      const x = this.#extras();
      x.telemetry = telemetry;
      x.config = hasOwnOptions(config) ? config : undefined;
      if (settings.window !== undefined) x.window = createWindow(settings.window);
    }
    if (initial === undefined) {
      if (settings.interval > 0) this.#startGeneration(settings.clock.now());
    } else {
      const x = this.#extras();
      x.mode = initial.mode;
      x.failedEpisodes = initial.failedEpisodes;
      x.state = initial.state;
      const now = settings.clock.now();
      this.#startGeneration(now);
      const { counts, openRemainingMs } = initial;
      if (initial.state === CLOSED && counts !== undefined) this.#restoreCounts(counts);
      if (initial.state === OPEN && openRemainingMs !== undefined && x.mode === 'auto') {
        x.expiry = now + openRemainingMs;
      }
    }
    telemetry.recordCircuitBreakerState(this.#x?.state ?? CLOSED);
  }

  /** The current state, after any transition that is due (reading it may move open to half-open). */
  get state(): CircuitState {
    const x = this.#x;
    if (x === undefined) return CLOSED;
    if (x.expiry !== NONE) this.#refresh(this.#settings.clock.now());
    return x.state;
  }

  /** Who decides the state: `'auto'`, or `'isolated'` / `'disabled'` when forced. */
  get mode(): CircuitMode {
    return this.#x?.mode ?? 'auto';
  }

  /** A copy of the counts of the current generation (a new object on each read). */
  get counts(): Counts {
    void this.state; // applies any transition that is due
    return this.#counts();
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
    return this.#call(undefined, fn, options);
  }

  /** {@link CircuitBreaker.execute} of `invoke(op, arg, ctx)`: `fn(ctx)` itself, or a pipeline's step. */
  #call<R extends T>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    if (this.#x?.telemetry.tracer === undefined) return this.#run(op, arg, options);
    return this.#traced(op, arg, options);
  }

  /** {@link CircuitBreaker.execute} in a span (its closure kept out of `execute`, which would allocate its context). */
  #traced<R extends T>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    const telemetry = this.#telemetry;
    let attributes: Record<string, string> | undefined;
    try {
      attributes = { [STATE_ATTRIBUTE]: this.state };
    } catch {
      // A clock that throws: #run rejects with its error.
    }
    return telemetry.traced(SPAN_NAME, attributes, () => this.#run<R>(op, arg, options));
  }

  /**
   * One call, top to bottom: the prologue (a function, a context, not aborted
   * yet), admission, the start time when durations are measured, then the
   * work and its one settlement, `#settle`.
   */
  #run<R extends T>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    let ctx: ExecutionContext;
    let generation: number;
    let start = UNMEASURED;
    try {
      ctx = enter(OWNER, op ?? arg, options);
      generation = this.#admit();
      const settings = this.#settings;
      if (settings.timed) start = settings.clock.now();
    } catch (error) {
      this.#refused(error);
      return Promise.reject(error);
    }
    // A caller's signal that can abort is looked at when `fn` settles: aborted by then, the call is a cancellation.
    const watch = !this.#settings.countCancellations && canAbort(ctx);
    let result: R | PromiseLike<R>;
    try {
      result = invoke<R>(op, arg, ctx);
    } catch (error) {
      this.#settle(generation, start, watch && isAbortedContext(ctx), true, error);
      return Promise.reject(error);
    }
    if (!watch && Number.isNaN(start)) {
      // The second way to wait, which earns its place: nothing of its own to settle with, so the
      // generation's shared callbacks (no closure per call). `breaker-closed`, 2026-12-07 (load 7–9):
      // 98 B per call over the baseline this way, 283–367 B with `#settleLater`'s closures, 490 B with an
      // async frame; the times ranked the same (42–101 ns, 101–108 ns, 150–197 ns) but too noisy to quote.
      const settlers = this.#settlersFor(generation);
      try {
        return Promise.resolve(result).then(settlers.fulfilled<R>, settlers.rejected);
      } catch (error) {
        // A promise whose `constructor` or `then` getter throws: the call failed with that error, once.
        this.#settle(generation, start, false, true, error);
        return Promise.reject(error);
      }
    }
    return this.#settleLater(result, ctx, generation, start, watch);
  }

  /**
   * Settles a call that has its own start time or signal to look at: a `then` with two closures over
   * them, cheaper than an async frame (see above; kept out of `#run`, which would otherwise allocate
   * their context on every call).
   */
  #settleLater<R>(
    result: R | PromiseLike<R>,
    ctx: ExecutionContext,
    generation: number,
    start: number,
    watch: boolean,
  ): Promise<R> {
    try {
      return Promise.resolve(result).then(
        (value) => {
          this.#settle(generation, start, watch && isAbortedContext(ctx), false, value);
          return value;
        },
        (error: unknown) => {
          this.#settle(generation, start, watch && isAbortedContext(ctx), true, error);
          throw error;
        },
      );
    } catch (error) {
      // A promise whose `constructor` or `then` getter throws: the call failed with that error, once.
      this.#settle(generation, start, watch && isAbortedContext(ctx), true, error);
      return Promise.reject(error);
    }
  }

  /** The shared settlement callbacks of `generation` (replaced when a new generation's first call needs them). */
  #settlersFor(generation: number): Settlers {
    let settlers = this.#settlers;
    if (settlers === undefined || settlers.generation !== generation) {
      // Made elsewhere: a closure created here would make every call allocate this method's context.
      settlers = newSettlers(this as CircuitBreaker<never>, generation);
      this.#settlers = settlers;
    }
    return settlers;
  }

  /**
   * The one place a call's outcome is counted: a cancellation, a failure
   * (`error` classified by `isIgnored`, `isExcluded`, `isSuccessful`) or a
   * success (`result` classified by `isFailureResult`). A closed, plain
   * breaker with nobody listening counts a success in two steps (the total and the run).
   */
  #settle(generation: number, start: number, cancelled: boolean, threw: boolean, value: unknown): void {
    const x = this.#x;
    const quiet =
      x === undefined ||
      (x.events === undefined &&
        x.mode === 'auto' &&
        x.expiry === NONE &&
        x.state === CLOSED &&
        x.generation === generation);
    if (!threw && !cancelled && quiet && this.#settings.plain) {
      this.#succeededClosed();
      return;
    }
    const events = x?.events;
    let outcome: Outcome;
    if (cancelled) {
      outcome = CANCELLED;
      events?.emit('cancelled', {});
    } else if (threw) {
      outcome = classifyError(this.#settings, this.#telemetry, value);
      events?.emit(outcome === SUCCESS ? 'success' : outcome === FAILURE ? 'failure' : 'ignored', { error: value });
    } else {
      outcome = classifyResult(this.#settings, this.#telemetry, value as T);
      events?.emit(outcome === SUCCESS ? 'success' : 'failure', { result: value });
    }
    this.#record(generation, outcome, start);
  }

  /**
   * Asks for permission to make one call, for callers that cannot wrap their
   * work in a function. Report the outcome on the returned permit.
   *
   * @throws CircuitOpenError (with `retryAfterMs`) when the call is not admitted
   */
  acquire(): CircuitPermit {
    let generation: number;
    try {
      generation = this.#admit();
    } catch (error) {
      this.#refused(error);
      throw error;
    }
    const settings = this.#settings;
    return new BreakerPermit(
      this as CircuitBreaker<never>,
      generation,
      settings.timed ? settings.clock.now() : UNMEASURED,
    );
  }

  /**
   * Back to a fresh closed breaker: counts, windows and backoff cleared, a
   * forced mode released, a new generation (late results are ignored).
   */
  reset(): void {
    this.#force('auto');
  }

  /** Forces the breaker open until {@link CircuitBreaker.release}: every call is rejected. */
  isolate(): void {
    this.#force('isolated');
  }

  /** Forces the breaker closed until {@link CircuitBreaker.release}: every call passes and nothing is counted. */
  disable(): void {
    this.#force('disabled');
  }

  /** Ends {@link CircuitBreaker.isolate} or {@link CircuitBreaker.disable}: the same as {@link CircuitBreaker.reset}. */
  release(): void {
    this.#force('auto');
  }

  /** A snapshot of the state for `initialState` (JSON-safe; `JSON.stringify(breaker)` uses it). */
  toJSON(): CircuitBreakerSnapshot {
    const state = this.state;
    const x = this.#x;
    const mode = x?.mode ?? 'auto';
    const open = state === OPEN && mode === 'auto' && x !== undefined;
    return {
      state,
      mode,
      counts: this.#counts(),
      ...(open ? { openRemainingMs: Math.max(0, x.expiry - this.#settings.clock.now()) } : {}),
      failedEpisodes: x?.failedEpisodes ?? 0,
      savedAt: Date.now(),
    };
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
    const x = this.#extras();
    x.events ??= new EventHub<CircuitBreakerEvents>(OWNER, x.telemetry);
    return x.events.on(circuitBreakerEvents, event, listener);
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
    // biome-ignore lint/complexity/noThisInStatic: as above
    registerStepRunner(this, (breaker, op, arg, options) => breaker.#call(op, arg, options));
    reportPermit = (breaker, generation, start, outcome, error) => breaker.#reported(generation, start, outcome, error);
    newSettlers = (breaker, generation) =>
      new Settlers(
        generation,
        (value) => {
          breaker.#settle(generation, UNMEASURED, false, false, value);
          return value;
        },
        (error) => {
          breaker.#settle(generation, UNMEASURED, false, true, error);
          throw error;
        },
      );
    classifyPermitError = (breaker, error) => classifyError(breaker.#settings, breaker.#telemetry, error);
  }

  /** The validating half of {@link CircuitBreaker.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<CircuitBreakerConfig<T>>): Commit {
    const base = supersede(this.#x?.config ?? {}, partial, HANDLE_ALIASES);
    const config = mergeUpdate(OWNER, base, partial, knownOptions.circuitBreaker, ['initialState']);
    const settings = normalizeSettings(config);
    const current = this.#telemetry;
    const telemetry =
      config.logger === current.logger && config.tracer === current.tracer && config.metrics === current.metrics
        ? current
        : Telemetry.for('circuit_breaker', config);
    return () => {
      this.#reconfigure(settings, telemetry);
      this.#extras().config = config;
    };
  }

  // ——— The state machine: gobreaker's lazy transitions and generations, plus windows, backoff and the
  // half-open bound. Every time-dependent transition happens when something looks, never on a timer.

  /** The side object, created on first need. */
  #extras(): Extras<T> {
    let x = this.#x;
    if (x === undefined) {
      x = new Extras<T>();
      this.#x = x;
    }
    return x;
  }

  get #telemetry(): Telemetry {
    return this.#x?.telemetry ?? PLAIN_TELEMETRY;
  }

  /** Tells `'rejected'` listeners, if any, about a refused admission. */
  #refused(error: unknown): void {
    const events = this.#x?.events;
    if (events !== undefined && isCircuitOpenError(error)) events.emit('rejected', { error });
  }

  /** Admits a call (counting it) and returns its generation, or throws `CircuitOpenError`. */
  #admit(): number {
    const x = this.#x;
    // No side object: closed, automatic, no expiry.
    if (x === undefined) {
      this.#requests++;
      return 0;
    }
    if (x.state === CLOSED && x.expiry === NONE && x.mode === 'auto') {
      this.#requests++;
      return x.generation;
    }
    if (x.mode === 'disabled') return x.generation;
    if (x.mode === 'isolated') throw reject(x.telemetry, 'Circuit breaker is isolated', undefined);
    const settings = this.#settings;
    const now = settings.clock.now();
    this.#refresh(now);
    const state = x.state;
    if (state === OPEN) throw reject(x.telemetry, undefined, Math.max(0, x.expiry - now));
    if (state === HALF_OPEN) {
      if (this.#requests >= settings.maxRequests) {
        // While half-open and full: the time until the episode's bound passes plus the next open time.
        const retryAfter =
          x.expiry === NONE ? undefined : Math.max(0, x.expiry - now) + openDuration(settings, x.failedEpisodes + 1);
        throw reject(x.telemetry, 'Circuit breaker is half-open and admits no more probes', retryAfter);
      }
      x.expiry = now + settings.halfOpenTimeout;
    }
    this.#requests++;
    return x.generation;
  }

  /** A permit's first report: tells the listeners, then counts it. */
  #reported(generation: number, start: number, outcome: Outcome, error: unknown): void {
    const events = this.#x?.events;
    if (events !== undefined) {
      if (outcome === SUCCESS) events.emit('success', error === undefined ? {} : { error });
      else if (outcome === FAILURE) events.emit('failure', { error });
      else if (outcome === IGNORED) events.emit('ignored', { error });
      else events.emit('cancelled', {});
    }
    this.#record(generation, outcome, start);
  }

  /** Counts a finished call of `generation`; a result of an earlier generation changes nothing. */
  #record(generation: number, outcome: Outcome, start: number): void {
    try {
      this.#count(generation, outcome, start);
    } catch (err) {
      // Only a broken clock gets here (every callback is guarded): the call keeps its own outcome.
      this.#telemetry.log('error', 'circuit breaker could not record an outcome', { err });
    }
  }

  #count(generation: number, outcome: Outcome, start: number): void {
    const settings = this.#settings;
    const telemetry = this.#telemetry;
    let now = Number.NaN;
    let slow = false;
    // A call that started UNMEASURED (NaN) stays unmeasured, even if `update()` has since made calls timed.
    if (settings.timed && !Number.isNaN(start)) {
      now = settings.clock.now();
      const duration = now - start;
      slow = duration > settings.slowCallDuration;
      if (telemetry.metrics !== undefined)
        telemetry.recordCircuitBreakerCall(outcomeNames[outcome] as CallOutcome, duration / 1000);
    }
    const x = this.#x;
    if (x !== undefined) {
      if (x.mode !== 'auto') return;
      if (x.expiry !== NONE) {
        if (Number.isNaN(now)) now = settings.clock.now();
        this.#refresh(now);
      }
    }
    if (generation !== (x?.generation ?? 0)) return;
    if (outcome === IGNORED || outcome === CANCELLED) {
      if (this.#requests > 0) this.#requests--;
      return;
    }
    if ((x?.state ?? CLOSED) === CLOSED) this.#countClosed(outcome, slow, now);
    else this.#countHalfOpen(outcome === FAILURE || slow, now);
  }

  /** gobreaker's closed `onSuccess`/`onFailure`, plus the window and its rates. */
  #countClosed(outcome: Outcome, slow: boolean, now: number): void {
    const failed = outcome === FAILURE;
    if (failed) {
      this.#totalFailures++;
      this.#streak = this.#streak < 0 ? this.#streak - 1 : -1;
    } else {
      this.#succeededClosed();
    }
    const settings = this.#settings;
    const window = this.#x?.window;
    let trip = false;
    if (window !== undefined) {
      window.record(Number.isNaN(now) && settings.window?.kind === 'time' ? settings.clock.now() : now, failed, slow);
      if (failed || slow) trip = ratesExceeded(window, settings.window!);
    }
    if (failed && !trip) trip = askReadyToTrip(settings, this.#telemetry, () => this.#counts());
    if (trip) this.#transition(OPEN, Number.isNaN(now) ? settings.clock.now() : now);
  }

  /** gobreaker's half-open rules: any failure (or slow probe) opens, `maxRequests` successes in a row close. */
  #countHalfOpen(failed: boolean, now: number): void {
    const at = Number.isNaN(now) ? this.#settings.clock.now() : now;
    if (failed) {
      this.#transition(OPEN, at);
      return;
    }
    this.#succeededClosed();
    if (this.#streak >= this.#settings.maxRequests) this.#transition(CLOSED, at);
  }

  /** Applies the transitions that are due at `now` (gobreaker's `currentState`). */
  #refresh(now: number): void {
    const x = this.#x;
    if (x === undefined) return;
    while (x.mode === 'auto') {
      const expiry = x.expiry;
      if (!(expiry < now)) return;
      const state = x.state;
      if (state === CLOSED) {
        this.#startGeneration(now);
        return;
      }
      if (state === OPEN) {
        this.#transition(HALF_OPEN, now);
      } else if (this.#requests >= this.#settings.maxRequests) {
        // Every probe slot is taken and none reported in time: the episode failed when its bound passed.
        this.#transition(OPEN, expiry);
      } else {
        return;
      }
    }
  }

  /** `'isolated'` forces open, `'disabled'` forces closed, `'auto'` restarts closed and clean; a new generation. */
  #force(mode: CircuitMode): void {
    const x = this.#extras();
    x.mode = mode;
    const target = mode === 'isolated' ? OPEN : CLOSED;
    if (mode === 'auto') {
      x.failedEpisodes = 0;
      x.window?.reset();
    }
    const now = this.#settings.clock.now();
    if (x.state === target) this.#startGeneration(now);
    else this.#transition(target, now);
  }

  /** Moves to `to` (nothing when already there), starts a new generation, then notifies. */
  #transition(to: CircuitState, now: number): void {
    const x = this.#extras();
    const from = x.state;
    if (from === to) return;
    x.state = to;
    if (to === CLOSED) {
      x.failedEpisodes = 0;
      x.window?.reset();
    } else if (from === HALF_OPEN && to === OPEN && x.mode === 'auto') {
      x.failedEpisodes++;
    }
    this.#startGeneration(now);
    notifyTransition(x.telemetry, this.#settings.onStateChange, from, to);
    x.events?.emit('stateChange', { from, to });
  }

  /** gobreaker's `toNewGeneration`: a new generation, cleared counts, the expiry of the current state. */
  #startGeneration(now: number): void {
    const x = this.#extras();
    x.generation++;
    this.#requests = 0;
    this.#totalSuccesses = 0;
    this.#totalFailures = 0;
    this.#streak = 0;
    const settings = this.#settings;
    const state = x.state;
    if (x.mode !== 'auto' || state === HALF_OPEN) x.expiry = NONE;
    else if (state === OPEN) x.expiry = now + openDuration(settings, x.failedEpisodes);
    else x.expiry = settings.interval > 0 ? now + settings.interval : NONE;
  }

  /** Counts a success: one more in total and in the current run of successes (which ends a run of failures). */
  #succeededClosed(): void {
    this.#totalSuccesses++;
    this.#streak = this.#streak > 0 ? this.#streak + 1 : 1;
  }

  /** A copy of the counts (no transition applied: read `state` first). */
  #counts(): Counts {
    return {
      requests: this.#requests,
      totalSuccesses: this.#totalSuccesses,
      totalFailures: this.#totalFailures,
      consecutiveSuccesses: this.#streak > 0 ? this.#streak : 0,
      consecutiveFailures: this.#streak < 0 ? -this.#streak : 0,
    };
  }

  /** Sets the counts from a snapshot. */
  #restoreCounts(counts: Counts): void {
    this.#requests = counts.requests;
    this.#totalSuccesses = counts.totalSuccesses;
    this.#totalFailures = counts.totalFailures;
    // `readInitialState` never gives both runs (a failure ends a run of successes).
    this.#streak = counts.consecutiveFailures > 0 ? -counts.consecutiveFailures : counts.consecutiveSuccesses;
  }

  /**
   * Takes new settings at run time (see {@link CircuitBreaker.update}): state,
   * mode, counts and generation stay; a changed window starts empty; a closed
   * breaker's `interval` restarts now; an open breaker keeps the open time it
   * started with; a new metrics recorder is told the current state.
   */
  #reconfigure(settings: Settings<T>, telemetry: Telemetry): void {
    const previous = this.#settings;
    const now = settings.clock.now();
    const x = this.#extras();
    if (x.expiry !== NONE) this.#refresh(now);
    this.#settings = settings;
    if (!sameWindow(previous.window, settings.window)) {
      x.window = settings.window === undefined ? undefined : createWindow(settings.window);
    }
    if (x.state === CLOSED && x.mode === 'auto' && previous.interval !== settings.interval) {
      x.expiry = settings.interval > 0 ? now + settings.interval : NONE;
    }
    const recorderChanged = telemetry.metrics !== x.telemetry.metrics || telemetry.name !== x.telemetry.name;
    x.telemetry = telemetry;
    if (x.events !== undefined) x.events.telemetry = telemetry;
    if (recorderChanged) telemetry.recordCircuitBreakerState(x.state);
  }
}

function sameWindow(a: Settings<unknown>['window'], b: Settings<unknown>['window']): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.kind === b.kind && a.slots === b.slots && a.bucketMs === b.bucketMs;
}

/** `then` callbacks for the calls of one generation that have no start time and watch no signal. */
class Settlers {
  readonly generation: number;
  readonly fulfilled: <V>(value: V) => V;
  readonly rejected: (error: unknown) => never;

  constructor(generation: number, fulfilled: <V>(value: V) => V, rejected: (error: unknown) => never) {
    this.generation = generation;
    this.fulfilled = fulfilled;
    this.rejected = rejected;
  }
}

/** The permit of one admitted call (see {@link CircuitBreaker.acquire}); only its first report counts. */
class BreakerPermit implements CircuitPermit {
  #breaker: CircuitBreaker<never> | undefined;
  readonly #generation: number;
  readonly #start: number;

  constructor(breaker: CircuitBreaker<never>, generation: number, start: number) {
    this.#breaker = breaker;
    this.#generation = generation;
    this.#start = start;
  }

  /** Reports a success (see {@link CircuitPermit.success}). */
  success(): void {
    this.#report(SUCCESS);
  }

  /** Reports a failure, classifying `error` when given (see {@link CircuitPermit.failure}). */
  failure(error?: unknown): void {
    const breaker = this.#breaker;
    if (breaker === undefined) return;
    this.#report(error === undefined ? FAILURE : classifyPermitError(breaker, error), error);
  }

  /** Reports neither (see {@link CircuitPermit.ignore}). */
  ignore(): void {
    this.#report(IGNORED);
  }

  /** Reports a cancellation (see {@link CircuitPermit.cancel}). */
  cancel(): void {
    this.#report(CANCELLED);
  }

  #report(outcome: Outcome, error?: unknown): void {
    const breaker = this.#breaker;
    if (breaker === undefined) return;
    this.#breaker = undefined;
    reportPermit(breaker, this.#generation, this.#start, outcome, error);
  }
}
