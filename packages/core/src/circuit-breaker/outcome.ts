import { CircuitOpenError } from '../errors/errors.js';
import type { Telemetry } from '../internal/telemetry.js';
import type { CallOutcome } from '../observability/types.js';
import type { Settings } from './config.js';
import type { CircuitState, Counts } from './types.js';

/** The span and log attribute that carries the state. */
export const STATE_ATTRIBUTE = 'resilience.circuit_breaker.state';

/** How a call ended: an index into {@link outcomeNames}. */
export type Outcome = 0 | 1 | 2 | 3;
/** The call succeeded. */
export const SUCCESS: Outcome = 0;
/** The call failed. */
export const FAILURE: Outcome = 1;
/** The call counts as neither. */
export const IGNORED: Outcome = 2;
/** The caller's signal aborted while the call ran: neither success nor failure, like {@link IGNORED}. */
export const CANCELLED: Outcome = 3;
/** Each {@link Outcome} as reported to metrics. */
export const outcomeNames: readonly CallOutcome[] = ['success', 'failure', 'ignored', 'cancelled'];

/**
 * The outcome of a thrown value: `isIgnored` and `isExcluded` first, then
 * `isSuccessful`. A classifier that throws or returns a promise is logged and
 * answers `false` (so by default the value counts as a failure).
 */
export function classifyError<T>(settings: Settings<T>, telemetry: Telemetry, error: unknown): Outcome {
  const { isIgnored, isExcluded, isSuccessful } = settings;
  if (isIgnored === undefined && isExcluded === undefined && isSuccessful === undefined) return FAILURE;
  if (isIgnored !== undefined && telemetry.ask(isIgnored, error, 'isIgnored')) return IGNORED;
  if (isExcluded !== undefined && telemetry.ask(isExcluded, error, 'isExcluded')) return IGNORED;
  return isSuccessful !== undefined && telemetry.ask(isSuccessful, error, 'isSuccessful') ? SUCCESS : FAILURE;
}

/**
 * The outcome of a returned value: a failure when `isFailureResult` says so. A
 * classifier that throws or returns a promise is logged and the value counts as a success.
 */
export function classifyResult<T>(settings: Settings<T>, telemetry: Telemetry, result: T): Outcome {
  const isFailureResult = settings.isFailureResult;
  if (isFailureResult === undefined) return SUCCESS;
  return telemetry.ask(isFailureResult, result, 'isFailureResult') ? FAILURE : SUCCESS;
}

/** Asks `readyToTrip` with `counts`; a predicate that throws or returns a promise is logged and does not trip. */
export function askReadyToTrip<T>(settings: Settings<T>, telemetry: Telemetry, counts: () => Counts): boolean {
  const readyToTrip = settings.readyToTrip;
  if (readyToTrip === undefined) return false;
  return telemetry.ask(readyToTrip, counts(), 'readyToTrip');
}

/** A `CircuitOpenError` to throw for a rejected call, counted as `rejected` in metrics. */
export function reject(
  telemetry: Telemetry,
  message: string | undefined,
  retryAfterMs: number | undefined,
): CircuitOpenError {
  telemetry.recordCircuitBreakerCall('rejected', undefined);
  return new CircuitOpenError(message === undefined ? { retryAfterMs } : { retryAfterMs, message });
}

/** Logs a transition (`warn` when opening), reports the new state to metrics, then calls `onStateChange`. */
export function notifyTransition(
  telemetry: Telemetry,
  onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined,
  from: CircuitState,
  to: CircuitState,
): void {
  telemetry.log(to === 'open' ? 'warn' : 'info', 'circuit breaker state changed', {
    'resilience.circuit_breaker.from': from,
    [STATE_ATTRIBUTE]: to,
  });
  telemetry.recordCircuitBreakerState(to);
  telemetry.invokeHook(onStateChange, 'onStateChange', from, to);
}
