import type { CallOptions, Deadline } from '@grpc/grpc-js';
import { type Clock, type ExecutionContext, systemClock } from '@resilience/core';
import { describeValue } from '@resilience/core/validate';

/** Where {@link withContext} leaves the caller's signal in the call options. */
export const CONTEXT_SIGNAL: unique symbol = Symbol.for('@resilience/grpc.signal');

/**
 * The longest deadline gRPC can send: `grpc-timeout` holds at most 8 digits,
 * so 99,999,999 hours. grpc-js throws (asynchronously, leaving the call
 * hanging) for a deadline further away, so longer limits mean "no deadline".
 */
export const MAX_DEADLINE_MS: number = 99_999_999 * 3_600_000;

/** Call options that may carry a caller's signal (see {@link withContext}). */
export interface ContextCallOptions extends CallOptions {
  /** The caller's signal; `deadlineInterceptor` cancels the call when it aborts. */
  readonly [CONTEXT_SIGNAL]?: AbortSignal;
}

/**
 * Call options for a call made inside a resilience pattern: the remaining time
 * of `ctx.deadline` becomes the call's gRPC deadline (the earlier of it and
 * `callOptions.deadline`), so the server sees it in `grpc-timeout`; and
 * `ctx.signal` travels with the call, so a `deadlineInterceptor` on the client
 * cancels the call when the signal aborts (`DEADLINE_EXCEEDED` when the reason
 * is a `TimeoutError`, `CANCELLED` otherwise).
 *
 * `ctx.deadline` is a time on the pattern's clock; pass that clock when it is
 * not the default one.
 *
 * @param ctx - the context a pattern gave the work
 * @param callOptions - other grpc-js call options, kept
 * @param clock - the clock of `ctx.deadline`
 * @returns new call options (the given ones are not changed)
 * @example
 * ```ts
 * const timeout = new Timeout({ defaultTimeout: 2_000 });
 * const reply = await timeout.execute((ctx) =>
 *   new Promise((resolve, reject) =>
 *     client.sayHello({ name }, withContext(ctx), (err, res) => (err ? reject(err) : resolve(res)))));
 * ```
 */
export function withContext(
  ctx: Pick<ExecutionContext, 'signal' | 'deadline'>,
  callOptions?: CallOptions,
  clock: Pick<Clock, 'now'> = systemClock,
): ContextCallOptions {
  const options: { -readonly [K in keyof ContextCallOptions]: ContextCallOptions[K] } = { ...callOptions };
  if (ctx.deadline !== undefined && (typeof ctx.deadline !== 'number' || Number.isNaN(ctx.deadline))) {
    throw new TypeError(
      `withContext: ctx.deadline must be a time in ms on the pattern's clock, or undefined, got ${describeValue(ctx.deadline)}`,
    );
  }
  if (ctx.deadline !== undefined) {
    const remaining = ctx.deadline - clock.now();
    // A deadline beyond what grpc-timeout can carry is no deadline (grpc-js would fail the call).
    if (remaining <= MAX_DEADLINE_MS) options.deadline = earlier(callOptions?.deadline, Date.now() + remaining);
  }
  if (ctx.signal !== undefined) options[CONTEXT_SIGNAL] = ctx.signal;
  return options;
}

/** The earlier of two deadlines, as epoch milliseconds. */
export function earlier(a: Deadline | undefined, b: number): number {
  if (a === undefined) return b;
  const ms = typeof a === 'number' ? a : a.getTime();
  return ms < b ? ms : b;
}
