/**
 * The events of a `Hedging` policy and their payloads, for `hedging.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onHedge`).
 */
export interface HedgingEvents {
  /** A hedge started: `attempt` is its number (2 for the first hedge of a call made on its own). */
  readonly hedge: { readonly attempt: number };
  /** A call succeeded: `attempt` is the winning attempt's number, `attempts` how many had started. */
  readonly success: { readonly attempt: number; readonly attempts: number };
  /**
   * A call failed: every attempt it started failed, and `error` (the last
   * failure) is what the caller gets; or an attempt failed with an error the
   * policy's `handle` does not handle, which ends the call at once. When the
   * last failure is a returned value `handle` handles, `error` is that value
   * (the caller gets it as a value). Not emitted when the caller's signal aborted.
   */
  readonly failure: { readonly error: unknown; readonly attempts: number };
}

/** The names of {@link HedgingEvents}. */
export const hedgingEvents: readonly (keyof HedgingEvents)[] = ['hedge', 'success', 'failure'];
