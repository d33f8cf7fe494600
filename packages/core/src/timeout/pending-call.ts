import type { TimeoutError } from '../errors/errors.js';
import type { ListNode } from '../internal/intrusive-list.js';
import type { SignalHub, SignalWaiter } from '../internal/signal-hub.js';
import { abortTimeoutContext, type TimeoutContext } from './timeout-context.js';

const ignore = (): void => {};

/** Gives back what a call holds in its Timeout: set once by the `Timeout` class, which owns that state. */
let releaseCall: (owner: object, call: PendingCall) => void = ignore;

/**
 * Sets what a call that ended early (timed out, or its caller aborted) calls
 * to give back its place in the queue, its timer and its hub: one function for
 * every Timeout, so neither a Timeout nor a call holds a closure for it.
 */
export function setReleaseCall(release: (owner: object, call: PendingCall) => void): void {
  releaseCall = release;
}

/**
 * A call under a `Timeout` whose work returned a promise: a node of the
 * Timeout's queue of deadlines and of its caller's signal hub. The work never
 * sees it; it gets the {@link TimeoutContext}.
 */
export class PendingCall implements ListNode<PendingCall>, SignalWaiter {
  /** The context the work got. */
  readonly ctx: TimeoutContext;
  /** The absolute clock time by which the work must end (meaningful when the call is scheduled). */
  readonly deadline: number;
  /** The limit reported in the `TimeoutError`, in milliseconds. */
  readonly timeoutMs: number;
  /** Rejects the promise the caller holds (set as soon as that promise exists). */
  reject: (reason: unknown) => void = ignore;
  /** The Timeout the call runs under. */
  readonly owner: object;
  /** Neighbours in the Timeout's queue of deadlines (both `null` while not in it). */
  listPrev: PendingCall | null = null;
  listNext: PendingCall | null = null;
  /** Neighbours in the caller's signal hub. */
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;
  /** The hub of the caller's signal while the call listens to it. */
  hub: SignalHub | null = null;
  /** The call's own timer, for calls that are not in the queue. */
  timer: unknown = undefined;
  /** True once the call was rejected early (timed out or the caller aborted) or settled: its timers then do nothing. */
  over = false;

  /**
   * @param ctx - the work's context
   * @param deadline - the absolute deadline (`Infinity` when unbounded)
   * @param timeoutMs - the limit to report
   * @param owner - the Timeout the call runs under
   */
  constructor(ctx: TimeoutContext, deadline: number, timeoutMs: number, owner: object) {
    this.owner = owner;
    this.ctx = ctx;
    this.deadline = deadline;
    this.timeoutMs = timeoutMs;
  }

  /** The caller's signal aborted: the work's signal aborts and the call rejects at once with the caller's reason. */
  signalAborted(reason: unknown): void {
    if (this.over) return;
    this.over = true;
    abortTimeoutContext(this.ctx, reason);
    this.reject(reason);
    releaseCall(this.owner, this);
  }

  /** Time is up: aborts the work's signal and rejects the caller's promise with `error`. */
  expire(error: TimeoutError): void {
    this.over = true;
    abortTimeoutContext(this.ctx, error);
    this.reject(error);
    releaseCall(this.owner, this);
  }
}
