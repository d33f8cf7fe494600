import type { ExecuteOptions, ExecutionContext } from '../context.js';
import { describeValue } from './validate.js';

/** A signal that never aborts, shared by every call that has no signal of its own. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

/** The context of a call made with no options: allocated once. */
export const rootContext: ExecutionContext = Object.freeze({ signal: neverAbortedSignal, attempt: 1 });

/**
 * A context whose `signal` is created on first read (a `Timeout`'s: an
 * `AbortController` costs more than the rest of the call). Inner patterns
 * pass it on as it is and ask {@link isAbortedContext} rather than reading
 * `signal`, so work that never looks at the signal never pays for one.
 */
export abstract class LazyContext implements ExecutionContext {
  /** The attempt number passed on. */
  abstract readonly attempt: number;
  /** The absolute deadline, when one is known. */
  abstract readonly deadline: number | undefined;
  /** The signal, created on first read. */
  abstract get signal(): AbortSignal;
  /** Whether `signal` has aborted (or would have, once created), without creating it. */
  abstract get aborted(): boolean;
  /** The reason `signal` aborted (or would abort) with, without creating it; `undefined` while not aborted. */
  abstract get abortReason(): unknown;
}

/**
 * The context to hand to the work for these options. Reuses `options` when it
 * already is a complete context (an outer pattern's), so composition allocates
 * nothing and a {@link LazyContext} stays lazy.
 */
export function toContext(options: ExecuteOptions | null | undefined): ExecutionContext {
  if (options === undefined || options === null) return rootContext;
  if (options instanceof LazyContext) return options;
  const { signal, attempt } = options;
  if (signal !== undefined && attempt !== undefined) return options as ExecutionContext;
  return { signal: signal ?? neverAbortedSignal, attempt: attempt ?? 1, deadline: options.deadline };
}

/** Whether the signal of `ctx` has aborted, without creating a {@link LazyContext}'s signal. */
export function isAbortedContext(ctx: ExecutionContext): boolean {
  return ctx instanceof LazyContext ? ctx.aborted : ctx.signal.aborted;
}

/** The abort reason of `ctx` (see {@link isAbortedContext}), without creating a lazy signal. */
export function contextAbortReason(ctx: ExecutionContext): unknown {
  return ctx instanceof LazyContext ? ctx.abortReason : ctx.signal.reason;
}

/**
 * Whether the signal of `ctx` may abort while the work runs: `false` for the
 * shared never-aborting signal, without creating a {@link LazyContext}'s signal.
 */
export function canAbort(ctx: ExecutionContext): boolean {
  return ctx !== rootContext && (ctx instanceof LazyContext || ctx.signal !== neverAbortedSignal);
}

/** The `TypeError` a pattern rejects with when `execute` gets something other than a function. */
export function notAFunction(owner: string, fn: unknown): TypeError {
  return new TypeError(`${owner}: execute needs a function, got ${describeValue(fn)}`);
}

/**
 * The prologue every pattern's `execute` starts with, in one place: `fn` must
 * be a function, the options become a context (`toContext`, or a pattern's
 * own), and a caller's signal that has already aborted ends the call with its
 * reason before anything else happens. Throws; an `execute` that must not
 * throw synchronously turns the throw into a rejection.
 *
 * @param owner - the pattern's name, for the `TypeError`
 * @param fn - what the caller passed as the work
 * @param options - the caller's options
 * @param context - how the options become a context
 */
export function enter(
  owner: string,
  fn: unknown,
  options: ExecuteOptions | null | undefined,
  context: (options: ExecuteOptions | null | undefined) => ExecutionContext = toContext,
): ExecutionContext {
  if (typeof fn !== 'function') throw notAFunction(owner, fn);
  const ctx = context(options);
  if (ctx !== rootContext && isAbortedContext(ctx)) throw contextAbortReason(ctx);
  return ctx;
}
