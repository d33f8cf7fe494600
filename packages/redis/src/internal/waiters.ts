import type { ExecutionContext, Operation } from '@resilience/core';
import type { AbortMember } from './abort-fanout.js';

/** A call waiting in a bulkhead's queue: its own queue node and abort listener, so queueing allocates nothing else. */
export class Waiter implements AbortMember {
  readonly fn: Operation<unknown>;
  readonly ctx: ExecutionContext;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly expiresAt: number;
  readonly onAbort: (waiter: Waiter, reason: unknown) => void;
  /** Neighbours in the queue. */
  prev: Waiter | null = null;
  next: Waiter | null = null;

  /**
   * @param onAbort - what the bulkhead does when the call's signal aborts
   * @param fn - the work
   * @param ctx - the work's context
   * @param resolve - settles the caller's promise with the run's outcome
   * @param reject - rejects the caller's promise
   * @param expiresAt - clock time at which the wait runs out (`Infinity`: never)
   */
  constructor(
    onAbort: (waiter: Waiter, reason: unknown) => void,
    fn: Operation<unknown>,
    ctx: ExecutionContext,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    expiresAt: number,
  ) {
    this.onAbort = onAbort;
    this.fn = fn;
    this.ctx = ctx;
    this.resolve = resolve;
    this.reject = reject;
    this.expiresAt = expiresAt;
  }

  /** The caller's signal aborted: the bulkhead takes it out of the queue. */
  aborted(reason: unknown): void {
    this.onAbort(this, reason);
  }
}

/** A FIFO of waiters, linked through the waiters themselves: O(1) push and removal from anywhere. */
export class WaiterQueue {
  /** The oldest waiter, or `null`. */
  head: Waiter | null = null;
  #tail: Waiter | null = null;
  #size = 0;

  /** How many wait. */
  get size(): number {
    return this.#size;
  }

  /** Adds `waiter` at the end. */
  push(waiter: Waiter): void {
    waiter.prev = this.#tail;
    if (this.#tail === null) this.head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#size++;
  }

  /** Takes `waiter` (which is queued) out, wherever it is. */
  remove(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    waiter.prev = null;
    waiter.next = null;
    this.#size--;
  }
}
