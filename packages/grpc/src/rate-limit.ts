import { InterceptingCall, type Interceptor, type Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { isRateLimitExceededError, type Logger, type RateLimiterLike, type RateLimitResult } from '@resilience/core';
import { booleanOption, describeValue, functionOption, numberOption, requireMethod } from '@resilience/core/validate';
import { isThenable } from '@resilience/http';
import { type Guard, GuardedCall } from './internal/guarded-call.js';
import { logError, loggerOption } from './internal/log.js';
import { optionsObject } from './internal/options.js';
import { isResult } from './internal/shapes.js';
import { SignalPool } from './internal/signal-pool.js';
import { rejectionStatus, waitText } from './internal/status.js';
import type { ClientKeyFunction, RateLimitInterceptorOptions } from './types.js';

const OWNER = 'rateLimitInterceptor';

/** The limiter methods the interceptor uses: the core `RateLimiter`, a `RedisRateLimiter`, or your own. */
export type RateLimiterForInterceptor = Pick<RateLimiterLike, 'consume' | 'wait'>;

class RateLimitGuard implements Guard {
  readonly #limiter: RateLimiterForInterceptor;
  readonly #key: ClientKeyFunction | undefined;
  readonly #maxWait: number;
  readonly #failOpen: boolean;
  readonly #logger: Logger | undefined;
  readonly signals: SignalPool = new SignalPool();

  constructor(
    limiter: RateLimiterForInterceptor,
    key: ClientKeyFunction | undefined,
    maxWait: number,
    failOpen: boolean,
    logger: Logger | undefined,
  ) {
    this.#limiter = limiter;
    this.#key = key;
    this.#maxWait = maxWait;
    this.#failOpen = failOpen;
    this.#logger = logger;
  }

  admit(call: GuardedCall): void {
    let key: string | undefined;
    if (this.#key !== undefined) {
      // The key function is the application's code: when it throws or answers something that is not a key, the
      // call fails (INTERNAL), whatever failOpen says: failing open would let every such call past the limit.
      try {
        key = this.#key(call.metadata as Metadata, call.method);
      } catch (err) {
        this.#keyFailed(call, err);
        return;
      }
      if (key !== undefined && typeof key !== 'string') {
        this.#keyFailed(
          call,
          new TypeError(`${OWNER}: key(metadata, method) must return a string or undefined, got ${describeValue(key)}`),
        );
        return;
      }
    }
    try {
      if (this.#maxWait > 0) {
        const wait = this.#limiter.wait(key, { signal: call.signal(), maxWait: this.#maxWait });
        call.waiting('a rate-limit token');
        wait.then(
          () => {
            call.releaseSignal();
            call.proceed();
          },
          (err: unknown) => {
            call.releaseSignal();
            this.#failed(call, err);
          },
        );
        return;
      }
      const decision = this.#limiter.consume(key);
      if (!isThenable(decision)) {
        this.#decide(call, decision);
        return;
      }
      call.waiting('the rate limiter');
      decision.then(
        (answer) => this.#decide(call, answer),
        (err: unknown) => this.#failed(call, err),
      );
    } catch (err) {
      this.#failed(call, err);
    }
  }

  settle(): void {}

  #decide(call: GuardedCall, decision: RateLimitResult): void {
    if (!isResult(decision)) {
      this.#failed(
        call,
        new TypeError(`${OWNER}: the limiter answered ${describeValue(decision)}, not a RateLimitResult`),
      );
      return;
    }
    if (decision.allowed) call.proceed();
    else call.reject(limited(call.method, decision.retryAfterMs));
  }

  #keyFailed(call: GuardedCall, err: unknown): void {
    logError(this.#logger, 'rate-limit key function failed', { err, method: call.method });
    const message = err instanceof Error ? err.message : String(err);
    call.reject(rejectionStatus(Status.INTERNAL, `Rate-limit key failed: ${message}`, 'key-failed'));
  }

  #failed(call: GuardedCall, err: unknown): void {
    if (!call.pending) return; // cancelled, or its deadline passed, while waiting
    if (isRateLimitExceededError(err)) {
      call.reject(limited(call.method, (err as { retryAfterMs?: number }).retryAfterMs));
    } else {
      logError(this.#logger, 'rate limiter failed', { err, method: call.method, failOpen: this.#failOpen });
      if (this.#failOpen) {
        call.proceed();
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      call.reject(rejectionStatus(Status.UNAVAILABLE, `Rate limiter failed: ${message}`, 'limiter-failed'));
    }
  }
}

function limited(method: string, retryAfterMs: number | undefined): StatusObject {
  return rejectionStatus(
    Status.RESOURCE_EXHAUSTED,
    `Rate limit exceeded: ${method} rejected locally without a call${waitText(retryAfterMs)}`,
    'rate-limited',
    retryAfterMs,
  );
}

/**
 * A client interceptor that spends a rate limiter's token on every call
 * (unary and streaming) before it goes out. Without a token the call ends with
 * `RESOURCE_EXHAUSTED`, details saying the rate limit is exceeded, and
 * trailing metadata `resilience-rejection: rate-limited` and
 * `grpc-retry-pushback-ms` (when the next token comes). With `maxWait`, a
 * call waits that long for a token first (leaving at once when cancelled,
 * ending with `DEADLINE_EXCEEDED` when its deadline passes). Works with a
 * limiter whose `consume` returns a promise (a distributed limiter).
 *
 * @param limiter - a core `RateLimiter` (or anything with its `consume` and `wait`)
 * @param options - the key, a wait, and what a failing limiter does
 * @returns a grpc-js client interceptor
 * @example
 * ```ts
 * const limiter = new RateLimiter({ rate: 100, interval: 1_000 });
 * const client = new Greeter(address, credentials.createInsecure(), {
 *   interceptors: [rateLimitInterceptor(limiter, { key: (md) => String(md.get('tenant')[0] ?? '') })],
 * });
 * ```
 */
export function rateLimitInterceptor(
  limiter: RateLimiterForInterceptor,
  options?: RateLimitInterceptorOptions,
): Interceptor {
  requireMethod(OWNER, 'limiter', limiter, 'consume');
  const opts = optionsObject(OWNER, options, ['key', 'maxWait', 'failOpen', 'logger']);
  const maxWait = numberOption(OWNER, 'maxWait', opts.maxWait, 0, { min: 0, allowInfinity: true });
  if (maxWait > 0) requireMethod(OWNER, 'limiter', limiter, 'wait');
  const guard = new RateLimitGuard(
    limiter,
    functionOption(OWNER, 'key', opts.key),
    maxWait,
    booleanOption(OWNER, 'failOpen', opts.failOpen, false),
    loggerOption(OWNER, opts.logger),
  );
  return (callOptions, nextCall) => new InterceptingCall(new GuardedCall(callOptions, nextCall, guard));
}
