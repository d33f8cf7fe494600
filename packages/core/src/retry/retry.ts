import { classifierOption, refuseAliases, supersede } from '../classify/compile.js';
import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { errorIs, findInChain } from '../errors/error-is.js';
import { MaxAttemptsReachedError } from '../errors/errors.js';
import { isCircuitOpenError } from '../errors/guards.js';
import { isRetryable as isMarkedRetryable } from '../errors/retryable.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { enter, LazyContext, neverAbortedSignal, rootContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { catchRejection, isThenable, predicateOption } from '../internal/hooks.js';
import { asOperation, invoke, registerStepRunner, type StepOp } from '../internal/step.js';
import { Telemetry } from '../internal/telemetry.js';
import { MAX_TIMER_MS } from '../internal/timers.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import {
  clockOption,
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
} from '../internal/validate.js';
import { type BackoffSettings, backoffPolicies, clampDelay, computeDelay, jitterStrategy } from './backoff.js';
import { type RetryEvents, retryEvents } from './events.js';
import { RetryBudget } from './retry-budget.js';
import { sleep } from './sleep.js';
import type { ErrorMatcher, RetryConfig } from './types.js';

const OWNER = 'Retry';

const knownConfigKeys = knownKeys([
  'maxAttempts',
  'initialDelay',
  'maxDelay',
  'multiplier',
  'backoff',
  'jitter',
  'handle',
  'retryableErrors',
  'nonRetryableErrors',
  'isRetryable',
  'retryOnResult',
  'delay',
  'maxElapsed',
  'budget',
  'onRetry',
  'clock',
  'random',
]);

/** Options of peer libraries (p-retry, async-retry, cockatiel, resilience4j), and what to use here instead. */
const peerHints: PeerHints = {
  retries: `p-retry's retries is "maxAttempts" here, which counts the first call too (retries + 1)`,
  minTimeout: `p-retry's minTimeout is "initialDelay" here`,
  maxTimeout: `p-retry's maxTimeout is "maxDelay" here`,
  factor: `p-retry's factor is "multiplier" here`,
  randomize: `p-retry's randomize is "jitter" here`,
  onFailedAttempt: `p-retry's onFailedAttempt is "onRetry" here`,
  shouldRetry: `p-retry's shouldRetry is "handle" here: handle: handleWhen((err) => ...) (or its alias "isRetryable")`,
  maxRetryTime: `p-retry's maxRetryTime is "maxElapsed" here`,
  signal: `pass the signal to execute(fn, { signal }) instead`,
  exponent: `cockatiel's exponent is "multiplier" here`,
  maxDelayMs: `use "maxDelay"`,
  waitDuration: `resilience4j's waitDuration is "initialDelay" here`,
  retryExceptions: `resilience4j's retryExceptions is "handle" here: handle: handle(A, B) (or its alias "retryableErrors")`,
  ignoreExceptions: `resilience4j's ignoreExceptions is the "except" of "handle" here: handle: handleAll().except(C) (or its alias "nonRetryableErrors")`,
};
/** The older spellings of parts of `handle`. */
const HANDLE_ALIASES = ['retryableErrors', 'nonRetryableErrors', 'isRetryable', 'retryOnResult'] as const;

function hasRetryAfter(candidate: unknown): candidate is { retryAfterMs: number } {
  if (typeof candidate !== 'object' || candidate === null) return false;
  const hint = (candidate as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof hint === 'number' && !Number.isNaN(hint);
}

function matchers(field: string, value: unknown): readonly ErrorMatcher[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw new TypeError(`${OWNER}: ${field} must be an array of errors or error classes, got ${describeValue(value)}`);
  }
  for (const item of value) {
    if (item === null || (typeof item !== 'object' && typeof item !== 'function')) {
      throw new TypeError(`${OWNER}: ${field} must hold error objects or classes, got ${describeValue(item)}`);
    }
  }
  return value.length === 0 ? undefined : [...value];
}

function jitterOption(value: unknown): BackoffSettings['jitter'] {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean' || value === 'full' || value === 'equal' || typeof value === 'function') {
    return jitterStrategy(value as Parameters<typeof jitterStrategy>[0]);
  }
  throw new RangeError(
    `${OWNER}: jitter must be a boolean, "full", "equal" or a function, got ${describeValue(value)}`,
  );
}

/** The context of the first attempt: the caller's own when it already is one for attempt 1. */
function firstContext(options: ExecuteOptions | null | undefined): ExecutionContext {
  if (options === undefined || options === null) return rootContext;
  // A Timeout's context is passed on as it is, so its signal stays lazy.
  if (options instanceof LazyContext && options.attempt === 1) return options;
  const signal = options.signal;
  if (signal !== undefined && options.attempt === 1) return options as ExecutionContext;
  return { signal: signal ?? neverAbortedSignal, attempt: 1, deadline: options.deadline };
}

/**
 * Runs the work again when it fails, waiting between attempts with a backoff.
 *
 * - Retries what `handle` handles (a classifier, the same value a breaker
 *   takes: `handle(NetworkError).orResult((res) => res.status === 503)`), and
 *   errors marked with `retryable()`; with no classifier, every error except a
 *   `CircuitOpenError`. The older options `retryableErrors`,
 *   `nonRetryableErrors`, `isRetryable` and `retryOnResult` are aliases of
 *   parts of `handle` (non-retryable wins).
 * - Waits the backoff (exponential, linear, constant or decorrelated jitter,
 *   capped by `maxDelay`), or a server's hint: `retryAfterMs` in the error's
 *   `cause` chain, or the `delay` option.
 * - Stops at `maxAttempts`, at `maxElapsed`, before the caller's deadline, when
 *   a shared `RetryBudget` is spent, or when the caller's signal aborts.
 *
 * How a call ends:
 * - the work's value, as soon as an attempt succeeds (or, for a result-based
 *   retry, the last value once retrying stops);
 * - a non-retryable error, rethrown as it is;
 * - the signal's reason when the caller's signal aborts (a delay ends at once);
 * - otherwise a `MaxAttemptsReachedError` with the last error as `cause` and
 *   `attempts`: when `maxAttempts` ran out, and also when `maxElapsed`, the
 *   deadline or the budget leave no room for another attempt (its message
 *   says which).
 *
 * Each attempt gets `{ signal, attempt, deadline }`: `attempt` counts from 1,
 * the caller's signal and deadline are passed on.
 *
 * @example
 * ```ts
 * const retry = new Retry({ maxAttempts: 4, initialDelay: 200, jitter: 'full', handle: handle(TimeoutError, NetworkError) });
 * const user = await retry.execute(({ signal }) => fetchUser(id, { signal }));
 * ```
 */
export class Retry<T = unknown> implements Policy<T> {
  /** How many attempts at most, the first one included. */
  readonly maxAttempts: number;
  #settings: BackoffSettings;
  #maxElapsed: number;
  #clock: Clock;
  #retryable: readonly ErrorMatcher[] | undefined;
  #nonRetryable: readonly ErrorMatcher[] | undefined;
  #isRetryable: ((err: unknown) => boolean) | undefined;
  #classified: boolean;
  #retryOnResult: ((value: T) => boolean) | undefined;
  #delay: ((errOrResult: unknown, attempt: number) => number | undefined) | undefined;
  #budget: RetryBudget | undefined;
  #onRetry: ((attempt: number, err: unknown, delayMs: number) => void) | undefined;
  #telemetry: Telemetry;
  /** True when the first attempt needs nothing but `await fn(ctx)`. */
  #plain: boolean;
  /** The config as built and updated, for `update()` to merge over. */
  #config: RetryConfig<T>;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<RetryEvents> | undefined = undefined;

  /** @param config - limits, backoff, classifiers, hooks and observability */
  constructor(config?: RetryConfig<T>) {
    const c = configObject(OWNER, config);
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.maxAttempts = numberOption(OWNER, 'maxAttempts', c.maxAttempts, 3, {
      min: 1,
      integer: true,
      allowInfinity: true,
    });
    const random = functionOption(OWNER, 'random', c.random) ?? Math.random;
    this.#settings = Object.freeze({
      backoff: oneOfOption(OWNER, 'backoff', c.backoff, backoffPolicies, 'exponential'),
      initialDelay: numberOption(OWNER, 'initialDelay', c.initialDelay, 100, { min: 0 }),
      maxDelay: numberOption(OWNER, 'maxDelay', c.maxDelay, 30_000, { min: 0, max: MAX_TIMER_MS }),
      multiplier: numberOption(OWNER, 'multiplier', c.multiplier, 2, { min: 1 }),
      jitter: jitterOption(c.jitter),
      random,
    });
    this.#maxElapsed = numberOption(OWNER, 'maxElapsed', c.maxElapsed, Number.POSITIVE_INFINITY, {
      min: 0,
      minExclusive: true,
      allowInfinity: true,
    });
    this.#clock = clockOption(OWNER, c.clock);
    const handle = classifierOption(OWNER, c.handle);
    if (handle === undefined) {
      this.#retryable = matchers('retryableErrors', c.retryableErrors);
      this.#nonRetryable = matchers('nonRetryableErrors', c.nonRetryableErrors);
      this.#isRetryable = predicateOption(OWNER, 'isRetryable', c.isRetryable);
      this.#classified = c.retryableErrors !== undefined || this.#isRetryable !== undefined;
      this.#retryOnResult = predicateOption(OWNER, 'retryOnResult', c.retryOnResult);
    } else {
      // The classifier in the aliases' terms: its classes and objects, its predicates, its `except`, its results.
      refuseAliases(OWNER, c, HANDLE_ALIASES);
      const { errors, except } = handle.parts;
      this.#retryable = errors.length === 0 ? undefined : errors;
      this.#nonRetryable = except.length === 0 ? undefined : except;
      this.#isRetryable = handle.when;
      this.#classified = true;
      this.#retryOnResult = handle.results as ((value: T) => boolean) | undefined;
    }
    this.#delay = functionOption(OWNER, 'delay', c.delay);
    if (c.budget !== undefined && !(c.budget instanceof RetryBudget)) {
      throw new TypeError(`${OWNER}: budget must be a RetryBudget, got ${describeValue(c.budget)}`);
    }
    this.#budget = c.budget;
    this.#onRetry = functionOption(OWNER, 'onRetry', c.onRetry);
    this.#telemetry = Telemetry.for('retry', c);
    this.#plain =
      this.#telemetry.tracer === undefined &&
      this.#telemetry.metrics === undefined &&
      this.#retryOnResult === undefined &&
      this.#budget === undefined;
    this.#config = c;
  }

  /**
   * Runs `fn`, retrying as configured. See the class description for how the
   * call ends.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    return this.#call(undefined, fn, options);
  }

  /** {@link Retry.execute} of `invoke(op, arg, ctx)`: `fn(ctx)` itself, or a pipeline's step. */
  #call<R extends T>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    let ctx: ExecutionContext;
    let start: number;
    try {
      ctx = enter(OWNER, op ?? arg, options, firstContext);
      if (!this.#plain) this.#budget?.recordCall();
      start = this.#maxElapsed === Number.POSITIVE_INFINITY ? 0 : this.#clock.now();
    } catch (err) {
      return Promise.reject(err);
    }
    // Every attempt, and whatever a plain retry's first attempt did other than succeed, runs in `#run`.
    if (!this.#plain) return this.#run(asOperation<R>(op, arg), ctx, start, 0, false, undefined);
    let result: R | PromiseLike<R>;
    try {
      result = invoke<R>(op, arg, ctx);
    } catch (err) {
      return this.#run(asOperation<R>(op, arg), ctx, start, 1, true, err);
    }
    return this.#afterFirst(result, op, arg, ctx, start);
  }

  /**
   * A plain retry's first attempt: its value passes through a `then` (no async frame: issue 16's
   * "one extra async layer" is the most a pattern may cost), a failure goes on to `#run`. Kept out of
   * `execute`, whose every call would otherwise allocate this closure's context.
   */
  #afterFirst<R extends T>(
    result: R | PromiseLike<R>,
    op: StepOp | undefined,
    arg: unknown,
    ctx: ExecutionContext,
    start: number,
  ): Promise<R> {
    try {
      return Promise.resolve(result).then(undefined, (err: unknown) =>
        this.#run(asOperation<R>(op, arg), ctx, start, 1, true, err),
      );
    } catch (err) {
      // A promise whose `constructor` or `then` getter throws: the first attempt failed with that error.
      return this.#run(asOperation<R>(op, arg), ctx, start, 1, true, err);
    }
  }

  /**
   * The retry loop. `attempt` attempts already ran; the last one `failed`
   * with, or returned, `outcome`.
   */
  async #run<R extends T>(
    fn: Operation<R>,
    first: ExecutionContext,
    start: number,
    attempt: number,
    failed: boolean,
    outcome: unknown,
  ): Promise<R> {
    const { signal, deadline } = first;
    const telemetry = this.#telemetry;
    let ctx = first;
    let previousDelay = 0;
    for (;;) {
      if (attempt > 0) {
        // Decide on the last attempt's outcome.
        let again: boolean;
        if (!failed) again = this.#retryResult(outcome as R);
        else if (signal.aborted) again = false;
        else again = this.#retryError(outcome);
        telemetry.recordRetryAttempt(attempt, !again && !failed);
        if (!again) {
          if (failed && signal.aborted) throw signal.reason;
          if (failed) {
            this.#events?.emit('giveUp', { attempts: attempt, error: outcome });
            throw outcome;
          }
          return outcome as R;
        }
        if (signal.aborted) throw signal.reason;
        const delay = this.#delayFor(outcome, failed, attempt, previousDelay);
        const stop = this.#limit(attempt, delay, start, deadline);
        if (stop !== undefined) {
          if (!failed) return outcome as R;
          const error = new MaxAttemptsReachedError({
            attempts: attempt,
            cause: outcome,
            message: `Gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}${stop}`,
          });
          this.#events?.emit('giveUp', { attempts: attempt, error });
          throw error;
        }
        telemetry.invokeHook(this.#onRetry, 'onRetry', attempt, outcome, delay);
        this.#events?.emit(
          'retry',
          failed ? { attempt, error: outcome, delayMs: delay } : { attempt, result: outcome, delayMs: delay },
        );
        telemetry.log('debug', 'retrying', { attempt, delayMs: delay });
        // Even a zero delay waits on a timer: a macrotask turn, so no retry loop starves the event loop.
        await sleep(this.#clock, delay, signal);
        previousDelay = delay;
        ctx = { signal, attempt: attempt + 1, deadline };
      }
      attempt++;
      try {
        outcome = await (telemetry.tracer === undefined ? fn(ctx) : this.#traced(fn, ctx));
        failed = false;
      } catch (err) {
        outcome = err;
        failed = true;
      }
    }
  }

  #traced<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    return this.#telemetry.traced(
      'resilience.retry.attempt',
      { 'resilience.retry.attempt': ctx.attempt },
      async () => await fn(ctx),
    );
  }

  /**
   * Why no further attempt may start after `attempt` attempts and a `delay`
   * (as a message suffix), or `undefined` when one may. Takes a retry from the
   * budget when everything else allows it.
   */
  #limit(attempt: number, delay: number, start: number, deadline: number | undefined): string | undefined {
    if (attempt >= this.maxAttempts) return '';
    if (deadline !== undefined || this.#maxElapsed !== Number.POSITIVE_INFINITY) {
      const resumeAt = this.#clock.now() + delay;
      if (deadline !== undefined && resumeAt >= deadline) {
        return `: a ${delay} ms delay would not end before the deadline`;
      }
      if (resumeAt >= start + this.#maxElapsed) {
        return `: a ${delay} ms delay would pass maxElapsed (${this.#maxElapsed} ms)`;
      }
    }
    if (this.#budget !== undefined && !this.#budget.tryRetry()) return ': the retry budget is spent';
    return undefined;
  }

  /**
   * Whether a thrown value is retried (the signal has not aborted). With no
   * classifier, everything is, except a `CircuitOpenError`: retrying into an
   * open breaker defeats it, so it reaches the caller as it is unless a
   * classifier asks for it.
   */
  #retryError(err: unknown): boolean {
    const nonRetryable = this.#nonRetryable;
    if (nonRetryable !== undefined) {
      for (const matcher of nonRetryable) if (errorIs(err, matcher)) return false;
    }
    if (isMarkedRetryable(err)) return true;
    if (!this.#classified) return findInChain(err, isCircuitOpenError) === undefined;
    const retryable = this.#retryable;
    if (retryable !== undefined) {
      for (const matcher of retryable) if (errorIs(err, matcher)) return true;
    }
    const decide = this.#isRetryable;
    return decide !== undefined && this.#telemetry.ask(decide, err, 'isRetryable');
  }

  /** Whether a returned value is retried. */
  #retryResult(value: T): boolean {
    const decide = this.#retryOnResult;
    return decide !== undefined && this.#telemetry.ask(decide, value, 'retryOnResult');
  }

  /** The wait before the next attempt: a server's hint when there is one, else the backoff. */
  #delayFor(outcome: unknown, failed: boolean, attempt: number, previous: number): number {
    const settings = this.#settings;
    let hint: number | undefined;
    const delayFn = this.#delay;
    if (delayFn !== undefined) {
      try {
        const answer: unknown = delayFn(outcome, attempt);
        if (isThenable(answer)) {
          // A delay is needed now: a promise is logged (its rejection caught) and the backoff used.
          catchRejection(answer, (err) => this.#telemetry.log('error', 'delay rejected', { err }));
          this.#telemetry.log('error', 'delay returned a promise: it must return a number, the backoff is used');
        } else {
          hint = answer as number | undefined;
        }
      } catch (hookErr) {
        this.#telemetry.log('error', 'delay threw', { err: hookErr });
      }
    } else if (failed) {
      hint = findInChain(outcome, hasRetryAfter)?.retryAfterMs;
    }
    if (typeof hint === 'number' && !Number.isNaN(hint)) return clampDelay(hint, settings.maxDelay);
    try {
      return computeDelay(settings, attempt, previous);
    } catch (hookErr) {
      // A custom `jitter` or `random` threw or gave no number: log it and wait the backoff without them.
      this.#telemetry.log('error', 'jitter failed', { err: hookErr });
      return computeDelay({ ...settings, jitter: undefined, random: Math.random }, attempt, previous);
    }
  }

  /**
   * Follows the retry from code that did not build it: `'retry'`
   * (`{ attempt, error | result, delayMs }`, before each wait) and `'giveUp'`
   * (`{ attempts, error }`, when a call ends in failure). Listeners run
   * synchronously after `onRetry`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof RetryEvents>(event: K, listener: EventListener<RetryEvents[K]>): Subscription {
    this.#events ??= new EventHub<RetryEvents>(OWNER, this.#telemetry);
    return this.#events.on(retryEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated before anything changes (a bad value
   * throws, naming it, and the old settings stay). An attempt that runs is
   * never interrupted; a call between attempts makes its next decisions
   * (whether to retry, how long to wait, `maxAttempts`) with the new
   * settings. `name` and `clock` cannot change. An option given as
   * `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<RetryConfig<T>>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (retry, partial) => retry.#prepare(partial));
    // biome-ignore lint/complexity/noThisInStatic: as above
    registerStepRunner(this, (retry, op, arg, options) => retry.#call(op, arg, options));
  }

  /** The validating half of {@link Retry.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<RetryConfig<T>>): Commit {
    const config = mergeUpdate(OWNER, supersede(this.#config, partial, HANDLE_ALIASES), partial, knownOptions.retry);
    const next = new Retry<T>(config);
    return () => {
      (this as { maxAttempts: number }).maxAttempts = next.maxAttempts;
      this.#settings = next.#settings;
      this.#maxElapsed = next.#maxElapsed;
      this.#retryable = next.#retryable;
      this.#nonRetryable = next.#nonRetryable;
      this.#isRetryable = next.#isRetryable;
      this.#classified = next.#classified;
      this.#retryOnResult = next.#retryOnResult;
      this.#delay = next.#delay;
      this.#budget = next.#budget;
      this.#onRetry = next.#onRetry;
      this.#telemetry = next.#telemetry;
      this.#plain = next.#plain;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}
