import { describeValue, numberOption, oneOfOption } from '../internal/validate.js';
import { OWNER, type Settings } from './config.js';
import type { CircuitBreakerSnapshot, CircuitMode, CircuitState, Counts } from './types.js';

const states: readonly CircuitState[] = ['closed', 'open', 'half-open'];
const modes: readonly CircuitMode[] = ['auto', 'isolated', 'disabled'];

/** An `initialState` after validation, with the open time that passed since `savedAt` taken off. */
export interface InitialState {
  /** The state to start in. */
  readonly state: CircuitState;
  /** Who decides the state. */
  readonly mode: CircuitMode;
  /** The counts to start with (used while closed). */
  readonly counts: Counts | undefined;
  /** While open: ms left of the open time, or `undefined` for a full open time. */
  readonly openRemainingMs: number | undefined;
  /** Failed half-open episodes in a row. */
  readonly failedEpisodes: number;
}

/** The largest count or episode number kept from a snapshot (larger ones are clamped). */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * Checks the `initialState` option. Throws a `TypeError` or `RangeError`
 * naming the field, such as `initialState.counts.requests`. A snapshot is
 * data from outside (a file, a cache), so nothing in it is trusted: every
 * field is validated, the open time left is clamped to this breaker's
 * `maxTimeout` (its longest open time), counts to 2^53 − 1, and the counts are made
 * consistent (successes and failures within `requests`, runs within totals).
 */
export function readInitialState<T>(
  value: CircuitBreakerSnapshot | CircuitState | undefined,
  settings: Settings<T>,
): InitialState | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || value === null || typeof value !== 'object') {
    const state = oneOfOption(OWNER, 'initialState', value, states, 'closed');
    return { state, mode: 'auto', counts: undefined, openRemainingMs: undefined, failedEpisodes: 0 };
  }
  const state = oneOfOption(OWNER, 'initialState.state', value.state, states, 'closed');
  const mode = oneOfOption(OWNER, 'initialState.mode', value.mode, modes, 'auto');
  const failedEpisodes = Math.min(
    numberOption(OWNER, 'initialState.failedEpisodes', value.failedEpisodes, 0, { min: 0, integer: true }),
    MAX_COUNT,
  );
  const savedAt = numberOption(OWNER, 'initialState.savedAt', value.savedAt, Number.NaN, {});
  const given = numberOption(OWNER, 'initialState.openRemainingMs', value.openRemainingMs, Number.NaN, { min: 0 });
  // Never longer than this breaker ever stays open.
  const remaining = Math.min(given, settings.maxTimeout);
  const elapsed = Number.isNaN(savedAt) ? 0 : Math.max(0, Date.now() - savedAt);
  return {
    state: mode === 'isolated' ? 'open' : mode === 'disabled' ? 'closed' : state,
    mode,
    counts: readCounts(value.counts),
    openRemainingMs: Number.isNaN(remaining) ? undefined : Math.max(0, remaining - elapsed),
    failedEpisodes,
  };
}

function readCounts(counts: Counts | undefined): Counts | undefined {
  if (counts === undefined) return undefined;
  if (counts === null || typeof counts !== 'object') {
    throw new TypeError(`${OWNER}: initialState.counts must be an object, got ${describeValue(counts)}`);
  }
  const count = (key: keyof Counts): number =>
    Math.min(numberOption(OWNER, `initialState.counts.${key}`, counts[key], 0, { min: 0, integer: true }), MAX_COUNT);
  const requests = count('requests');
  const totalSuccesses = count('totalSuccesses');
  const totalFailures = count('totalFailures');
  const successRun = count('consecutiveSuccesses');
  // A run is never longer than its total, and a failure ends a run of successes.
  const consecutiveFailures = Math.min(count('consecutiveFailures'), totalFailures);
  const consecutiveSuccesses = consecutiveFailures > 0 ? 0 : Math.min(successRun, totalSuccesses);
  return {
    requests: Math.min(Math.max(requests, totalSuccesses + totalFailures), MAX_COUNT),
    totalSuccesses,
    totalFailures,
    consecutiveSuccesses,
    consecutiveFailures,
  };
}
