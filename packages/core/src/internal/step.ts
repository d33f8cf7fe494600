import type { ExecuteOptions, ExecutionContext, Operation } from '../context.js';

/**
 * The work of a step as a pipeline hands it over: `op(arg, ctx)`, a function
 * the pipeline made once at construction and the call's own value (the
 * caller's `fn`; in a pipeline with a rate-limit step, one object holding `fn`
 * and the call's key). A step run this way needs no closure made per call to
 * bind them, where `execute` needs one at every boundary of the pipeline.
 */
export type StepOp = (arg: never, ctx: ExecutionContext) => unknown;

/**
 * Runs the work of a call: `arg(ctx)` when `op` is `undefined` (the work came
 * through `execute`), else `op(arg, ctx)` (it came from a pipeline).
 */
export function invoke<R>(op: StepOp | undefined, arg: unknown, ctx: ExecutionContext): R | PromiseLike<R> {
  return (
    op === undefined ? (arg as Operation<R>)(ctx) : (op as (arg: unknown, ctx: ExecutionContext) => unknown)(arg, ctx)
  ) as R | PromiseLike<R>;
}

/**
 * How a pattern runs `op(arg, ctx)` exactly as its `execute` runs `fn(ctx)`:
 * the same checks, telemetry and settlement, one code path.
 */
export type StepRunner = (
  policy: never,
  op: StepOp,
  arg: unknown,
  options: ExecuteOptions | undefined,
) => Promise<unknown>;

interface Registered {
  /** The `execute` the class was built with: a policy whose `execute` is another one is run through that one. */
  readonly execute: unknown;
  readonly run: StepRunner;
}

const runners = new WeakMap<object, Registered>();

/**
 * Registers how a pattern runs a pipeline's step (from a static block, as
 * `registerStepRunner(this, …)`, like `registerUpdater`).
 */
export function registerStepRunner<P extends object>(
  pattern: abstract new (...args: never[]) => P,
  run: (policy: P, op: StepOp, arg: unknown, options: ExecuteOptions | undefined) => Promise<unknown>,
): void {
  const prototype = pattern.prototype as { execute?: unknown };
  runners.set(prototype, { execute: prototype.execute, run: run as StepRunner });
}

/**
 * The way a pipeline runs `policy` without a closure per call, or `undefined`
 * to call its `execute`: only an instance of a registered class itself (not
 * of a subclass, which may have its own `execute`). The returned function
 * checks on every call that `execute` is still the class's own (a wrapper
 * installed later, by instrumentation or a test spy, is called as it is).
 */
export function stepRunner(
  policy: object,
): ((op: StepOp, arg: unknown, options: ExecuteOptions | undefined) => Promise<unknown>) | undefined {
  const registered = runners.get(Object.getPrototypeOf(policy) as object);
  if (registered === undefined) return undefined;
  const { execute, run } = registered;
  const target = policy as { execute(fn: Operation<unknown>, options?: ExecuteOptions): Promise<unknown> };
  return (op, arg, options) => {
    // Read once, as a call of `execute` does: an `execute` getter runs once per call.
    const current = target.execute;
    return current === execute
      ? run(policy as never, op, arg, options)
      : current.call(target, asOperation(op, arg), options);
  };
}

/** The work as a function of the context: `arg` itself, or `op` bound to `arg` (for work run more than once). */
export function asOperation<R>(op: StepOp | undefined, arg: unknown): Operation<R> {
  if (op === undefined) return arg as Operation<R>;
  return (ctx) => (op as (arg: unknown, ctx: ExecutionContext) => R | PromiseLike<R>)(arg, ctx);
}
