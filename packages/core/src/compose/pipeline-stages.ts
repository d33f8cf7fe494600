import type { ExecuteOptions, Operation } from '../context.js';
import { toContext } from '../internal/context.js';
import { executeKeyed, RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterLike } from '../rate-limiter/types.js';

/** Whether `stage` is a rate limiter (the in-memory one, or any {@link RateLimiterLike} such as a distributed one). */
export function isRateLimiter(stage: unknown): stage is RateLimiterLike {
  if (stage instanceof RateLimiter) return true;
  if (stage === null || typeof stage !== 'object') return false;
  const s = stage as Partial<Record<keyof RateLimiterLike, unknown>>;
  return (
    typeof s.execute === 'function' &&
    typeof s.consume === 'function' &&
    typeof s.allow === 'function' &&
    typeof s.wait === 'function'
  );
}

/** The in-memory limiter's own `execute`: a limiter whose `execute` is still this one is run without a context object. */
const ownExecute: unknown = RateLimiter.prototype.execute;

/**
 * Runs `fn` under `limiter`, spending `tokens` of `key`, with the incoming
 * context's signal, attempt and deadline. The in-memory limiter takes the
 * context as it is (an outer `Timeout`'s lazy signal stays lazy).
 */
export function runRateLimited<R>(
  limiter: RateLimiterLike,
  fn: Operation<R>,
  options: ExecuteOptions | undefined,
  key: string | undefined,
  tokens: number | undefined,
): Promise<R> {
  // Read once, as a call of `execute` does. An in-memory limiter whose `execute` was replaced (a subclass's own,
  // a wrapper installed by instrumentation or a test spy) is called through it, like any other limiter.
  const execute = limiter.execute;
  if (execute === ownExecute && limiter instanceof RateLimiter) return executeKeyed(limiter, fn, options, key, tokens);
  try {
    const ctx = toContext(options);
    // A limiter of your own may return a thenable or a plain value: the step settles as a promise of it.
    return Promise.resolve(
      execute.call(limiter, fn, { signal: ctx.signal, attempt: ctx.attempt, deadline: ctx.deadline, key, tokens }),
    ) as Promise<R>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A rate limiter as a pipeline step that spends a fixed key and token count
 * per call: the incoming context's signal, attempt and deadline are passed on
 * with them. Without a fixed key, a pipeline hands it the call's own `key`.
 */
export class RateLimitStage<T = unknown> {
  /** The limiter. */
  readonly limiter: RateLimiterLike;
  /** The key every call spends; `undefined` to spend the call's own key (or the default bucket). */
  readonly key: string | undefined;
  readonly #tokens: number | undefined;

  /**
   * @param limiter - the limiter
   * @param key - the key every call spends (the call's key, else the default bucket, when `undefined`)
   * @param tokens - tokens per call (1 when `undefined`)
   */
  constructor(limiter: RateLimiterLike, key: string | undefined, tokens: number | undefined) {
    this.limiter = limiter;
    this.key = key;
    this.#tokens = tokens;
  }

  /** Runs `fn` under the limiter, spending the step's key and tokens. */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    return runRateLimited(this.limiter, fn, options ?? undefined, this.key, this.#tokens);
  }

  /** Runs `fn` under the limiter, spending the step's fixed key, else `callKey`. */
  run<R extends T>(fn: Operation<R>, options: ExecuteOptions | undefined, callKey: string | undefined): Promise<R> {
    return runRateLimited(this.limiter, fn, options, this.key ?? callKey, this.#tokens);
  }
}
