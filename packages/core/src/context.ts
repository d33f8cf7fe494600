/**
 * What every piece of work receives from the pattern that runs it.
 */
export interface ExecutionContext {
  /** Aborted when the caller's signal aborts or a timeout fires. Always present. */
  readonly signal: AbortSignal;
  /** Which attempt this is, from 1 (a `Retry` counts up; other patterns pass it on). */
  readonly attempt: number;
  /** The absolute clock time by which the work must end, when one is known. */
  readonly deadline?: number | undefined;
}

/** The work a pattern runs: sync or async, it gets the {@link ExecutionContext}. */
export type Operation<T> = (ctx: ExecutionContext) => T | PromiseLike<T>;

/**
 * Per-call options of every pattern's `execute`. An {@link ExecutionContext}
 * fits, so an outer pattern can hand its context to an inner one and the
 * signal, deadline and attempt number flow through.
 */
export interface ExecuteOptions {
  /** The caller's signal: an aborted signal rejects at once with its reason and starts no work. */
  readonly signal?: AbortSignal | undefined;
  /** An absolute clock time by which the work must end (see {@link ExecutionContext.deadline}). */
  readonly deadline?: number | undefined;
  /** The attempt number to pass on to the work. @default 1 */
  readonly attempt?: number | undefined;
}

/**
 * Anything with the contract's `execute`: every pattern, a pipeline, or your own.
 */
export interface Policy<T = unknown, O extends ExecuteOptions = ExecuteOptions> {
  /** Runs `fn` under the pattern; settles once, with `fn`'s value or error or the pattern's rejection. */
  execute<R extends T>(fn: Operation<R>, options?: O): Promise<R>;
}
