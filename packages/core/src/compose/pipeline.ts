import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import type { AdaptiveBulkheadConfig } from '../adaptive-bulkhead/types.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import type { AdaptiveThrottleConfig } from '../adaptive-throttle/types.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import type { BulkheadConfig } from '../bulkhead/types.js';
import { Chaos } from '../chaos/chaos.js';
import type { ChaosConfig } from '../chaos/types.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import type { CircuitBreakerConfig } from '../circuit-breaker/types.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { Fallback, type FallbackConfig } from '../fallback/fallback.js';
import { Hedging } from '../hedging/hedging.js';
import type { HedgingConfig } from '../hedging/types.js';
import { checkConfigKeys } from '../internal/config-keys.js';
import { enter, notAFunction } from '../internal/context.js';
import { type StepOp, stepRunner } from '../internal/step.js';
import { configObject, describeValue } from '../internal/validate.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterConfig, RateLimiterLike } from '../rate-limiter/types.js';
import { Retry } from '../retry/retry.js';
import type { RetryConfig } from '../retry/types.js';
import { Timeout } from '../timeout/timeout.js';
import type { TimeoutConfig } from '../timeout/types.js';
import { isRateLimiter, RateLimitStage } from './pipeline-stages.js';

/**
 * A step of a pipeline: any policy whose `execute` takes the outer step's
 * context as its options (every pattern of the core does).
 */
export interface PipelineStage<T = unknown> {
  /** Runs `fn` under the step, with the outer step's context as options. */
  execute<R extends T>(fn: Operation<R>, options?: ExecutionContext): Promise<R>;
}

/** Per-call options of {@link Pipeline.execute}: the caller's context plus the key of its rate-limit steps. */
export interface PipelineExecuteOptions extends ExecuteOptions {
  /**
   * The key every rate-limit step added without a fixed key spends for this
   * call (a user, a tenant), so that one pipeline can limit per user. Steps
   * with a fixed key spend theirs. A key the limiter does not take (`null`, an
   * object) rejects the call with the limiter's `TypeError`, as its own
   * `execute` does, rather than spending the shared bucket.
   * @default the limiters' shared default bucket
   */
  readonly key?: string | undefined;
}

/** Options of {@link PipelineBuilder.rateLimit}: whose budget the pipeline spends, and how much per call. */
export interface PipelineRateLimitOptions {
  /**
   * The key every call of this pipeline spends (for example the name of the
   * downstream service). Without one, each call spends the `key` passed to
   * `execute` (see {@link PipelineExecuteOptions}).
   * @default the call's key, else the limiter's shared default bucket
   */
  key?: string | undefined;
  /**
   * Tokens per call.
   * @default 1
   */
  tokens?: number | undefined;
}

/**
 * Refuses a step without an `execute` method, naming the method, the step's
 * place (`index`, for `compose()`) and the value.
 */
function checkStage(value: unknown, method: string, index?: number): void {
  if (typeof (value as { execute?: unknown } | null)?.execute !== 'function') {
    const place = index === undefined ? '' : ` as step ${index + 1}`;
    const got = value instanceof PipelineBuilder ? 'a PipelineBuilder (call its build() first)' : describeValue(value);
    throw new TypeError(`pipeline: ${method}() needs a policy with an execute method${place}, got ${got}`);
  }
}

/** Runs `fn` through the chained steps, handing `ctx` to the outermost and the call's `key` to rate-limit steps. */
type Runner<T> = <R extends T>(
  fn: Operation<R>,
  ctx: ExecutionContext | undefined,
  key: string | undefined,
) => Promise<R>;

/** A rate-limit step (which spends the call's key unless it has a fixed one), or `undefined`. */
function rateLimitStep<T>(stage: PipelineStage<T>): RateLimitStage<T> | undefined {
  if (stage instanceof RateLimitStage) return stage;
  return isRateLimiter(stage) ? new RateLimitStage<T>(stage, undefined, undefined) : undefined;
}

/**
 * Chains the steps once, at construction. A step that is one of the core's
 * patterns is handed the next step and the caller's `fn` as they are
 * (`internal/step.ts`), so a call allocates nothing to compose them; any
 * other step gets a closure per call that binds `fn`.
 */
function chainStages<T>(stages: readonly PipelineStage<T>[], keyed: boolean): Runner<T> {
  const last = stages[stages.length - 1] as PipelineStage<T>;
  if (!keyed) {
    // No step spends a key: the chain need not carry one.
    let plain: Runner<T> = (fn, ctx) => last.execute(fn, ctx);
    for (let i = stages.length - 2; i >= 0; i--) {
      const stage = stages[i] as PipelineStage<T>;
      const next = plain;
      const run = stepRunner(stage);
      plain =
        run === undefined
          ? (fn, ctx) => stage.execute((inner) => next(fn, inner, undefined), ctx)
          : (fn, ctx) => run(next as unknown as StepOp, fn, ctx) as Promise<never>;
    }
    return plain;
  }
  return chainKeyed(stages, last);
}

/** Whether a step spends the call's key: a rate-limit step, or a pipeline that has one (at any depth). */
function spendsKey(stage: PipelineStage<unknown>): boolean {
  return keyedPipelines.has(stage) || rateLimitStep(stage) !== undefined;
}

/** The pipelines whose chain carries the call's key (a step of theirs spends it). */
const keyedPipelines = new WeakSet<object>();

/**
 * Runs `fn` through `pipeline` as its `execute(fn, ctx)` does, handing `key` to its rate-limit steps; set once the
 * class is defined. A pipeline whose `execute` was replaced (a subclass's own, a spy) is called through it.
 */
let runNested: <R>(
  pipeline: Pipeline<never>,
  fn: Operation<R>,
  ctx: ExecutionContext | undefined,
  key: string | undefined,
) => Promise<R>;

/** A call through a pipeline with a rate-limit step: the caller's work and the key its limit steps spend. */
interface KeyedCall {
  readonly fn: Operation<unknown>;
  readonly key: string | undefined;
}

type KeyedRunner = (call: KeyedCall, ctx: ExecutionContext | undefined) => Promise<unknown>;

/**
 * {@link chainStages} when a step spends a key: the call carries `fn` and the key in one object made per call, so a
 * core pattern's step still needs no closure of its own; a rate-limit step (and any other step) gets one.
 */
function chainKeyed<T>(stages: readonly PipelineStage<T>[], last: PipelineStage<T>): Runner<T> {
  const lastLimit = rateLimitStep(last);
  const lastNested = keyedPipelines.has(last) ? (last as unknown as Pipeline<never>) : undefined;
  let run: KeyedRunner =
    lastLimit !== undefined
      ? (call, ctx) => lastLimit.run(call.fn as Operation<T>, ctx, call.key)
      : lastNested !== undefined
        ? (call, ctx) => runNested(lastNested, call.fn, ctx, call.key)
        : (call, ctx) => last.execute(call.fn as Operation<T>, ctx);
  for (let i = stages.length - 2; i >= 0; i--) {
    const stage = stages[i] as PipelineStage<T>;
    const limit = rateLimitStep(stage);
    const nested = keyedPipelines.has(stage) ? (stage as unknown as Pipeline<never>) : undefined;
    const next = run;
    const step = limit === undefined && nested === undefined ? stepRunner(stage) : undefined;
    run =
      limit !== undefined
        ? (call, ctx) => limit.run((inner) => next(call, inner) as Promise<T>, ctx, call.key)
        : nested !== undefined
          ? (call, ctx) => runNested(nested, (inner) => next(call, inner), ctx, call.key)
          : step !== undefined
            ? (call, ctx) => step(next as unknown as StepOp, call, ctx)
            : (call, ctx) => stage.execute((inner) => next(call, inner) as Promise<T>, ctx);
  }
  const keyed = run;
  return ((fn, ctx, key) => keyed({ fn: fn as Operation<unknown>, key }, ctx)) as Runner<T>;
}

/**
 * Patterns composed into one policy. The first step is the outermost: it
 * calls the second, which calls the third, and so on down to `fn`. Each step
 * hands its context (signal, attempt, deadline) to the next as options, so an
 * outer timeout's deadline and a retry's attempt number reach the work.
 *
 * Build one with {@link pipeline} or {@link compose}.
 */
export class Pipeline<T = unknown> implements Policy<T, PipelineExecuteOptions> {
  /** The steps, outermost first. */
  readonly stages: readonly PipelineStage<T>[];
  readonly #run: Runner<T> | undefined;

  /** @param stages - the steps, outermost first */
  constructor(stages: readonly PipelineStage<T>[]) {
    if (!Array.isArray(stages)) {
      throw new TypeError(`pipeline: new Pipeline() needs an array of policies, got ${describeValue(stages)}`);
    }
    for (let i = 0; i < stages.length; i++) checkStage(stages[i], 'compose', i);
    this.stages = Object.freeze([...stages]);
    // A step that is itself a pipeline with a rate-limit step spends the call's key too, wherever it sits.
    const keyed = this.stages.some(spendsKey);
    if (keyed) keyedPipelines.add(this);
    this.#run = stages.length === 0 ? undefined : chainStages(this.stages, keyed);
  }

  static {
    const ownExecute = Pipeline.prototype.execute;
    runNested = (pipeline, fn, ctx, key) => {
      // Read once, as a call of `execute` does.
      const execute = pipeline.execute;
      if (execute !== ownExecute) return execute.call(pipeline, fn as Operation<never>, ctx);
      const run = pipeline.#run as Runner<unknown>;
      return run(fn, ctx, key);
    };
  }

  /**
   * Runs `fn` through every step. Settles once, with `fn`'s value or error or
   * a step's rejection. An already aborted `options.signal` rejects at once
   * with its reason (with no steps, too) and starts nothing. `options.key` is
   * spent by every rate-limit step added without a fixed key. Never throws
   * synchronously: a non-function `fn` rejects with a `TypeError`.
   */
  execute<R extends T>(fn: Operation<R>, options?: PipelineExecuteOptions): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(notAFunction('Pipeline', fn));
    const run = this.#run;
    if (run === undefined) return runDirectly(fn, options ?? undefined);
    try {
      return run(fn, (options ?? undefined) as ExecutionContext | undefined, options?.key);
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

async function runDirectly<R>(fn: Operation<R>, options: ExecuteOptions | undefined): Promise<R> {
  return await fn(enter('Pipeline', fn, options));
}

/**
 * Builds a {@link Pipeline} step by step; each method adds a step inside the
 * previous ones, so the code reads from the outside in. Each pattern method
 * takes an instance (shared with other code, its state included) or a config
 * to build one from.
 *
 * The recommended order, outermost first:
 * 1. `fallback` (optional): replaces the final failure, after everything else gave up;
 * 2. an overall `timeout`: bounds the whole call, retries and their delays
 *    included; its deadline flows down so no retry delay starts that cannot end in time;
 * 3. `retry`: retries what the inner steps fail with, attempt by attempt;
 * 4. `circuitBreaker`: counts every attempt, and when open fails fast (a
 *    `CircuitOpenError` with `retryAfterMs`, which the retry passes to the
 *    caller as it is by default) without taking a bulkhead slot or a rate-limit token;
 * 5. a per-attempt `timeout`: bounds one attempt, so a hung call becomes a
 *    failure the breaker counts and the retry retries (a timeout only outside
 *    the breaker ends a hung call as a cancellation, which the breaker does not count);
 * 6. `bulkhead` (and a `rateLimit` that protects the dependency): innermost, so a
 *    slot or token is spent only by an attempt that really runs, not held through
 *    retry delays. A `rateLimit` that admits incoming requests goes first instead.
 *
 * @example
 * ```ts
 * const resilient = pipeline<User>()
 *   .timeout(10_000)                          // overall
 *   .retry({ maxAttempts: 3, initialDelay: 200 })
 *   .circuitBreaker({ timeout: 30_000 })
 *   .timeout(2_000)                           // per attempt
 *   .bulkhead({ maxConcurrent: 10, maxQueue: 50 })
 *   .build();
 * const user = await resilient.execute(({ signal }) => fetchUser(id, { signal }));
 * ```
 */
export class PipelineBuilder<T = unknown> {
  readonly #stages: PipelineStage<T>[] = [];

  /** Adds any policy (a pattern, another pipeline, your own object with `execute`). */
  use(policy: PipelineStage<T>): this {
    checkStage(policy, 'use');
    this.#stages.push(policy);
    return this;
  }

  /** Adds a {@link Timeout}: an instance, a config, or a limit in ms (its `defaultTimeout`). */
  timeout(timeout: Timeout<T> | TimeoutConfig | number): this {
    if (typeof timeout === 'number') return this.use(new Timeout<T>({ defaultTimeout: timeout }));
    return this.use(timeout instanceof Timeout ? timeout : new Timeout<T>(timeout));
  }

  /** Adds a {@link Retry}: an instance or a config. */
  retry(retry: Retry<T> | RetryConfig<T>): this {
    return this.use(retry instanceof Retry ? retry : new Retry<T>(retry));
  }

  /** Adds a {@link CircuitBreaker}: an instance or a config. */
  circuitBreaker(breaker: CircuitBreaker<T> | CircuitBreakerConfig<T>): this {
    return this.use(breaker instanceof CircuitBreaker ? breaker : new CircuitBreaker<T>(breaker));
  }

  /** Adds a {@link Bulkhead}: an instance or a config. */
  bulkhead(bulkhead: Bulkhead<T> | BulkheadConfig): this {
    return this.use(bulkhead instanceof Bulkhead ? bulkhead : new Bulkhead<T>(bulkhead));
  }

  /**
   * Adds a rate limit: a {@link RateLimiter} (or any {@link RateLimiterLike},
   * such as a distributed one) or a config. Every call spends `options.tokens`
   * of `options.key` (without a fixed key: the `key` passed to the pipeline's
   * `execute`, so one pipeline can limit per user); without tokens it fails
   * with a `RateLimitExceededError`, or waits when the limiter has a `maxWait`.
   * The options are checked here: an unknown one, a `key` that is not a
   * string or `tokens` that are not a finite number > 0 throw at once.
   */
  rateLimit(limiter: RateLimiterLike | RateLimiterConfig, options?: PipelineRateLimitOptions): this {
    const instance =
      typeof (limiter as RateLimiterLike | null)?.execute === 'function' ? (limiter as RateLimiterLike) : null;
    const resolved = instance ?? new RateLimiter(limiter as RateLimiterConfig);
    const opts = rateLimitOptions(options);
    if (opts.key === undefined && opts.tokens === undefined) return this.use(resolved);
    return this.use(new RateLimitStage<T>(resolved, opts.key, opts.tokens));
  }

  /** Adds a {@link Fallback}: an instance or a config. */
  fallback(fallback: Fallback<T> | FallbackConfig<T>): this {
    return this.use(fallback instanceof Fallback ? fallback : new Fallback<T>(fallback));
  }

  /** Adds a {@link Hedging} policy: an instance or a config. Place it inside a retry and an overall timeout. */
  hedging(hedging: Hedging<T> | HedgingConfig<T>): this {
    return this.use(hedging instanceof Hedging ? hedging : new Hedging<T>(hedging));
  }

  /**
   * Adds an {@link AdaptiveThrottle} (client-side throttling, an adaptive
   * circuit breaker): an instance or a config. Place it where a circuit breaker would go.
   */
  adaptiveThrottle(throttle: AdaptiveThrottle<T> | AdaptiveThrottleConfig): this {
    return this.use(throttle instanceof AdaptiveThrottle ? throttle : new AdaptiveThrottle<T>(throttle));
  }

  /** Adds an {@link AdaptiveBulkhead}: an instance or a config. Place it where a bulkhead would go (innermost). */
  adaptiveBulkhead(bulkhead: AdaptiveBulkhead<T> | AdaptiveBulkheadConfig): this {
    return this.use(bulkhead instanceof AdaptiveBulkhead ? bulkhead : new AdaptiveBulkhead<T>(bulkhead));
  }

  /**
   * Adds a {@link Chaos} policy (fault injection, off unless enabled): an
   * instance or a config. Place it innermost, where the dependency would be.
   */
  chaos(chaos: Chaos<T> | ChaosConfig<T>): this {
    return this.use(chaos instanceof Chaos ? chaos : new Chaos<T>(chaos));
  }

  /** The pipeline of the steps added so far (later changes to the builder do not affect it). */
  build(): Pipeline<T> {
    return new Pipeline<T>(this.#stages);
  }
}

const RATE_LIMIT_OWNER = 'pipeline: rateLimit()';
const rateLimitKeys: ReadonlySet<string> = new Set(['key', 'tokens']);

/** Checks the options of a pipeline's rate-limit step when it is added (not on its first call). */
function rateLimitOptions(options: PipelineRateLimitOptions | undefined): PipelineRateLimitOptions {
  const opts = configObject(RATE_LIMIT_OWNER, options, 'options') as PipelineRateLimitOptions;
  checkConfigKeys(RATE_LIMIT_OWNER, opts, rateLimitKeys, { cost: 'use "tokens"', points: 'use "tokens"' });
  if (opts.key !== undefined && typeof opts.key !== 'string') {
    throw new TypeError(`${RATE_LIMIT_OWNER}: key must be a string, got ${describeValue(opts.key)}`);
  }
  const tokens: unknown = opts.tokens;
  if (tokens !== undefined && !(typeof tokens === 'number' && tokens > 0 && Number.isFinite(tokens))) {
    throw new RangeError(`${RATE_LIMIT_OWNER}: tokens must be a finite number > 0, got ${describeValue(tokens)}`);
  }
  return opts;
}

/**
 * Starts a {@link PipelineBuilder}: `pipeline().timeout(…).retry(…).build()`.
 * See the builder for the recommended order of the patterns.
 */
export function pipeline<T = unknown>(): PipelineBuilder<T> {
  return new PipelineBuilder<T>();
}

/**
 * Composes policies into one {@link Pipeline}; the first is the outermost, so
 * `compose(a, b, c).execute(fn)` is `a.execute((ctx) => b.execute((ctx2) => c.execute(fn, ctx2), ctx))`.
 *
 * @example
 * ```ts
 * const policy = compose(overallTimeout, retry, breaker, attemptTimeout, bulkhead);
 * await policy.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function compose<T = unknown>(...policies: readonly PipelineStage<T>[]): Pipeline<T> {
  return new Pipeline<T>(policies);
}
