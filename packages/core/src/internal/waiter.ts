import type { ListNode } from './intrusive-list.js';
import type { SignalHub, SignalWaiter } from './signal-hub.js';

/**
 * A caller waiting in a queue (internal): a node of its queue (an
 * {@link IntrusiveList}) and of its caller's {@link SignalHub} at once, holding
 * the two ends of the caller's promise, so waiting allocates nothing else.
 * The bulkheads' queued call and the rate limiter's `wait()` caller are both
 * one; which waiter goes when (free slots in order, tokens per key) is their
 * queue's business, and how one leaves when its signal aborts is
 * {@link QueuedWaiter.signalAborted}.
 *
 * @typeParam W - the waiter class itself (its queue's node type)
 * @typeParam V - what the caller's promise resolves with
 */
export abstract class QueuedWaiter<W, V> implements ListNode<W>, SignalWaiter {
  /** Settles the caller's promise. */
  readonly resolve: (value: V) => void;
  /** Rejects the caller's promise. */
  readonly reject: (reason: unknown) => void;
  /** The hub of the caller's signal; `null` when the call cannot be aborted. */
  hub: SignalHub | null = null;
  /** Neighbours in its queue. */
  listPrev: W | null = null;
  listNext: W | null = null;
  /** Neighbours in its signal's hub. */
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;

  /**
   * @param resolve - settles the caller's promise
   * @param reject - rejects the caller's promise
   */
  constructor(resolve: (value: V) => void, reject: (reason: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Joins `hub`: from now on an abort of its signal calls {@link QueuedWaiter.signalAborted}. */
  listen(hub: SignalHub): void {
    this.hub = hub;
    hub.add(this);
  }

  /** Leaves its signal's hub (it was served, or leaves its queue); nothing when it is in none. */
  unlisten(): void {
    this.hub?.delete(this);
  }

  /** The caller's signal aborted while it waited (it has left the hub): leave the queue with `reason`. */
  abstract signalAborted(reason: unknown): void;
}
