import { numberOption, oneOfOption } from '../internal/validate.js';
import { OWNER } from './config.js';
import type { CircuitBreakerSnapshot, CircuitMode, CircuitState, Counts } from './types.js';

const states: readonly CircuitState[] = ['closed', 'open', 'half-open'];
const modes: readonly CircuitMode[] = ['auto', 'isolated', 'disabled'];
const countKeys = [
  'requests',
  'totalSuccesses',
  'totalFailures',
  'consecutiveSuccesses',
  'consecutiveFailures',
] as const satisfies readonly (keyof Counts)[];

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

/**
 * Checks the `initialState` option. Throws a `TypeError` or `RangeError`
 * naming the field, such as `initialState.counts.requests`.
 */
export function readInitialState(value: CircuitBreakerSnapshot | CircuitState | undefined): InitialState | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || value === null || typeof value !== 'object') {
    const state = oneOfOption(OWNER, 'initialState', value, states, 'closed');
    return { state, mode: 'auto', counts: undefined, openRemainingMs: undefined, failedEpisodes: 0 };
  }
  const state = oneOfOption(OWNER, 'initialState.state', value.state, states, 'closed');
  const mode = oneOfOption(OWNER, 'initialState.mode', value.mode, modes, 'auto');
  const failedEpisodes = numberOption(OWNER, 'initialState.failedEpisodes', value.failedEpisodes, 0, {
    min: 0,
    integer: true,
  });
  const savedAt = numberOption(OWNER, 'initialState.savedAt', value.savedAt, Number.NaN, {});
  const remaining = numberOption(OWNER, 'initialState.openRemainingMs', value.openRemainingMs, Number.NaN, { min: 0 });
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
    throw new TypeError(`${OWNER}: initialState.counts must be an object, got ${String(counts)}`);
  }
  const result: Record<string, number> = {};
  for (const key of countKeys) {
    result[key] = numberOption(OWNER, `initialState.counts.${key}`, counts[key], 0, { min: 0, integer: true });
  }
  return result as unknown as Counts;
}
