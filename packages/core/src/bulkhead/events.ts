import type { BulkheadRejectReason } from './types.js';

/**
 * The events of a `Bulkhead` and their payloads, for `bulkhead.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onRejected`).
 */
export interface BulkheadEvents {
  /** A call was refused: `'full'` (no slot, no room in the queue) or `'queue-timeout'`. */
  readonly rejected: { readonly reason: BulkheadRejectReason; readonly active: number; readonly queued: number };
}

/** The names of {@link BulkheadEvents}. */
export const bulkheadEvents: readonly (keyof BulkheadEvents)[] = ['rejected'];
