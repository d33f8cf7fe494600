import type { ExecuteOptions, ExecutionContext } from '../context.js';

/** A signal that never aborts, shared by every call that has no signal of its own. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

/** The context of a call made with no options: allocated once. */
export const rootContext: ExecutionContext = Object.freeze({ signal: neverAbortedSignal, attempt: 1 });

/**
 * The context to hand to the work for these options. Reuses `options` when it
 * already is a complete context (an outer pattern's), so composition allocates nothing.
 */
export function toContext(options: ExecuteOptions | undefined): ExecutionContext {
  if (options === undefined) return rootContext;
  const { signal, attempt } = options;
  if (signal !== undefined && attempt !== undefined) return options as ExecutionContext;
  return { signal: signal ?? neverAbortedSignal, attempt: attempt ?? 1, deadline: options.deadline };
}
