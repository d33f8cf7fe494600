import type { ExecuteOptions, ExecutionContext, Operation } from '../context.js';

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
export function asMiddleware<T>(policy: PolicyOf<T>): Middleware<T> {
  return (next) => (ctx) => policy.execute(next, ctx);
}

/**
 * What {@link asMiddleware} needs of a policy: `execute` for work of type `T`.
 * A {@link Policy} fits, and so does a pattern typed for `T` (`Retry<string>`),
 * whose `T` is then inferred.
 */
export interface PolicyOf<T> {
  /** Runs `fn` under the policy with the incoming context as its options. */
  execute(fn: Operation<T>, options?: ExecuteOptions): Promise<T>;
}
