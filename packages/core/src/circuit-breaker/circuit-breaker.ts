import type { ExecuteOptions, Operation, Policy } from '../context.js';
import { CircuitOpenError } from '../errors/errors.js';
import { toContext } from '../internal/context.js';
import { Telemetry } from '../internal/telemetry.js';
import type { CallOutcome } from '../observability/types.js';
import { normalizeSettings, type Settings } from './config.js';
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

const CLOSED = CircuitState.Closed;
const OPEN = CircuitState.Open;
const HALF_OPEN = CircuitState.HalfOpen;
const NONE = Number.POSITIVE_INFINITY;

/** How a call ended: an index into {@link outcomeNames}. */
type Outcome = 0 | 1 | 2;
const SUCCESS: Outcome = 0;
const FAILURE: Outcome = 1;
const IGNORED: Outcome = 2;
const outcomeNames: readonly CallOutcome[] = ['success', 'failure', 'ignored'];

const SPAN_NAME = 'resilience.circuit_breaker';
const STATE_ATTRIBUTE = 'resilience.circuit_breaker.state';

/** Friend access for {@link BreakerPermit}, set in the static block of {@link CircuitBreaker}. */
let settlePermit: (breaker: CircuitBreaker<never>, generation: number, outcome: Outcome, start: number) => void;
let classifyError: (breaker: CircuitBreaker<never>, error: unknown) => Outcome;

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
 * const breaker = new CircuitBreaker({ timeout: 30_000, isFailureResult: (res: Response) => res.status >= 500 });
 * const res = await breaker.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export class CircuitBreaker<T = unknown> implements Policy<T> {
  readonly #settings: Settings<T>;
  readonly #telemetry: Telemetry;
  readonly #window: OutcomeWindow | undefined;
  #state: CircuitState = CLOSED;
  #mode: CircuitMode = 'auto';
  #generation = 0;
  /** When the current generation ends (interval, open time or half-open bound); `Infinity` for never. */
  #expiry = NONE;
  #requests = 0;
  #totalSuccesses = 0;
  #totalFailures = 0;
  #consecutiveSuccesses = 0;
  #consecutiveFailures = 0;
  #failedEpisodes = 0;

  static {
    settlePermit = (breaker, generation, outcome, start) => breaker.#record(generation, outcome, start);
    classifyError = (breaker, error) => breaker.#classifyError(error);
  }

  /**
   * @param config - gobreaker's settings and the extensions; bad values throw
   *   a `TypeError` or `RangeError` naming the option
   */
  constructor(config: CircuitBreakerConfig<T> = {}) {
    if (config === null || typeof config !== 'object') {
      throw new TypeError(`CircuitBreaker: config must be an object, got ${String(config)}`);
    }
    this.#settings = normalizeSettings(config);
    this.#telemetry = Telemetry.for('circuit_breaker', config);
    const window = this.#settings.window;
    this.#window = window === undefined ? undefined : createWindow(window);
    const initial = readInitialState(config.initialState);
    if (initial === undefined) {
      if (this.#settings.interval > 0) this.#startGeneration(this.#settings.clock.now());
    } else {
      this.#mode = initial.mode;
      this.#failedEpisodes = initial.failedEpisodes;
      this.#state = initial.state;
      this.#startGeneration(this.#settings.clock.now());
      const { counts, openRemainingMs } = initial;
      if (initial.state === CLOSED && counts !== undefined) this.#restoreCounts(counts);
      if (initial.state === OPEN && openRemainingMs !== undefined && this.#mode === 'auto') {
        this.#expiry = this.#settings.clock.now() + openRemainingMs;
      }
    }
    this.#telemetry.metrics?.recordCircuitBreakerState(this.#telemetry.name, this.#state);
  }

  /** The current state, after any transition that is due (reading it may move open to half-open). */
  get state(): CircuitState {
    if (this.#expiry !== NONE) this.#refresh(this.#settings.clock.now());
    return this.#state;
  }

  /** Who decides the state: `'auto'`, or `'isolated'` / `'disabled'` when forced. */
  get mode(): CircuitMode {
    return this.#mode;
  }

  /** A copy of the counts of the current generation (a new object on each read). */
  get counts(): Counts {
    if (this.#expiry !== NONE) this.#refresh(this.#settings.clock.now());
    return this.#copyCounts();
  }

  /**
   * Runs `fn` if the breaker admits it and counts its outcome. Rejects with
   * `CircuitOpenError` (with `retryAfterMs`) without calling `fn` when open,
   * or half-open with every probe slot taken; with the signal's reason when the
   * caller's signal has already aborted. Otherwise settles with `fn`'s own
   * value or error.
   *
   * @param fn - the work; it receives the caller's context
   * @param options - the caller's signal, deadline and attempt (an outer pattern's context fits)
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    const telemetry = this.#telemetry;
    if (telemetry.tracer === undefined) return this.#run(fn, options);
    return telemetry.traced(SPAN_NAME, { [STATE_ATTRIBUTE]: this.state }, () => this.#run(fn, options));
  }

  /**
   * Asks for permission to make one call, for callers that cannot wrap their
   * work in a function. Report the outcome on the returned permit.
   *
   * @throws CircuitOpenError (with `retryAfterMs`) when the call is not admitted
   */
  acquire(): CircuitPermit {
    const generation = this.#admit();
    const settings = this.#settings;
    return new BreakerPermit(this as CircuitBreaker<never>, generation, settings.timed ? settings.clock.now() : 0);
  }

  /**
   * Back to a fresh closed breaker: counts, windows and backoff cleared, a
   * forced mode released, a new generation (late results are ignored).
   */
  reset(): void {
    this.#mode = 'auto';
    this.#failedEpisodes = 0;
    this.#window?.reset();
    const now = this.#settings.clock.now();
    if (this.#state === CLOSED) this.#startGeneration(now);
    else this.#transition(CLOSED, now);
  }

  /** Forces the breaker open until {@link CircuitBreaker.release}: every call is rejected. */
  isolate(): void {
    this.#mode = 'isolated';
    const now = this.#settings.clock.now();
    if (this.#state === OPEN) this.#startGeneration(now);
    else this.#transition(OPEN, now);
  }

  /** Forces the breaker closed until {@link CircuitBreaker.release}: every call passes and nothing is counted. */
  disable(): void {
    this.#mode = 'disabled';
    const now = this.#settings.clock.now();
    if (this.#state === CLOSED) this.#startGeneration(now);
    else this.#transition(CLOSED, now);
  }

  /** Ends {@link CircuitBreaker.isolate} or {@link CircuitBreaker.disable}: the same as {@link CircuitBreaker.reset}. */
  release(): void {
    this.reset();
  }

  /** A snapshot of the state for `initialState` (JSON-safe; `JSON.stringify(breaker)` uses it). */
  toJSON(): CircuitBreakerSnapshot {
    const state = this.state;
    const open = state === OPEN && this.#mode === 'auto';
    return {
      state,
      mode: this.#mode,
      counts: this.#copyCounts(),
      ...(open ? { openRemainingMs: Math.max(0, this.#expiry - this.#settings.clock.now()) } : {}),
      failedEpisodes: this.#failedEpisodes,
      savedAt: Date.now(),
    };
  }

  async #run<R extends T>(fn: Operation<R>, options: ExecuteOptions | undefined): Promise<R> {
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    const generation = this.#admit();
    const settings = this.#settings;
    const start = settings.timed ? settings.clock.now() : 0;
    let result: R;
    try {
      result = await fn(toContext(options));
    } catch (error) {
      this.#record(generation, this.#classifyError(error), start);
      throw error;
    }
    this.#record(generation, this.#classifyResult(result), start);
    return result;
  }

  /** Admits a call (counting it) and returns its generation, or throws `CircuitOpenError`. */
  #admit(): number {
    if (this.#state === CLOSED && this.#expiry === NONE && this.#mode === 'auto') {
      this.#requests++;
      return this.#generation;
    }
    if (this.#mode === 'disabled') return this.#generation;
    if (this.#mode === 'isolated') throw this.#reject('Circuit breaker is isolated', undefined);
    const settings = this.#settings;
    const now = settings.clock.now();
    this.#refresh(now);
    const state = this.#state;
    if (state === OPEN) throw this.#reject(undefined, Math.max(0, this.#expiry - now));
    if (state === HALF_OPEN) {
      if (this.#requests >= settings.maxRequests) {
        throw this.#reject('Circuit breaker is half-open and admits no more probes', this.#halfOpenRetryAfter(now));
      }
      this.#expiry = now + settings.halfOpenTimeout;
    }
    this.#requests++;
    return this.#generation;
  }

  #reject(message: string | undefined, retryAfterMs: number | undefined): CircuitOpenError {
    const telemetry = this.#telemetry;
    telemetry.metrics?.recordCircuitBreakerCall?.(telemetry.name, 'rejected');
    return new CircuitOpenError(message === undefined ? { retryAfterMs } : { retryAfterMs, message });
  }

  /** While half-open and full: the time until the episode's bound passes plus the next open time. */
  #halfOpenRetryAfter(now: number): number | undefined {
    const expiry = this.#expiry;
    if (expiry === NONE) return undefined;
    return Math.max(0, expiry - now) + this.#openDuration(this.#failedEpisodes + 1);
  }

  /** Counts a finished call of `generation`; a result of an earlier generation changes nothing. */
  #record(generation: number, outcome: Outcome, start: number): void {
    const settings = this.#settings;
    const telemetry = this.#telemetry;
    let now = Number.NaN;
    let slow = false;
    if (settings.timed) {
      now = settings.clock.now();
      const duration = now - start;
      slow = duration > settings.slowCallDuration;
      const metrics = telemetry.metrics;
      if (metrics !== undefined) {
        metrics.recordCircuitBreakerCall?.(telemetry.name, outcomeNames[outcome] as CallOutcome);
        metrics.recordCallDuration?.(
          telemetry.name,
          'circuit_breaker',
          outcomeNames[outcome] as CallOutcome,
          duration / 1000,
        );
      }
    }
    if (this.#mode !== 'auto') return;
    if (this.#expiry !== NONE) {
      if (Number.isNaN(now)) now = settings.clock.now();
      this.#refresh(now);
    }
    if (generation !== this.#generation) return;
    if (outcome === IGNORED) {
      if (this.#requests > 0) this.#requests--;
      return;
    }
    if (this.#state === CLOSED) this.#recordClosed(outcome, slow, now);
    else this.#recordHalfOpen(outcome === FAILURE || slow, now);
  }

  #recordClosed(outcome: Outcome, slow: boolean, now: number): void {
    const failed = outcome === FAILURE;
    if (failed) {
      this.#totalFailures++;
      this.#consecutiveFailures++;
      this.#consecutiveSuccesses = 0;
    } else {
      this.#totalSuccesses++;
      this.#consecutiveSuccesses++;
      this.#consecutiveFailures = 0;
    }
    const window = this.#window;
    let trip = false;
    if (window !== undefined) {
      const settings = this.#settings;
      window.record(Number.isNaN(now) && settings.window?.kind === 'time' ? settings.clock.now() : now, failed, slow);
      if (failed || slow) trip = ratesExceeded(window, settings.window!);
    }
    if (failed && !trip) trip = this.#askReadyToTrip();
    if (trip) this.#transition(OPEN, Number.isNaN(now) ? this.#settings.clock.now() : now);
  }

  #recordHalfOpen(failed: boolean, now: number): void {
    const at = Number.isNaN(now) ? this.#settings.clock.now() : now;
    if (failed) {
      this.#transition(OPEN, at);
      return;
    }
    this.#totalSuccesses++;
    this.#consecutiveSuccesses++;
    this.#consecutiveFailures = 0;
    if (this.#consecutiveSuccesses >= this.#settings.maxRequests) this.#transition(CLOSED, at);
  }

  #askReadyToTrip(): boolean {
    const readyToTrip = this.#settings.readyToTrip;
    if (readyToTrip === undefined) return false;
    try {
      return Boolean(readyToTrip(this.#copyCounts()));
    } catch (err) {
      this.#telemetry.log('error', 'readyToTrip threw', { err });
      return false;
    }
  }

  #classifyError(error: unknown): Outcome {
    const { isIgnored, isSuccessful } = this.#settings;
    if (isIgnored === undefined && isSuccessful === undefined) return FAILURE;
    try {
      if (isIgnored?.(error)) return IGNORED;
      return isSuccessful?.(error) ? SUCCESS : FAILURE;
    } catch (err) {
      this.#telemetry.log('error', 'isIgnored or isSuccessful threw', { err });
      return FAILURE;
    }
  }

  #classifyResult(result: T): Outcome {
    const isFailureResult = this.#settings.isFailureResult;
    if (isFailureResult === undefined) return SUCCESS;
    try {
      return isFailureResult(result) ? FAILURE : SUCCESS;
    } catch (err) {
      this.#telemetry.log('error', 'isFailureResult threw', { err });
      return SUCCESS;
    }
  }

  /** Applies the transitions that are due at `now` (gobreaker's `currentState`). */
  #refresh(now: number): void {
    while (this.#mode === 'auto') {
      const expiry = this.#expiry;
      if (!(expiry < now)) return;
      const state = this.#state;
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

  /** Moves to `to` (nothing when already there), starts a new generation, then notifies. */
  #transition(to: CircuitState, now: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to === CLOSED) {
      this.#failedEpisodes = 0;
      this.#window?.reset();
    } else if (from === HALF_OPEN && to === OPEN && this.#mode === 'auto') {
      this.#failedEpisodes++;
    }
    this.#startGeneration(now);
    this.#notify(from, to);
  }

  #notify(from: CircuitState, to: CircuitState): void {
    const telemetry = this.#telemetry;
    telemetry.log(to === OPEN ? 'warn' : 'info', 'circuit breaker state changed', {
      'resilience.circuit_breaker.from': from,
      [STATE_ATTRIBUTE]: to,
    });
    telemetry.metrics?.recordCircuitBreakerState(telemetry.name, to);
    telemetry.invokeHook(this.#settings.onStateChange, 'onStateChange', from, to);
  }

  /** gobreaker's `toNewGeneration`: a new generation, cleared counts, the expiry of the current state. */
  #startGeneration(now: number): void {
    this.#generation++;
    this.#requests = 0;
    this.#totalSuccesses = 0;
    this.#totalFailures = 0;
    this.#consecutiveSuccesses = 0;
    this.#consecutiveFailures = 0;
    const settings = this.#settings;
    const state = this.#state;
    if (this.#mode !== 'auto' || state === HALF_OPEN) this.#expiry = NONE;
    else if (state === OPEN) this.#expiry = now + this.#openDuration(this.#failedEpisodes);
    else this.#expiry = settings.interval > 0 ? now + settings.interval : NONE;
  }

  /** The open time after `failedEpisodes` failed half-open episodes in a row. */
  #openDuration(failedEpisodes: number): number {
    const { timeout, backoffMultiplier, maxTimeout } = this.#settings;
    if (failedEpisodes === 0 || backoffMultiplier === 1) return timeout;
    return Math.min(timeout * backoffMultiplier ** failedEpisodes, maxTimeout);
  }

  #copyCounts(): Counts {
    return {
      requests: this.#requests,
      totalSuccesses: this.#totalSuccesses,
      totalFailures: this.#totalFailures,
      consecutiveSuccesses: this.#consecutiveSuccesses,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }

  #restoreCounts(counts: Counts): void {
    this.#requests = counts.requests;
    this.#totalSuccesses = counts.totalSuccesses;
    this.#totalFailures = counts.totalFailures;
    this.#consecutiveSuccesses = counts.consecutiveSuccesses;
    this.#consecutiveFailures = counts.consecutiveFailures;
  }
}

/** The permit of one admitted call; only its first report counts. */
class BreakerPermit implements CircuitPermit {
  #breaker: CircuitBreaker<never> | undefined;
  readonly #generation: number;
  readonly #start: number;

  constructor(breaker: CircuitBreaker<never>, generation: number, start: number) {
    this.#breaker = breaker;
    this.#generation = generation;
    this.#start = start;
  }

  success(): void {
    this.#settle(SUCCESS);
  }

  failure(error?: unknown): void {
    const breaker = this.#breaker;
    if (breaker === undefined) return;
    this.#settle(error === undefined ? FAILURE : classifyError(breaker, error));
  }

  ignore(): void {
    this.#settle(IGNORED);
  }

  #settle(outcome: Outcome): void {
    const breaker = this.#breaker;
    if (breaker === undefined) return;
    this.#breaker = undefined;
    settlePermit(breaker, this.#generation, outcome, this.#start);
  }
}
