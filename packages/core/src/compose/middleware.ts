import type { ExecuteOptions, ExecutionContext, Operation } from '../context.js';
import { describeValue } from '../internal/validate.js';

/** A step of a composed call: takes the context, returns the result. */
export type Handler<T> = (ctx: ExecutionContext) => Promise<T>;

/** Wraps a {@link Handler} in another (a timeout, a retry, your own logging…). */
export type Middleware<T> = (next: Handler<T>) => Handler<T>;

/**
 * Composes middlewares into one: the first is outermost, so
 * `chain(a, b)(h)` is `a(b(h))`. With none it returns the handler unchanged.
 * A middleware that is not a function is a `TypeError` at once, naming its
 * position; so is one that returns no function when composed.
 *
 * @example
 * ```ts
 * const handler = chain(asMiddleware(timeout), asMiddleware(retry))(async (ctx) => fetchUser(ctx.signal));
 * await handler({ signal, attempt: 1 });
 * ```
 */
export function chain<T>(...middlewares: readonly Middleware<T>[]): Middleware<T> {
  middlewares.forEach((middleware, i) => {
    if (typeof middleware !== 'function') {
      throw new TypeError(
        `chain: middleware ${i} must be a function (next) => handler, got ${describeValue(middleware)}`,
      );
    }
  });
  const steps = [...middlewares];
  return (next) => {
    if (typeof next !== 'function') {
      throw new TypeError(`chain: the handler must be a function (ctx) => Promise, got ${describeValue(next)}`);
    }
    let handler = next;
    for (let i = steps.length - 1; i >= 0; i--) {
      handler = (steps[i] as Middleware<T>)(handler);
      if (typeof handler !== 'function') {
        throw new TypeError(`chain: middleware ${i} returned ${describeValue(handler)}, not a handler function`);
      }
    }
    return handler;
  };
}

/**
 * Any policy (every pattern, a pipeline, or an object of your own with
 * `execute`) as a {@link Middleware}. The incoming context is passed to
 * `execute` as its options, so signal, deadline and attempt flow through.
 * A `policy` without an `execute` method is a `TypeError` at once.
 */
export function asMiddleware<T>(policy: PolicyOf<T>): Middleware<T> {
  if (typeof (policy as { execute?: unknown } | null | undefined)?.execute !== 'function') {
    throw new TypeError(`asMiddleware: policy must have an execute method, got ${describeValue(policy)}`);
  }
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
