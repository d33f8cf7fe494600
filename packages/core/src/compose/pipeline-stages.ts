import type { ExecutionContext, Operation } from '../context.js';
import { rootContext } from '../internal/context.js';
import type { RateLimiterLike } from '../rate-limiter/types.js';

/**
 * A rate limiter as a pipeline step that spends a fixed key and token count
 * per call: the incoming context's signal, attempt and deadline are passed on
 * with them.
 */
export class RateLimitStage<T = unknown> {
  readonly #limiter: RateLimiterLike;
  readonly #key: string | undefined;
  readonly #tokens: number | undefined;

  /**
   * @param limiter - the limiter
   * @param key - the key every call spends (the default bucket when `undefined`)
   * @param tokens - tokens per call (1 when `undefined`)
   */
  constructor(limiter: RateLimiterLike, key: string | undefined, tokens: number | undefined) {
    this.#limiter = limiter;
    this.#key = key;
    this.#tokens = tokens;
  }

  /** Runs `fn` under the limiter, spending the step's key and tokens. */
  execute<R extends T>(fn: Operation<R>, options?: ExecutionContext): Promise<R> {
    const ctx = options ?? rootContext;
    return this.#limiter.execute(fn, {
      signal: ctx.signal,
      attempt: ctx.attempt,
      deadline: ctx.deadline,
      key: this.#key,
      tokens: this.#tokens,
    });
  }
}
