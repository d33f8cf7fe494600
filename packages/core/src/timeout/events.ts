/**
 * The events of a `Timeout` and their payloads, for `timeout.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onTimeout`).
 */
export interface TimeoutEvents {
  /** A call ran out of time (or had none left to start) after `timeoutMs`. */
  readonly timeout: { readonly timeoutMs: number };
}

/** The names of {@link TimeoutEvents}. */
export const timeoutEvents: readonly (keyof TimeoutEvents)[] = ['timeout'];
