import {
  type Deadline,
  InterceptingCall,
  type Interceptor,
  type InterceptorOptions,
  Metadata,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import { isTimeoutError } from '@resilience/core';
import { describeValue } from '@resilience/core/validate';
import { CONTEXT_SIGNAL, type ContextCallOptions, earlier, MAX_DEADLINE_MS } from './context.js';
import type { FullCallListener } from './internal/call-types.js';
import { type Guard, GuardedCall } from './internal/guarded-call.js';
import { type Cancellable, follow, unfollow } from './internal/signal-fanout.js';
import { rejectionStatus } from './internal/status.js';

const OWNER = 'deadlineInterceptor';

/** Follows the caller's signal for one call: cancels the call when it aborts, stops following when the call ends. */
class SignalLink implements Cancellable {
  readonly signal: AbortSignal;
  call: InterceptingCall | undefined = undefined;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  cancelFromSignal(reason: unknown): void {
    const call = this.call;
    if (call === undefined) return;
    this.call = undefined;
    const message = reason instanceof Error ? reason.message : String(reason);
    if (isTimeoutError(reason)) call.cancelWithStatus(Status.DEADLINE_EXCEEDED, `Deadline exceeded: ${message}`);
    else call.cancelWithStatus(Status.CANCELLED, `Cancelled by the caller's signal: ${message}`);
  }

  readonly start = (
    metadata: import('@grpc/grpc-js').Metadata,
    _listener: unknown,
    next: (metadata: import('@grpc/grpc-js').Metadata, listener: Partial<FullCallListener> | object) => void,
  ): void => {
    next(metadata, { onReceiveStatus: this.onStatus });
    if (this.signal.aborted) this.cancelFromSignal(this.signal.reason);
    else if (this.call !== undefined) follow(this.signal, this);
  };

  readonly onStatus = (status: StatusObject, next: (status: StatusObject) => void): void => {
    this.call = undefined;
    unfollow(this.signal, this);
    next(status);
  };
}

/**
 * The call's own deadline, or `undefined` when grpc-js cannot send it: a NaN
 * deadline (an invalid `Date`) or one further away than the longest
 * `grpc-timeout` makes grpc-js throw inside its own promise chain, an uncaught
 * exception that ends the process. Such a deadline is treated as none.
 */
function usable(deadline: Deadline | undefined): Deadline | undefined {
  if (deadline === undefined) return undefined;
  const at = typeof deadline === 'number' ? deadline : deadline.getTime();
  if (Number.isNaN(at) || (at !== Number.POSITIVE_INFINITY && at - Date.now() > MAX_DEADLINE_MS)) return undefined;
  return deadline;
}

/** A guard that answers at once with the status for an aborted caller signal's `reason`. */
function refuse(reason: unknown): Guard {
  const message = reason instanceof Error ? reason.message : String(reason);
  const status = isTimeoutError(reason)
    ? rejectionStatus(Status.DEADLINE_EXCEEDED, `Deadline exceeded: ${message}`, 'deadline')
    : { code: Status.CANCELLED, details: `Cancelled by the caller's signal: ${message}`, metadata: new Metadata() };
  return { admit: (call) => call.reject(status), settle: () => {} };
}

/**
 * A client interceptor that gives every call (unary and streaming) a
 * deadline: the earliest of the call's own `deadline`, `ms` from the call's
 * start, and the remaining time of the caller's `ctx.deadline` (when the call
 * options came from {@link withContext}). grpc-js sends it to the server as
 * `grpc-timeout`, so the server sees it, and ends the call with
 * `DEADLINE_EXCEEDED` when it passes.
 *
 * With options from {@link withContext}, the call is also cancelled when the
 * caller's signal aborts: `DEADLINE_EXCEEDED` when the reason is a
 * `TimeoutError` (an outer `Timeout` fired), `CANCELLED` otherwise. Put it
 * first in the list (outermost) so that cancellation reaches every
 * interceptor after it. Many calls may share one signal: one listener per
 * signal serves them all.
 *
 * @param ms - the longest a call may take, in ms (> 0, at most
 *   {@link MAX_DEADLINE_MS}); `Infinity` or omitted keeps only the caller's deadline
 * @returns a grpc-js client interceptor
 * @example
 * ```ts
 * const client = new Greeter(address, credentials.createInsecure(), {
 *   interceptors: [deadlineInterceptor(2_000), retryInterceptor(new Retry({ maxAttempts: 3 }))],
 * });
 * ```
 */
export function deadlineInterceptor(ms?: number): Interceptor {
  // Only an omitted `ms` means "no limit of its own": `null` is a mistake, named like any other.
  const limit = ms === undefined ? Number.POSITIVE_INFINITY : ms;
  if (
    typeof limit !== 'number' ||
    Number.isNaN(limit) ||
    limit <= 0 ||
    (limit > MAX_DEADLINE_MS && limit !== Number.POSITIVE_INFINITY)
  ) {
    throw new (typeof limit === 'number' ? RangeError : TypeError)(
      `${OWNER}: ms must be a number of milliseconds > 0 and <= ${MAX_DEADLINE_MS} (the longest grpc-timeout), or Infinity, got ${describeValue(ms)}`,
    );
  }
  const bounded = limit !== Number.POSITIVE_INFINITY;
  return (options, nextCall) => {
    let callOptions: InterceptorOptions = options;
    const own = options.deadline;
    if (bounded) {
      const deadline = earlier(usable(own), Date.now() + limit);
      if (deadline !== own) callOptions = { ...options, deadline };
    } else if (own !== undefined && usable(own) === undefined) {
      callOptions = { ...options, deadline: Number.POSITIVE_INFINITY };
    }
    const signal = (options as ContextCallOptions)[CONTEXT_SIGNAL];
    if (signal === undefined) return new InterceptingCall(nextCall(callOptions));
    // The caller gave up already: no call is made at all.
    if (signal.aborted) return new InterceptingCall(new GuardedCall(callOptions, nextCall, refuse(signal.reason)));
    const link = new SignalLink(signal);
    const call = new InterceptingCall(nextCall(callOptions), { start: link.start });
    link.call = call;
    return call;
  };
}
