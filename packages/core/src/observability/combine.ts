import { isThenable } from '../internal/hooks.js';
import { describeValue } from '../internal/validate.js';
import type {
  CallOutcome,
  CircuitStateName,
  Logger,
  MetricsRecorder,
  PatternName,
  SpanAttributeValue,
  SpanLike,
  SpanOptionsLike,
  SpanStatusLike,
  TracerLike,
} from './types.js';

/**
 * What a fan-out returns: `undefined` when every target took the call,
 * otherwise a promise that rejects with the first failure (a throw or a
 * rejected promise of any target), after every target was called. It never
 * throws: one broken target must not keep the others from being called, nor
 * the pattern's next `record*` call (a pattern logs the rejection).
 */
type FanOutResult = Promise<void> | undefined;

/** The failures and pending promises of one fan-out; allocated only when a target threw or returned a thenable. */
interface Trouble {
  error: { value: unknown } | undefined;
  pending: PromiseLike<unknown>[] | undefined;
}

function noteThrow(trouble: Trouble | undefined, err: unknown): Trouble {
  const t = trouble ?? { error: undefined, pending: undefined };
  t.error ??= { value: err };
  return t;
}

function noteResult(trouble: Trouble | undefined, value: unknown): Trouble | undefined {
  // A recorder or logger is typed to return nothing; only a thenable (an `async` method) needs watching.
  if (value === undefined || !isThenable(value)) return trouble;
  const t = trouble ?? { error: undefined, pending: undefined };
  if (t.pending === undefined) t.pending = [value];
  else t.pending.push(value);
  return t;
}

function finish(trouble: Trouble | undefined): FanOutResult {
  if (trouble === undefined) return undefined;
  const { error, pending } = trouble;
  if (pending === undefined) return Promise.reject(error?.value);
  // Promise.all subscribes to every pending promise, so none of their rejections goes unhandled.
  if (error === undefined) return Promise.all(pending).then(ignore);
  // A synchronous failure came first: report it, whatever the pending promises do.
  return Promise.all(pending).then(
    () => Promise.reject(error.value),
    () => Promise.reject(error.value),
  );
}

function ignore(): void {}

function uniqueTargets<T extends object>(
  owner: string,
  what: string,
  given: readonly (T | undefined)[],
  check: (value: unknown) => boolean,
  flatten: (value: T) => readonly T[] | undefined,
): T[] {
  const seen = new Set<T>();
  for (let i = 0; i < given.length; i++) {
    const value = given[i];
    if (value === undefined) continue;
    if (!check(value)) throw new TypeError(`${owner}: argument ${i} must be ${what}, got ${describeValue(value)}`);
    for (const target of flatten(value) ?? [value]) seen.add(target);
  }
  return [...seen];
}

const combinedRecorders = new WeakMap<object, readonly MetricsRecorder[]>();

function isRecorder(value: unknown): boolean {
  return value !== null && typeof value === 'object';
}

/**
 * One `MetricsRecorder` that hands every record to each of `recorders`, so a
 * pattern (which holds one `metrics` option) reports to several backends at
 * once: Prometheus and OpenTelemetry during a migration, or a pattern's own
 * recorder plus the ones a `PolicyRegistry` attaches.
 *
 * - The same recorder given twice (or inside a combination given here)
 *   receives each record once; `undefined` entries are skipped, so
 *   `combineRecorders(config.metrics, extra)` needs no check.
 * - Two recorders that write the same series (two `PrometheusRecorder`s on
 *   one prom-client registry and prefix, two `OTelRecorder`s on one meter)
 *   count as one: only the first given receives the records, or each would
 *   count twice. A recorder says which series it writes with an own
 *   property keyed `Symbol.for('@resilience/core.sink')` (any object;
 *   recorders with the same one are the same sink).
 * - With a single distinct recorder, that recorder itself is returned.
 * - Optional methods (`recordCallDuration`, `recordHedge`, …) reach the
 *   recorders that have them.
 * - A recorder that throws or returns a rejected promise does not stop the
 *   others: every recorder is called, and the combination returns a promise
 *   rejecting with the first failure (the pattern logs it, as it logs a
 *   throwing recorder). It never throws itself.
 *
 * Each record costs one loop over the recorders; nothing is allocated unless
 * a recorder fails or returns a promise.
 *
 * @param recorders - the recorders; `undefined` entries are skipped
 * @returns a recorder reporting to all of them
 * @throws TypeError naming the argument when one is neither `undefined` nor an object
 * @example
 * ```ts
 * const metrics = combineRecorders(new PrometheusRecorder(), new OTelRecorder(meter));
 * const breaker = new CircuitBreaker({ name: 'payments', metrics });
 * ```
 */
export function combineRecorders(...recorders: readonly (MetricsRecorder | undefined)[]): MetricsRecorder {
  const targets = uniqueTargets<MetricsRecorder>(
    'combineRecorders',
    'a MetricsRecorder object or undefined',
    recorders,
    isRecorder,
    (r) => combinedRecorders.get(r),
  );
  if (targets.length === 1) return targets[0] as MetricsRecorder;
  const distinct = distinctSinks(targets);
  if (distinct.length === 1) return distinct[0] as MetricsRecorder;
  const combined = new CombinedRecorder(distinct);
  combinedRecorders.set(combined, distinct);
  return combined;
}

/**
 * The key of a recorder's or logger's own property naming where it writes
 * (see {@link combineRecorders}, {@link combineLoggers}).
 */
const SINK = Symbol.for('@resilience/core.sink');

/** `targets` without those writing to the same sink as one before them (the first of each sink stays). */
function distinctSinks<T extends object>(targets: T[]): T[] {
  const sinks = new Set<unknown>();
  const kept: T[] = [];
  for (const target of targets) {
    let sink: unknown;
    try {
      sink = (target as unknown as Record<symbol, unknown>)[SINK];
    } catch {
      sink = undefined; // A recorder (a Proxy) that cannot answer is a sink of its own.
    }
    if (sink !== null && typeof sink === 'object') {
      if (sinks.has(sink)) continue;
      sinks.add(sink);
    }
    kept.push(target);
  }
  return kept;
}

/** The fan-out behind {@link combineRecorders}. */
class CombinedRecorder implements MetricsRecorder {
  readonly #targets: readonly MetricsRecorder[];

  constructor(targets: readonly MetricsRecorder[]) {
    this.#targets = Object.freeze(targets);
  }

  recordCircuitBreakerState(name: string, state: CircuitStateName): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordCircuitBreakerState(name, state));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordRetryAttempt(name: string, attempt: number, success: boolean): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordRetryAttempt(name, attempt, success));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordRateLimitHit(name: string): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordRateLimitHit(name));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordBulkheadUtilization(name: string, active: number, queued: number): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordBulkheadUtilization(name, active, queued));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordTimeout(name: string): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordTimeout(name));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordCircuitBreakerCall(name: string, outcome: CallOutcome): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordCircuitBreakerCall?.(name, outcome));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordCallDuration(name: string, pattern: PatternName, outcome: CallOutcome, seconds: number): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordCallDuration?.(name, pattern, outcome, seconds));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordHedge(name: string, attempt: number): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordHedge?.(name, attempt));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }

  recordAdaptiveBulkheadLimit(name: string, limit: number): FanOutResult {
    let trouble: Trouble | undefined;
    for (const r of this.#targets) {
      try {
        trouble = noteResult(trouble, r.recordAdaptiveBulkheadLimit?.(name, limit));
      } catch (err) {
        trouble = noteThrow(trouble, err);
      }
    }
    return finish(trouble);
  }
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const combinedLoggers = new WeakMap<object, readonly Logger[]>();

function isLogger(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const methods = value as Record<string, unknown>;
  return LOG_LEVELS.every((level) => typeof methods[level] === 'function');
}

/**
 * One `Logger` that writes every record to each of `loggers` (the same
 * logger given twice writes once, and so do two loggers that write to the
 * same place, such as two `fromPino()` adapters of one pino logger, marked
 * with the same object under `Symbol.for('@resilience/core.sink')`, as
 * {@link combineRecorders} says; `undefined` entries are skipped; a single
 * distinct logger is returned as it is). A logger that throws or returns a
 * rejected promise does not stop the others; the combination never throws
 * and returns a promise rejecting with the first failure.
 *
 * @param loggers - the loggers; `undefined` entries are skipped
 * @returns a logger writing to all of them
 * @throws TypeError naming the argument when one is not a logger (with `debug`, `info`, `warn`, `error`)
 * @example
 * ```ts
 * const logger = combineLoggers(console, fromPino(pino()));
 * ```
 */
export function combineLoggers(...loggers: readonly (Logger | undefined)[]): Logger {
  const targets = uniqueTargets<Logger>(
    'combineLoggers',
    'a Logger (with debug(), info(), warn() and error()) or undefined',
    loggers,
    isLogger,
    (l) => combinedLoggers.get(l),
  );
  if (targets.length === 1) return targets[0] as Logger;
  const distinct = distinctSinks(targets);
  if (distinct.length === 1) return distinct[0] as Logger;
  const frozen = Object.freeze(distinct);
  const writer =
    (level: keyof Logger) =>
    (msg: string, attrs?: Record<string, unknown>): FanOutResult => {
      let trouble: Trouble | undefined;
      for (const l of frozen) {
        try {
          trouble = noteResult(trouble, l[level](msg, attrs));
        } catch (err) {
          trouble = noteThrow(trouble, err);
        }
      }
      return finish(trouble);
    };
  const combined: Logger = {
    debug: writer('debug'),
    info: writer('info'),
    warn: writer('warn'),
    error: writer('error'),
  };
  combinedLoggers.set(combined, frozen);
  return combined;
}

const combinedTracers = new WeakMap<object, readonly TracerLike[]>();

function isTracer(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { startActiveSpan?: unknown }).startActiveSpan === 'function'
  );
}

/**
 * One tracer that starts a span in each of `tracers` for every span a
 * pattern starts: the first tracer's span is outermost and each further
 * tracer's span starts inside it, then the work runs inside the last one.
 * Attributes, status, exceptions and `end()` reach every span. The same
 * tracer given twice traces once; `undefined` entries are skipped; a single
 * distinct tracer is returned as it is.
 *
 * Give several tracers only when they export to different places: with
 * OpenTelemetry, tracers of the same provider would record each call twice,
 * one span nested in the other.
 *
 * A tracer that throws, or never calls back, is left out of that call (the
 * others still trace it, and the work runs once); the combination then
 * throws that error after the work has started, so the pattern logs it.
 *
 * @param tracers - the tracers; `undefined` entries are skipped
 * @returns a tracer tracing to all of them
 * @throws TypeError naming the argument when one is not a tracer (with `startActiveSpan()`)
 */
export function combineTracers(...tracers: readonly (TracerLike | undefined)[]): TracerLike {
  const targets = uniqueTargets<TracerLike>(
    'combineTracers',
    'an OpenTelemetry Tracer (with startActiveSpan()) or undefined',
    tracers,
    isTracer,
    (t) => combinedTracers.get(t),
  );
  if (targets.length === 1) return targets[0] as TracerLike;
  const combined = new CombinedTracer(Object.freeze(targets));
  combinedTracers.set(combined, targets);
  return combined;
}

/** The fan-out behind {@link combineTracers}. */
class CombinedTracer implements TracerLike {
  readonly #tracers: readonly TracerLike[];

  constructor(tracers: readonly TracerLike[]) {
    this.#tracers = tracers;
  }

  startActiveSpan<F extends (span: SpanLike) => unknown>(name: string, options: SpanOptionsLike, fn: F): ReturnType<F> {
    const tracers = this.#tracers;
    const spans: SpanLike[] = [];
    let failure: { value: unknown } | undefined;
    let ran = false;
    let result: unknown;
    const step = (i: number): unknown => {
      if (i === tracers.length) {
        if (!ran) {
          ran = true;
          result = fn((spans.length === 1 ? spans[0] : new CombinedSpan(spans.slice())) as SpanLike);
        }
        return result;
      }
      let entered = false;
      let inner: unknown;
      try {
        const returned = (tracers[i] as TracerLike).startActiveSpan(name, options, (span: SpanLike) => {
          // A tracer calling back twice gets the first answer again: the work runs once.
          if (entered) return inner;
          entered = true;
          spans.push(span);
          inner = step(i + 1);
          return inner;
        });
        if (entered) return returned;
      } catch (err) {
        if (entered) throw err;
        failure ??= { value: err };
      }
      // This tracer threw before calling back, or never called back: trace with the others.
      return step(i + 1);
    };
    const returned = step(0);
    if (failure !== undefined) throw failure.value;
    return returned as ReturnType<F>;
  }
}

/** The span of a {@link CombinedTracer}: every method reaches each span; the first failure is thrown after all. */
class CombinedSpan implements SpanLike {
  readonly #spans: readonly SpanLike[];

  constructor(spans: readonly SpanLike[]) {
    this.#spans = spans;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    let failure: { value: unknown } | undefined;
    for (const span of this.#spans) {
      try {
        span.setAttribute(key, value);
      } catch (err) {
        failure ??= { value: err };
      }
    }
    if (failure !== undefined) throw failure.value;
    return this;
  }

  setStatus(status: SpanStatusLike): this {
    let failure: { value: unknown } | undefined;
    for (const span of this.#spans) {
      try {
        span.setStatus(status);
      } catch (err) {
        failure ??= { value: err };
      }
    }
    if (failure !== undefined) throw failure.value;
    return this;
  }

  recordException(exception: Error | string): void {
    let failure: { value: unknown } | undefined;
    for (const span of this.#spans) {
      try {
        span.recordException(exception);
      } catch (err) {
        failure ??= { value: err };
      }
    }
    if (failure !== undefined) throw failure.value;
  }

  end(): void {
    let failure: { value: unknown } | undefined;
    // Innermost first, as nested spans end.
    for (let i = this.#spans.length - 1; i >= 0; i--) {
      try {
        (this.#spans[i] as SpanLike).end();
      } catch (err) {
        failure ??= { value: err };
      }
    }
    if (failure !== undefined) throw failure.value;
  }
}
