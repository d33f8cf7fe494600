import type { EventHub } from '../internal/events.js';
import type { Telemetry } from '../internal/telemetry.js';
import type { CallOutcome } from '../observability/types.js';
import { openDuration, type Settings } from './config.js';
import type { CircuitBreakerEvents } from './events.js';
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
  SUCCESS,
} from './outcome.js';
import type { InitialState } from './snapshot.js';
import { type CircuitBreakerSnapshot, type CircuitMode, CircuitState, type Counts } from './types.js';
import { createWindow, type OutcomeWindow, ratesExceeded } from './windows.js';

const CLOSED = CircuitState.Closed;
const OPEN = CircuitState.Open;
const HALF_OPEN = CircuitState.HalfOpen;
const NONE = Number.POSITIVE_INFINITY;
/** The start time of a call whose duration is not measured (`record` then measures nothing). */
export const UNMEASURED: number = Number.NaN;

/**
 * The state machine behind a `CircuitBreaker` (internal): gobreaker's lazy
 * transitions and generations, plus windows, backoff and the half-open bound.
 * Every time-dependent transition happens when something looks, never on a timer.
 */
export class CircuitStateMachine<T> {
  /** The normalised configuration (replaced by `reconfigure`). */
  settings: Settings<T>;
  /** Logs, spans and metrics (replaced by `reconfigure`). */
  telemetry: Telemetry;
  #window: OutcomeWindow | undefined;
  /** The listeners of `on()`; `undefined` until the first one, so nobody listening costs one field test. */
  events: EventHub<CircuitBreakerEvents> | undefined = undefined;
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
  #settlers: Settlers<T> | undefined = undefined;

  /**
   * @param settings - the normalised configuration
   * @param telemetry - the breaker's telemetry
   * @param initial - a checked `initialState`, if any
   */
  constructor(settings: Settings<T>, telemetry: Telemetry, initial: InitialState | undefined) {
    this.settings = settings;
    this.telemetry = telemetry;
    const window = settings.window;
    this.#window = window === undefined ? undefined : createWindow(window);
    if (initial === undefined) {
      if (settings.interval > 0) this.startGeneration(settings.clock.now());
    } else {
      this.#mode = initial.mode;
      this.#failedEpisodes = initial.failedEpisodes;
      this.#state = initial.state;
      const now = settings.clock.now();
      this.startGeneration(now);
      const { counts, openRemainingMs } = initial;
      if (initial.state === CLOSED && counts !== undefined) this.#restoreCounts(counts);
      if (initial.state === OPEN && openRemainingMs !== undefined && this.#mode === 'auto') {
        this.#expiry = now + openRemainingMs;
      }
    }
    telemetry.recordCircuitBreakerState(this.#state);
  }

  /** The current state, after any transition that is due. */
  get state(): CircuitState {
    if (this.#expiry !== NONE) this.refresh(this.settings.clock.now());
    return this.#state;
  }

  /** Who decides the state. */
  get mode(): CircuitMode {
    return this.#mode;
  }

  /** `'isolated'` forces open, `'disabled'` forces closed, `'auto'` restarts closed and clean; a new generation. */
  force(mode: CircuitMode): void {
    this.#mode = mode;
    const target = mode === 'isolated' ? OPEN : CLOSED;
    if (mode === 'auto') {
      this.#failedEpisodes = 0;
      this.#window?.reset();
    }
    const now = this.settings.clock.now();
    if (this.#state === target) this.startGeneration(now);
    else this.transition(target, now);
  }

  /** The state as a snapshot for `initialState`. */
  snapshot(): CircuitBreakerSnapshot {
    const state = this.state;
    const open = state === OPEN && this.#mode === 'auto';
    return {
      state,
      mode: this.#mode,
      counts: this.counts(),
      ...(open ? { openRemainingMs: Math.max(0, this.#expiry - this.settings.clock.now()) } : {}),
      failedEpisodes: this.#failedEpisodes,
      savedAt: Date.now(),
    };
  }

  /** Counts a call that returned `result` (a failure if `isFailureResult` says so); a closed plain success is fast. */
  succeeded(generation: number, result: T, start: number): void {
    const settings = this.settings;
    const fast =
      settings.plain && this.#state === CLOSED && this.#expiry === NONE && this.#mode === 'auto' && !this.events;
    if (fast && generation === this.#generation) {
      this.#totalSuccesses++;
      this.#consecutiveSuccesses++;
      this.#consecutiveFailures = 0;
      return;
    }
    const outcome = classifyResult(settings, this.telemetry, result);
    this.events?.emit(outcome === SUCCESS ? 'success' : 'failure', { result });
    this.record(generation, outcome, start);
  }

  /**
   * The settlement callbacks for calls of `generation` that need no start
   * time: made once per generation, so a call settles with a `then` and no
   * closure of its own.
   */
  settlersFor(generation: number): Settlers<T> {
    let settlers = this.#settlers;
    if (settlers === undefined || settlers.generation !== generation) {
      settlers = new Settlers(this, generation);
      this.#settlers = settlers;
    }
    return settlers;
  }

  /** Records a call of `generation` whose caller's signal aborted while it ran: neither success nor failure. */
  cancelled(generation: number, start: number): void {
    this.events?.emit('cancelled', {});
    this.record(generation, CANCELLED, start);
  }

  /** Counts a call of `generation` that threw `error` (see `isIgnored` and `isSuccessful`). */
  failed(generation: number, error: unknown, start: number): void {
    const outcome = classifyError(this.settings, this.telemetry, error);
    this.events?.emit(outcome === SUCCESS ? 'success' : outcome === FAILURE ? 'failure' : 'ignored', { error });
    this.record(generation, outcome, start);
  }

  /** Admits a call (counting it) and returns its generation, or throws `CircuitOpenError`. */
  admit(): number {
    if (this.#state === CLOSED && this.#expiry === NONE && this.#mode === 'auto') {
      this.#requests++;
      return this.#generation;
    }
    if (this.#mode === 'disabled') return this.#generation;
    if (this.#mode === 'isolated') throw reject(this.telemetry, 'Circuit breaker is isolated', undefined);
    const settings = this.settings;
    const now = settings.clock.now();
    this.refresh(now);
    const state = this.#state;
    if (state === OPEN) throw reject(this.telemetry, undefined, Math.max(0, this.#expiry - now));
    if (state === HALF_OPEN) {
      if (this.#requests >= settings.maxRequests) {
        throw reject(
          this.telemetry,
          'Circuit breaker is half-open and admits no more probes',
          this.#halfOpenRetryAfter(now),
        );
      }
      this.#expiry = now + settings.halfOpenTimeout;
    }
    this.#requests++;
    return this.#generation;
  }

  /** While half-open and full: the time until the episode's bound passes plus the next open time. */
  #halfOpenRetryAfter(now: number): number | undefined {
    const expiry = this.#expiry;
    if (expiry === NONE) return undefined;
    return Math.max(0, expiry - now) + openDuration(this.settings, this.#failedEpisodes + 1);
  }

  /** Counts a finished call of `generation`; a result of an earlier generation changes nothing. */
  record(generation: number, outcome: Outcome, start: number): void {
    try {
      this.#record(generation, outcome, start);
    } catch (err) {
      // Only a broken clock gets here (every callback is guarded): the call keeps its own outcome.
      this.telemetry.log('error', 'circuit breaker could not record an outcome', { err });
    }
  }

  #record(generation: number, outcome: Outcome, start: number): void {
    const settings = this.settings;
    const telemetry = this.telemetry;
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
    if (this.#mode !== 'auto') return;
    if (this.#expiry !== NONE) {
      if (Number.isNaN(now)) now = settings.clock.now();
      this.refresh(now);
    }
    if (generation !== this.#generation) return;
    if (outcome === IGNORED || outcome === CANCELLED) {
      if (this.#requests > 0) this.#requests--;
      return;
    }
    if (this.#state === CLOSED) this.#recordClosed(outcome, slow, now);
    else this.#recordHalfOpen(outcome === FAILURE || slow, now);
  }

  /** gobreaker's closed `onSuccess`/`onFailure`, plus the window and its rates. */
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
      const settings = this.settings;
      window.record(Number.isNaN(now) && settings.window?.kind === 'time' ? settings.clock.now() : now, failed, slow);
      if (failed || slow) trip = ratesExceeded(window, settings.window!);
    }
    if (failed && !trip) trip = askReadyToTrip(this.settings, this.telemetry, () => this.counts());
    if (trip) this.transition(OPEN, Number.isNaN(now) ? this.settings.clock.now() : now);
  }

  /** gobreaker's half-open rules: any failure (or slow probe) opens, `maxRequests` successes in a row close. */
  #recordHalfOpen(failed: boolean, now: number): void {
    const at = Number.isNaN(now) ? this.settings.clock.now() : now;
    if (failed) {
      this.transition(OPEN, at);
      return;
    }
    this.#totalSuccesses++;
    this.#consecutiveSuccesses++;
    this.#consecutiveFailures = 0;
    if (this.#consecutiveSuccesses >= this.settings.maxRequests) this.transition(CLOSED, at);
  }

  /** Applies the transitions that are due at `now` (gobreaker's `currentState`). */
  refresh(now: number): void {
    while (this.#mode === 'auto') {
      const expiry = this.#expiry;
      if (!(expiry < now)) return;
      const state = this.#state;
      if (state === CLOSED) {
        this.startGeneration(now);
        return;
      }
      if (state === OPEN) {
        this.transition(HALF_OPEN, now);
      } else if (this.#requests >= this.settings.maxRequests) {
        // Every probe slot is taken and none reported in time: the episode failed when its bound passed.
        this.transition(OPEN, expiry);
      } else {
        return;
      }
    }
  }

  /** Moves to `to` (nothing when already there), starts a new generation, then notifies. */
  transition(to: CircuitState, now: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to === CLOSED) {
      this.#failedEpisodes = 0;
      this.#window?.reset();
    } else if (from === HALF_OPEN && to === OPEN && this.#mode === 'auto') {
      this.#failedEpisodes++;
    }
    this.startGeneration(now);
    notifyTransition(this.telemetry, this.settings.onStateChange, from, to);
    this.events?.emit('stateChange', { from, to });
  }

  /** gobreaker's `toNewGeneration`: a new generation, cleared counts, the expiry of the current state. */
  startGeneration(now: number): void {
    this.#generation++;
    this.#requests = 0;
    this.#totalSuccesses = 0;
    this.#totalFailures = 0;
    this.#consecutiveSuccesses = 0;
    this.#consecutiveFailures = 0;
    const settings = this.settings;
    const state = this.#state;
    if (this.#mode !== 'auto' || state === HALF_OPEN) this.#expiry = NONE;
    else if (state === OPEN) this.#expiry = now + openDuration(settings, this.#failedEpisodes);
    else this.#expiry = settings.interval > 0 ? now + settings.interval : NONE;
  }

  /** A copy of the counts (no transition applied: read `state` first). */
  counts(): Counts {
    return {
      requests: this.#requests,
      totalSuccesses: this.#totalSuccesses,
      totalFailures: this.#totalFailures,
      consecutiveSuccesses: this.#consecutiveSuccesses,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }

  /** Sets the counts from a snapshot. */
  #restoreCounts(counts: Counts): void {
    this.#requests = counts.requests;
    this.#totalSuccesses = counts.totalSuccesses;
    this.#totalFailures = counts.totalFailures;
    this.#consecutiveSuccesses = counts.consecutiveSuccesses;
    this.#consecutiveFailures = counts.consecutiveFailures;
  }

  /**
   * Takes new settings at run time (see `CircuitBreaker.update`): state, mode,
   * counts and generation stay; a changed window starts empty; a closed
   * breaker's `interval` restarts now; an open breaker keeps the open time it
   * started with; a new metrics recorder is told the current state.
   */
  reconfigure(settings: Settings<T>, telemetry: Telemetry): void {
    const previous = this.settings;
    const now = settings.clock.now();
    if (this.#expiry !== NONE) this.refresh(now);
    this.settings = settings;
    if (!sameWindow(previous.window, settings.window)) {
      this.#window = settings.window === undefined ? undefined : createWindow(settings.window);
    }
    if (this.#state === CLOSED && this.#mode === 'auto' && previous.interval !== settings.interval) {
      this.#expiry = settings.interval > 0 ? now + settings.interval : NONE;
    }
    const recorderChanged = telemetry.metrics !== this.telemetry.metrics || telemetry.name !== this.telemetry.name;
    this.telemetry = telemetry;
    if (this.events !== undefined) this.events.telemetry = telemetry;
    if (recorderChanged) telemetry.recordCircuitBreakerState(this.#state);
  }
}

function sameWindow(a: Settings<unknown>['window'], b: Settings<unknown>['window']): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.kind === b.kind && a.slots === b.slots && a.bucketMs === b.bucketMs;
}

/** `then` callbacks that count the outcome of a call of one generation and pass its value or error on. */
export class Settlers<T> {
  /** The generation whose calls these count. */
  readonly generation: number;
  /** Counts a success and returns the value. */
  readonly fulfilled: <R extends T>(value: R) => R;
  /** Counts a failure and rethrows the same value. */
  readonly rejected: (error: unknown) => never;

  /**
   * @param machine - the breaker's state machine
   * @param generation - the generation of the calls
   */
  constructor(machine: CircuitStateMachine<T>, generation: number) {
    this.generation = generation;
    this.fulfilled = (value) => {
      machine.succeeded(generation, value, UNMEASURED);
      return value;
    };
    this.rejected = (error) => {
      machine.failed(generation, error, UNMEASURED);
      throw error;
    };
  }
}
