import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';

/** A step of a composed call: takes the context, returns the result. */
export type Handler<T> = (ctx: ExecutionContext) => Promise<T>;

/** Wraps a {@link Handler} in another (a timeout, a retry, your own logging…). */
export type Middleware<T> = (next: Handler<T>) => Handler<T>;

/**
 * Composes middlewares into one: the first is outermost, so
 * `chain(a, b)(h)` is `a(b(h))`. With none it returns the handler unchanged.
 *
 * @example
 * ```ts
 * const handler = chain(asMiddleware(timeout), asMiddleware(retry))(async (ctx) => fetchUser(ctx.signal));
 * await handler({ signal, attempt: 1 });
 * ```
 */
export function chain<T>(...middlewares: readonly Middleware<T>[]): Middleware<T> {
  return (next) => {
    let handler = next;
    for (let i = middlewares.length - 1; i >= 0; i--) handler = (middlewares[i] as Middleware<T>)(handler);
    return handler;
  };
}

/**
 * Any policy (every pattern, a pipeline, or an object of your own with
 * `execute`) as a {@link Middleware}. The incoming context is passed to
 * `execute` as its options, so signal, deadline and attempt flow through.
 */
export function asMiddleware<T>(policy: Policy<T, ExecuteOptions>): Middleware<T> {
  return (next) => (ctx) => policy.execute(next as Operation<T>, ctx);
}
