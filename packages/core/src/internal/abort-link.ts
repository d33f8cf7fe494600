/**
 * How the policies of issue 17 (hedging, adaptive bulkhead, chaos) listen to
 * a caller's signal, kept in one place so it can move to the core's shared
 * one-listener-per-signal helper when that lands, without touching them.
 */

/** Something told once when a caller's signal aborts (an object with `handleEvent`, so no closure per call). */
export interface AbortListener {
  /** Called once when the signal aborts. */
  handleEvent(): void;
}

/** Starts listening to `signal` (`once`); a signal that has already aborted is the caller's concern. */
export function listenAbort(signal: AbortSignal, listener: AbortListener): void {
  signal.addEventListener('abort', listener, { once: true });
}

/** Stops listening (nothing to do once the signal has aborted: the dispatch dropped the listener). */
export function unlistenAbort(signal: AbortSignal, listener: AbortListener): void {
  if (!signal.aborted) signal.removeEventListener('abort', listener);
}

/** The longest delay one platform timer holds (2^31 − 1 ms); longer waits re-arm in steps of at most this. */
export const MAX_TIMER_MS = 2_147_483_647;
