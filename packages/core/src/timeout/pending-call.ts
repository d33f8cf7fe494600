import type { TimeoutError } from '../errors/errors.js';
import { LazyContext, neverAbortedSignal } from '../internal/context.js';
import type { ListNode } from '../internal/intrusive-list.js';

/**
 * One call running under a `Timeout`: the context handed to the work, and a
 * node of the Timeout's queue of deadlines.
 *
 * Its `signal` is created on first read only, so work that never looks at it
 * costs no `AbortController`, and the caller's signal is linked only then.
 */
export class PendingCall extends LazyContext implements ListNode<PendingCall> {
  /** The attempt number passed on from the caller. */
  readonly attempt: number;
  /** The absolute clock time by which the work must end, `undefined` when unbounded. */
  readonly deadline: number | undefined;
  /** The limit reported in the `TimeoutError`, in milliseconds. */
  readonly timeoutMs: number;
  /** Neighbours in the Timeout's queue of deadlines (both `null` while not in it). */
  listPrev: PendingCall | null = null;
  listNext: PendingCall | null = null;
  /** The call's own timer, for calls that are not in the queue. */
  timer: unknown = undefined;
  /** Rejects the promise the caller holds (set once the work returned a promise). */
  reject: ((err: unknown) => void) | undefined = undefined;
  /** Set when the time ran out. */
  error: TimeoutError | undefined = undefined;
  /** True once the call settled. */
  settled = false;
  readonly #callerSignal: AbortSignal;
  #controller: AbortController | undefined = undefined;
  #onCallerAbort: (() => void) | undefined = undefined;

  /**
   * @param callerSignal - the caller's signal (or the shared never-aborting one)
   * @param attempt - the attempt number to pass on
   * @param deadline - the absolute deadline, `undefined` when unbounded
   * @param timeoutMs - the limit to report
   */
  constructor(callerSignal: AbortSignal, attempt: number, deadline: number | undefined, timeoutMs: number) {
    super();
    this.#callerSignal = callerSignal;
    this.attempt = attempt;
    this.deadline = deadline;
    this.timeoutMs = timeoutMs;
  }

  /** Aborts with the `TimeoutError` when time runs out, or with the caller's reason when the caller aborts. */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      const caller = this.#callerSignal;
      if (this.error !== undefined) controller.abort(this.error);
      else if (caller.aborted) controller.abort(caller.reason);
      else if (caller !== neverAbortedSignal && !this.settled) {
        const linked = controller;
        this.#onCallerAbort = () => linked.abort(caller.reason);
        caller.addEventListener('abort', this.#onCallerAbort, { once: true });
      }
    }
    return controller.signal;
  }

  /**
   * Whether `signal` has aborted (or would be aborted when created), read
   * without creating it: an inner pattern checks this instead of
   * `signal.aborted` to keep the signal lazy.
   */
  get aborted(): boolean {
    const controller = this.#controller;
    if (controller !== undefined) return controller.signal.aborted;
    return this.error !== undefined || this.#callerSignal.aborted;
  }

  /** The reason `signal` aborted (or would abort) with, read without creating it; `undefined` while not aborted. */
  get abortReason(): unknown {
    const controller = this.#controller;
    if (controller !== undefined) return controller.signal.reason;
    return this.error ?? this.#callerSignal.reason;
  }

  /** Time is up: aborts the signal (when the work has one) and rejects the caller's promise. */
  expire(error: TimeoutError): void {
    this.error = error;
    this.#controller?.abort(error);
    this.reject?.(error);
  }

  /** The call settled: unlinks from the caller's signal. */
  release(): void {
    this.settled = true;
    const onAbort = this.#onCallerAbort;
    if (onAbort !== undefined) {
      this.#onCallerAbort = undefined;
      this.#callerSignal.removeEventListener('abort', onAbort);
    }
  }
}
