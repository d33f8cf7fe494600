import { LazyContext } from '../internal/context.js';

let abortImpl: (ctx: TimeoutContext, reason: unknown) => void = () => {};

/**
 * The context a `Timeout` hands to the work: `signal`, `attempt` and
 * `deadline`, and nothing of the Timeout's own bookkeeping (that lives in an
 * internal node the work never sees). Its state is private, so
 * `JSON.stringify(ctx)` gives `{ attempt, deadline }` and user code cannot
 * abort it.
 *
 * Its `signal` is created on first read only, so work that never looks at it
 * costs no `AbortController`.
 */
export class TimeoutContext extends LazyContext {
  /** The attempt number passed on from the caller. */
  readonly attempt: number;
  /** The absolute clock time by which the work must end, `undefined` when unbounded. */
  readonly deadline: number | undefined;
  readonly #caller: AbortSignal;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;

  static {
    abortImpl = (ctx, reason) => {
      if (ctx.#aborted) return;
      ctx.#aborted = true;
      ctx.#reason = reason;
      ctx.#controller?.abort(reason);
    };
  }

  /**
   * @param caller - the caller's signal (or the shared never-aborting one)
   * @param attempt - the attempt number to pass on
   * @param deadline - the absolute deadline, `undefined` when unbounded
   */
  constructor(caller: AbortSignal, attempt: number, deadline: number | undefined) {
    super();
    this.#caller = caller;
    this.attempt = attempt;
    this.deadline = deadline;
  }

  /** Aborts with the `TimeoutError` when time runs out, or with the caller's reason when the caller aborts. */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#reason);
      else if (this.#caller.aborted) controller.abort(this.#caller.reason);
    }
    return controller.signal;
  }

  /**
   * Whether `signal` has aborted (or would be aborted when created), read
   * without creating it: an inner pattern checks this instead of
   * `signal.aborted` to keep the signal lazy.
   */
  get aborted(): boolean {
    return this.#aborted || this.#caller.aborted;
  }

  /** The reason `signal` aborted (or would abort) with, read without creating it; `undefined` while not aborted. */
  get abortReason(): unknown {
    return this.#aborted ? this.#reason : this.#caller.reason;
  }
}

/**
 * Aborts `ctx` (its signal, now or when created) with `reason`: the
 * `TimeoutError` when time ran out, the caller's reason when the caller
 * aborted. The first reason wins. Internal to the Timeout: not reachable from
 * the context.
 */
export function abortTimeoutContext(ctx: TimeoutContext, reason: unknown): void {
  abortImpl(ctx, reason);
}
