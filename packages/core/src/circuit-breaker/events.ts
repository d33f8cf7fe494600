import type { CircuitOpenError } from '../errors/errors.js';
import type { CircuitState } from './types.js';

/**
 * The events of a `CircuitBreaker` and their payloads, for `breaker.on(event, listener)`.
 * Listeners run synchronously, after the config hooks (`onStateChange`).
 */
export interface CircuitBreakerEvents {
  /** The state changed (after `onStateChange`). */
  readonly stateChange: { readonly from: CircuitState; readonly to: CircuitState };
  /** A call counted as a success (also an error that `isSuccessful` accepts). */
  readonly success: { readonly result?: unknown; readonly error?: unknown };
  /** A call counted as a failure: a thrown `error`, or a `result` that `isFailureResult` refused. */
  readonly failure: { readonly error?: unknown; readonly result?: unknown };
  /** A call counted as neither (`isIgnored`). */
  readonly ignored: { readonly error: unknown };
  /** The caller's signal aborted while a call ran: counted as neither success nor failure (unless `countCancellations`). */
  readonly cancelled: Readonly<Record<string, never>>;
  /** A call was refused without running (`CircuitOpenError`). */
  readonly rejected: { readonly error: CircuitOpenError };
}

/** The names of {@link CircuitBreakerEvents}. */
export const circuitBreakerEvents: readonly (keyof CircuitBreakerEvents)[] = [
  'stateChange',
  'success',
  'failure',
  'ignored',
  'cancelled',
  'rejected',
];
