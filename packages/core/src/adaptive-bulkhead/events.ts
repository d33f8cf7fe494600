import type { BulkheadRejectReason } from '../bulkhead/types.js';

/**
 * The events of an `AdaptiveBulkhead` and their payloads, for `bulkhead.on(event, listener)`.
 * Listeners run synchronously, after the config hooks (`onRejected`, `onLimitChange`).
 */
export interface AdaptiveBulkheadEvents {
  /**
   * A call was refused with a `BulkheadFullError`: `'full'` (no room under the
   * limit, no room in the queue) or `'queue-timeout'`; with the load at that moment.
   */
  readonly rejected: {
    readonly reason: BulkheadRejectReason;
    readonly limit: number;
    readonly active: number;
    readonly queued: number;
  };
  /** The (whole-number) limit changed: after a sample, or an `update()` that moved `minLimit` or `maxLimit` past it. */
  readonly limitChange: { readonly limit: number; readonly previous: number };
}

/** The names of {@link AdaptiveBulkheadEvents}. */
export const adaptiveBulkheadEvents: readonly (keyof AdaptiveBulkheadEvents)[] = ['rejected', 'limitChange'];
