import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { contextAbortReason, isAbortedContext, toContext } from '../internal/context.js';
import { Telemetry } from '../internal/telemetry.js';
import { configObject, functionOption } from '../internal/validate.js';
import type { ObservabilityOptions, SpanLike } from '../observability/types.js';

/** Computes the replacement value from the failure and the call's context. */
export type FallbackHandler<T> = (err: unknown, ctx: ExecutionContext) => T | PromiseLike<T>;

/** Options of a {@link Fallback}. */
export interface FallbackConfig<T = unknown> extends ObservabilityOptions {
  /**
   * What a handled failure is replaced with: a function of the error and the
   * context (its value, or what its promise resolves to), or a plain value.
   * To fall back to a function value, return it from a function. When the
   * fallback itself throws, that error reaches the caller.
   */
  fallback: FallbackHandler<T> | T;
  /**
   * Which failures fall back; the others reach the caller as they are. An
   * exception it throws is logged and counts as `false`.
   * @default every failure
   */
  shouldHandle?: (err: unknown) => boolean;
  /**
   * Called with the failure before the fallback runs. An exception it throws
   * is logged and ignored.
   * @default none
   */
  onFallback?: (err: unknown) => void;
}

const OWNER = 'Fallback';

/**
 * Replaces a failure of the work with a value: a default, a cached copy, a
 * degraded answer. Composes like every other pattern, typically outermost:
 * `chain(asMiddleware(fallback), asMiddleware(retry), asMiddleware(timeout))`.
 *
 * The caller's own abort is never replaced: once the caller's signal has
 * aborted, the failure reaches the caller as it is.
 *
 * @example
 * ```ts
 * const prices = new Fallback<Price[]>({
 *   fallback: (err) => cache.get('prices') ?? [],
 *   shouldHandle: (err) => !(err instanceof ValidationError),
 * });
 * const list = await prices.execute(({ signal }) => api.prices({ signal }));
 * ```
 */
export class Fallback<T = unknown> implements Policy<T> {
  readonly #fallback: FallbackHandler<T>;
  readonly #shouldHandle: ((err: unknown) => boolean) | undefined;
  readonly #onFallback: ((err: unknown) => void) | undefined;
  readonly #telemetry: Telemetry;

  /** @param config - the fallback, `shouldHandle`, `onFallback` and observability */
  constructor(config: FallbackConfig<T>) {
    const c = configObject(OWNER, config);
    if (!('fallback' in c)) throw new TypeError(`${OWNER}: fallback is required (a function or a value)`);
    const fallback = c.fallback;
    this.#fallback = typeof fallback === 'function' ? (fallback as FallbackHandler<T>) : () => fallback as T;
    this.#shouldHandle = functionOption(OWNER, 'shouldHandle', c.shouldHandle);
    this.#onFallback = functionOption(OWNER, 'onFallback', c.onFallback);
    this.#telemetry = Telemetry.for('fallback', c);
  }

  /**
   * Runs `fn`; a handled failure resolves with the fallback instead. The
   * fallback's value is expected to fit what `fn` returns.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    const ctx = toContext(options);
    if (isAbortedContext(ctx)) return Promise.reject(contextAbortReason(ctx));
    if (this.#telemetry.tracer === undefined) return this.#run(fn, ctx, undefined);
    return this.#telemetry.traced('resilience.fallback', undefined, (span) => this.#run(fn, ctx, span));
  }

  async #run<R extends T>(fn: Operation<R>, ctx: ExecutionContext, span: SpanLike | undefined): Promise<R> {
    try {
      return await fn(ctx);
    } catch (err) {
      if (isAbortedContext(ctx) || !this.#handles(err)) throw err;
      const telemetry = this.#telemetry;
      span?.setAttribute('resilience.fallback.used', true);
      telemetry.log('debug', 'falling back', { err });
      telemetry.invokeHook(this.#onFallback, 'onFallback', err);
      return (await this.#fallback(err, ctx)) as R;
    }
  }

  #handles(err: unknown): boolean {
    const decide = this.#shouldHandle;
    if (decide === undefined) return true;
    try {
      return decide(err) === true;
    } catch (hookErr) {
      this.#telemetry.log('error', 'shouldHandle threw', { err: hookErr });
      return false;
    }
  }
}
