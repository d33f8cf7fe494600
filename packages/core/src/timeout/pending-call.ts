import type { TimeoutError } from '../errors/errors.js';
import type { ListNode } from '../internal/intrusive-list.js';
import type { SignalHub, SignalWaiter } from '../internal/signal-hub.js';
import { abortTimeoutContext, type TimeoutContext } from './timeout-context.js';

const ignore = (): void => {};

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
  /** Releases what the call holds in its Timeout (queue place, timer, hub), once it ended early. */
  readonly release: (call: PendingCall) => void;
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
   */
  constructor(ctx: TimeoutContext, deadline: number, timeoutMs: number, release: (call: PendingCall) => void) {
    this.release = release;
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
    this.release(this);
  }

  /** Time is up: aborts the work's signal and rejects the caller's promise with `error`. */
  expire(error: TimeoutError): void {
    this.over = true;
    abortTimeoutContext(this.ctx, error);
    this.reject(error);
    this.release(this);
  }
}
