/**
 * The events of a `Fallback` and their payloads, for `fallback.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onFallback`).
 */
export interface FallbackEvents {
  /** A handled failure (`error`) is being replaced by the fallback. */
  readonly fallback: { readonly error: unknown };
}

/** The names of {@link FallbackEvents}. */
export const fallbackEvents: readonly (keyof FallbackEvents)[] = ['fallback'];
