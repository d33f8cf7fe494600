/**
 * The events of a `Retry` and their payloads, for `retry.on(event, listener)`.
 * Listeners run synchronously, after the config hooks (`onRetry`).
 */
export interface RetryEvents {
  /** Attempt `attempt` failed with `error` (or returned a `result` that `retryOnResult` refused); the next starts after `delayMs`. */
  readonly retry: {
    readonly attempt: number;
    readonly error?: unknown;
    readonly result?: unknown;
    readonly delayMs: number;
  };
  /**
   * The call ends in failure after `attempts` attempts: `error` is what the
   * caller gets (a `MaxAttemptsReachedError`, or a non-retryable error as it
   * is). Not emitted when the caller's signal aborted.
   */
  readonly giveUp: { readonly attempts: number; readonly error: unknown };
}

/** The names of {@link RetryEvents}. */
export const retryEvents: readonly (keyof RetryEvents)[] = ['retry', 'giveUp'];
