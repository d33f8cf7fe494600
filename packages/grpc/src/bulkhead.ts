import { InterceptingCall, type Interceptor, status as Status, type StatusObject } from '@grpc/grpc-js';
import { isBulkheadFullError } from '@resilience/core';
import { describeValue, requireMethod } from '@resilience/core/validate';
import { type Guard, GuardedCall } from './internal/guarded-call.js';
import { optionsObject } from './internal/options.js';
import { type BulkheadLike, retryAfterOption } from './internal/shapes.js';
import { SignalPool } from './internal/signal-pool.js';
import { rejectionStatus, waitText } from './internal/status.js';
import type { BulkheadInterceptorOptions } from './types.js';

const OWNER = 'bulkheadInterceptor';

/** A call's hold on its slot: resolved when the call ends. */
class Hold {
  readonly call: GuardedCall;
  release: (() => void) | undefined = undefined;

  constructor(call: GuardedCall) {
    this.call = call;
  }

  /** The work the bulkhead runs in the slot: start the call, and keep the slot until it ends. */
  readonly run = (): Promise<void> | undefined => {
    // Cancelled or expired while queued (or the call could not be created): free the slot at once.
    if (!this.call.proceed()) return undefined;
    return new Promise<void>((resolve) => {
      this.release = resolve;
    });
  };
}

class BulkheadGuard implements Guard {
  readonly #bulkhead: BulkheadLike;
  readonly #retryAfter: number | undefined;
  readonly signals: SignalPool = new SignalPool();

  constructor(bulkhead: BulkheadLike, retryAfter: number | undefined) {
    this.#bulkhead = bulkhead;
    this.#retryAfter = retryAfter;
  }

  admit(call: GuardedCall): void {
    const hold = new Hold(call);
    call.token = hold;
    let result: Promise<unknown>;
    try {
      result = this.#bulkhead.execute(hold.run, { signal: call.signal() });
      if (typeof (result as { then?: unknown } | null)?.then !== 'function') {
        throw new TypeError(`${OWNER}: bulkhead.execute returned ${describeValue(result)}, not a promise`);
      }
    } catch (err) {
      call.reject(this.#rejection(err, call.method));
      return;
    }
    if (call.pending) call.waiting('a bulkhead slot');
    result.then(
      () => {
        call.releaseSignal();
        // A bulkhead of your own that settled without running the call would leave it waiting.
        if (call.pending)
          call.reject(this.#rejection(new Error('the bulkhead settled without running the call'), call.method));
      },
      (err: unknown) => {
        call.releaseSignal();
        call.reject(this.#rejection(err, call.method));
      },
    );
  }

  settle(call: GuardedCall, _status: StatusObject): void {
    const hold = call.token as Hold;
    const release = hold.release;
    hold.release = undefined;
    release?.();
  }

  #rejection(err: unknown, method: string): StatusObject {
    if (isBulkheadFullError(err)) {
      return rejectionStatus(
        Status.UNAVAILABLE,
        `Bulkhead full: ${method} rejected locally without a call${waitText(this.#retryAfter)}`,
        'bulkhead-full',
        this.#retryAfter,
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    return rejectionStatus(Status.UNAVAILABLE, `Bulkhead failed: ${message}`, 'bulkhead-full');
  }
}

/**
 * A client interceptor that limits how many calls (unary and streaming) are in
 * flight at once with a bulkhead: a call holds a slot from its start until its
 * final status. Calls beyond the bulkhead's `maxConcurrent` wait in its queue
 * (the messages they send are kept until they start); a call cancelled while
 * queued leaves the queue at once, and one whose deadline passes while queued
 * ends with `DEADLINE_EXCEEDED`.
 *
 * When the bulkhead is full (or the queue wait runs out) the call ends with
 * `UNAVAILABLE`, details saying the bulkhead is full, and trailing metadata
 * `resilience-rejection: bulkhead-full` and `grpc-retry-pushback-ms`.
 * `retryInterceptor` does not retry it.
 *
 * @param bulkhead - a core `Bulkhead` (or anything whose `execute` rejects with a `BulkheadFullError`)
 * @param options - the suggested wait
 * @returns a grpc-js client interceptor
 * @example
 * ```ts
 * const client = new Greeter(address, credentials.createInsecure(), {
 *   interceptors: [bulkheadInterceptor(new Bulkhead({ maxConcurrent: 50, maxQueue: 100, queueTimeout: 500 }))],
 * });
 * ```
 */
export function bulkheadInterceptor(bulkhead: BulkheadLike, options?: BulkheadInterceptorOptions): Interceptor {
  requireMethod(OWNER, 'bulkhead', bulkhead, 'execute');
  const opts = optionsObject(OWNER, options, ['retryAfter']);
  const guard = new BulkheadGuard(bulkhead, retryAfterOption(OWNER, opts.retryAfter));
  return (callOptions, nextCall) => new InterceptingCall(new GuardedCall(callOptions, nextCall, guard));
}
