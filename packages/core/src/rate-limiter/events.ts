/**
 * The events of a `RateLimiter` and their payloads, for `limiter.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onLimit`).
 */
export interface RateLimiterEvents {
  /**
   * A decision was refused (`allow`, `take`, `consume`, `wait` or `execute`);
   * `key` is the caller's key (`undefined` for the shared bucket): personal
   * data, often, so keep it out of metric labels.
   */
  readonly rejected: { readonly key: string | undefined };
}

/** The names of {@link RateLimiterEvents}. */
export const rateLimiterEvents: readonly (keyof RateLimiterEvents)[] = ['rejected'];
