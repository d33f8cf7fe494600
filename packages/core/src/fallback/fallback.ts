import type { Classifier } from '../classify/classifier.js';
import { classifierOption, refuseAliases, supersede } from '../classify/compile.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { enter, isAbortedContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { predicateOption } from '../internal/hooks.js';
import { invoke, registerStepRunner, type StepOp } from '../internal/step.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, mergeUpdate, registerUpdater } from '../internal/update.js';
import { configObject, functionOption } from '../internal/validate.js';
import type { ObservabilityOptions, SpanLike } from '../observability/types.js';
import { type FallbackEvents, fallbackEvents } from './events.js';

/**
 * Computes the replacement value from the failure (the thrown value, or the
 * returned value that `handle` counted as a failure) and the call's context.
 */
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
   * Which failures fall back: a classifier from `handle()`, `handleWhen()`,
   * `handleAll()` or `handleResult()`, the same value a `CircuitBreaker`, a
   * `Retry` or a `Hedging` takes. A handled thrown value falls back; the
   * others reach the caller as they are. A handled *returned* value (an
   * `orResult` predicate accepts it: a 503 response, say) falls back too, and
   * the fallback gets that value as its first argument.
   *
   * It replaces `shouldHandle` (its errors), which remains as an alias:
   * giving both is a `TypeError`. A predicate of the classifier that throws or
   * returns a promise is logged (as `shouldHandle` for an error, `handle` for a
   * result) and counts as "not handled": the failure, or the value, reaches the caller.
   * @default every thrown value falls back, no returned value does
   */
  handle?: Classifier<T>;
  /**
   * Alias of `handleWhen(...)`.
   * Which failures fall back (a truthy answer); the others reach the caller as
   * they are. A predicate: it must answer synchronously (an `async` function
   * throws a `TypeError` at construction); an exception it throws, or a promise
   * it returns, is logged and counts as `false`.
   * @default every failure
   */
  shouldHandle?: (err: unknown) => boolean;
  /**
   * Called with the failure before the fallback runs. An exception it throws,
   * or a rejected promise it returns, is logged and ignored.
   * @default none
   */
  onFallback?: (err: unknown) => void;
}

const OWNER = 'Fallback';

const knownConfigKeys = knownKeys(['fallback', 'handle', 'shouldHandle', 'onFallback']);

/** The older spelling of part of `handle`. */
const HANDLE_ALIASES: readonly string[] = ['shouldHandle'];

/** Handles no thrown value: the test of a classifier that names no error (`handleResult(...)`). */
const noError = (): boolean => false;

/** Options of peer libraries (cockatiel, resilience4j, opossum), and what to use here instead. */
const peerHints: PeerHints = {
  value: `use "fallback" (a value, or a function of the error)`,
  fallbackValue: `use "fallback" (a value, or a function of the error)`,
  errorFilter: `opossum's errorFilter is "handle" here (inverted: what it handles falls back), e.g. handle: handleWhen((err) => ...)`,
};

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
 *   handle: handleAll().except(ValidationError),
 * });
 * const list = await prices.execute(({ signal }) => api.prices({ signal }));
 * ```
 */
export class Fallback<T = unknown> implements Policy<T> {
  #fallback: FallbackHandler<T>;
  #shouldHandle: ((err: unknown) => boolean) | undefined;
  /** Which returned values fall back (from `handle`); `undefined` when none does. */
  #handlesResult: ((value: unknown) => boolean) | undefined;
  #onFallback: ((err: unknown) => void) | undefined;
  #telemetry: Telemetry;
  /** The config as built and updated, for `update()` to merge over. */
  #config: FallbackConfig<T>;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<FallbackEvents> | undefined = undefined;

  /** @param config - the fallback, `shouldHandle`, `onFallback` and observability */
  constructor(config: FallbackConfig<T>) {
    const c = configObject(OWNER, config);
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    if (!('fallback' in c)) throw new TypeError(`${OWNER}: fallback is required (a function or a value)`);
    const fallback = c.fallback;
    this.#fallback = typeof fallback === 'function' ? (fallback as FallbackHandler<T>) : () => fallback as T;
    const handle = classifierOption(OWNER, c.handle);
    if (handle === undefined) {
      this.#shouldHandle = predicateOption(OWNER, 'shouldHandle', c.shouldHandle);
      this.#handlesResult = undefined;
    } else {
      refuseAliases(OWNER, c, HANDLE_ALIASES);
      const errors = handle.errors;
      this.#shouldHandle = errors === 'all' ? undefined : errors === 'none' ? noError : errors;
      this.#handlesResult = handle.results as ((value: unknown) => boolean) | undefined;
    }
    this.#onFallback = functionOption(OWNER, 'onFallback', c.onFallback);
    this.#telemetry = Telemetry.for('fallback', c);
    this.#config = c as FallbackConfig<T>;
  }

  /**
   * Runs `fn`; a handled failure resolves with the fallback instead. The
   * fallback's value is expected to fit what `fn` returns.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    return this.#call(undefined, fn, options);
  }

  /** {@link Fallback.execute} of `invoke(op, arg, ctx)`: `fn(ctx)` itself, or a pipeline's step. */
  #call<R extends T>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    let ctx: ExecutionContext;
    try {
      ctx = enter(OWNER, op ?? arg, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#telemetry.tracer === undefined) return this.#run(op, arg, ctx, undefined);
    return this.#telemetry.traced('resilience.fallback', undefined, (span) => this.#run<R>(op, arg, ctx, span));
  }

  async #run<R extends T>(
    op: StepOp | undefined,
    arg: unknown,
    ctx: ExecutionContext,
    span: SpanLike | undefined,
  ): Promise<R> {
    let value: R;
    try {
      value = await invoke<R>(op, arg, ctx);
    } catch (err) {
      if (isAbortedContext(ctx) || !this.#handles(err)) throw err;
      return this.#fallBack(err, ctx, span);
    }
    // A returned value that `handle` counts as a failure falls back too (never once the caller has aborted).
    const handlesResult = this.#handlesResult;
    if (handlesResult === undefined || isAbortedContext(ctx) || !this.#telemetry.ask(handlesResult, value, 'handle')) {
      return value;
    }
    return this.#fallBack(value, ctx, span);
  }

  /** Replaces `failure` (a thrown value, or a returned value `handle` counted as a failure) with the fallback. */
  async #fallBack<R extends T>(failure: unknown, ctx: ExecutionContext, span: SpanLike | undefined): Promise<R> {
    const telemetry = this.#telemetry;
    span?.setAttribute('resilience.fallback.used', true);
    telemetry.log('debug', 'falling back', { err: failure });
    telemetry.invokeHook(this.#onFallback, 'onFallback', failure);
    this.#events?.emit('fallback', { error: failure });
    return (await this.#fallback(failure, ctx)) as R;
  }

  #handles(err: unknown): boolean {
    const decide = this.#shouldHandle;
    return decide === undefined || this.#telemetry.ask(decide, err, 'shouldHandle');
  }

  /**
   * Follows the fallback from code that did not build it: `'fallback'`
   * (`{ error }`) each time a handled failure is replaced. Listeners run
   * synchronously after `onFallback`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof FallbackEvents>(event: K, listener: EventListener<FallbackEvents[K]>): Subscription {
    this.#events ??= new EventHub<FallbackEvents>(OWNER, this.#telemetry);
    return this.#events.on(fallbackEvents, event, listener);
  }

  /**
   * Changes settings at run time (a new `fallback`, `shouldHandle`,
   * `onFallback`, logger…): `partial` is merged over the current config and
   * the whole result validated before anything changes. A call in flight
   * that already fell back keeps its fallback. `name` cannot change.
   *
   * @throws TypeError naming the option
   */
  update(partial: Partial<FallbackConfig<T>>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (fallback, partial) => fallback.#prepare(partial));
    // biome-ignore lint/complexity/noThisInStatic: as above
    registerStepRunner(this, (fallback, op, arg, options) => fallback.#call(op, arg, options));
  }

  /** The validating half of {@link Fallback.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<FallbackConfig<T>>): Commit {
    const config = mergeUpdate(OWNER, supersede(this.#config, partial, HANDLE_ALIASES), partial, FALLBACK_OPTIONS);
    const next = new Fallback<T>(config);
    return () => {
      this.#fallback = next.#fallback;
      this.#shouldHandle = next.#shouldHandle;
      this.#handlesResult = next.#handlesResult;
      this.#onFallback = next.#onFallback;
      this.#telemetry = next.#telemetry;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}

/** The options a `Fallback` knows. */
const FALLBACK_OPTIONS: readonly string[] = [
  'fallback',
  'handle',
  'shouldHandle',
  'onFallback',
  'name',
  'logger',
  'tracer',
  'metrics',
];
