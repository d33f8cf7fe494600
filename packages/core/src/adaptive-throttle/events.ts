/**
 * The events of an `AdaptiveThrottle` and their payloads, for `throttle.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onRejected`).
 */
export interface AdaptiveThrottleEvents {
  /** A call was rejected locally (a `CircuitOpenError`, `fn` not called), drawn with this `probability`. */
  readonly rejected: { readonly probability: number };
}

/** The names of {@link AdaptiveThrottleEvents}. */
export const adaptiveThrottleEvents: readonly (keyof AdaptiveThrottleEvents)[] = ['rejected'];
