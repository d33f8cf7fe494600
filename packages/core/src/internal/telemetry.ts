import type {
  CallOutcome,
  CircuitStateName,
  Logger,
  MetricsRecorder,
  ObservabilityOptions,
  PatternName,
  SpanAttributeValue,
  SpanLike,
  TracerLike,
} from '../observability/types.js';
import { askPredicate, catchRejection, type PredicateErrorHandler } from './hooks.js';

/** OpenTelemetry's `SpanStatusCode.ERROR`. */
const SPAN_STATUS_ERROR = 2;

/** Log levels of the core {@link Logger}. */
export type LogLevel = keyof Logger;

/**
 * The one place where patterns emit logs, spans and metrics. Built once per
 * pattern instance; with nothing configured every method is a cheap no-op,
 * and patterns test `tracer`/`metrics` before doing per-call work for them.
 */
export class Telemetry {
  /** The pattern's `name` (defaults to its kind). */
  readonly name: string;
  /** The pattern's kind. */
  readonly pattern: PatternName;
  /** The configured logger, if any. */
  readonly logger: Logger | undefined;
  /** The configured tracer, if any. */
  readonly tracer: TracerLike | undefined;
  /** The configured metrics recorder, if any. */
  readonly metrics: MetricsRecorder | undefined;
  readonly #baseAttributes: Readonly<Record<string, SpanAttributeValue>>;
  /** Logs a failed predicate (made once, so asking a predicate allocates nothing). */
  readonly #predicateFailed: PredicateErrorHandler;
  /** Logs a recorder's failure (thrown or a rejected promise). */
  readonly #recorderFailed: (err: unknown) => void;

  /**
   * The telemetry for a pattern instance. Instances configured with none of
   * `name`, `logger`, `tracer` or `metrics` share one object per pattern kind,
   * so a plain instance retains no telemetry state of its own.
   */
  static for(pattern: PatternName, options: ObservabilityOptions): Telemetry {
    if (
      options.name === undefined &&
      options.logger === undefined &&
      options.tracer === undefined &&
      options.metrics === undefined
    ) {
      let shared = unconfigured.get(pattern);
      if (shared === undefined) {
        shared = new Telemetry(pattern, {});
        unconfigured.set(pattern, shared);
      }
      return shared;
    }
    return new Telemetry(pattern, options);
  }

  /**
   * @param pattern - the pattern's kind
   * @param options - the pattern's observability options
   */
  constructor(pattern: PatternName, options: ObservabilityOptions) {
    this.pattern = pattern;
    this.name = options.name ?? pattern;
    this.logger = options.logger;
    this.tracer = options.tracer;
    this.metrics = options.metrics;
    this.#baseAttributes = Object.freeze({ 'resilience.name': this.name, 'resilience.pattern': pattern });
    this.#predicateFailed = (message, err) => this.log('error', message, err === undefined ? undefined : { err });
    this.#recorderFailed = (err) => this.log('error', 'metrics recorder threw', { err });
  }

  /** Logs `msg` with the pattern's name and kind plus `attrs`; nothing without a logger. */
  log(level: LogLevel, msg: string, attrs?: Record<string, unknown>): void {
    const logger = this.logger;
    if (logger === undefined) return;
    try {
      // A logger returning a rejected promise is as broken as one that throws: neither reaches the pattern.
      catchRejection(logger[level](msg, { ...this.#baseAttributes, ...attrs }), ignore);
    } catch {
      // A broken logger must not break the pattern.
    }
  }

  /**
   * Asks a predicate hook with the one rule every predicate follows: its
   * synchronous answer with JavaScript truthiness; a throw or a returned
   * thenable is logged and counts as `false`.
   */
  ask<A>(predicate: (arg: A) => unknown, arg: A, name: string): boolean {
    return askPredicate(predicate, arg, name, this.#predicateFailed);
  }

  /**
   * Runs `run` inside an active span named `spanName` (requires a tracer). A
   * failure sets the span's status to error and records the exception; the
   * span always ends; the result or error passes through untouched.
   *
   * The tracer is an observer and never changes the outcome: a tracer that
   * throws, or whose `startActiveSpan` never calls back, is logged and the
   * work runs without a span; a span whose methods throw is logged; a
   * callback invoked twice runs the work once. Never throws synchronously.
   */
  traced<T>(
    spanName: string,
    attributes: Record<string, SpanAttributeValue> | undefined,
    run: (span: SpanLike) => Promise<T>,
  ): Promise<T> {
    const tracer = this.tracer as TracerLike;
    const all = attributes === undefined ? { ...this.#baseAttributes } : { ...this.#baseAttributes, ...attributes };
    let work: Promise<T> | undefined;
    const body = (span: SpanLike): Promise<T> => {
      work ??= this.#inSpan(span, run);
      return work;
    };
    try {
      catchRejection(tracer.startActiveSpan(spanName, { attributes: all }, body), ignore);
    } catch (err) {
      this.log('error', 'tracer threw', { err });
    }
    if (work === undefined) {
      this.log('error', 'tracer did not run the work in a span', { span: spanName });
      work = this.#inSpan(noopSpan, run);
    }
    return work;
  }

  async #inSpan<T>(span: SpanLike, run: (span: SpanLike) => Promise<T>): Promise<T> {
    try {
      return await run(span);
    } catch (err) {
      try {
        recordFailure(span, err);
      } catch (spanErr) {
        this.log('error', 'span threw', { err: spanErr });
      }
      throw err;
    } finally {
      try {
        span.end();
      } catch (spanErr) {
        this.log('error', 'span threw', { err: spanErr });
      }
    }
  }

  /** Reports a circuit breaker's state; a recorder that throws is logged (as for every `record*` here). */
  recordCircuitBreakerState(state: CircuitStateName): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordCircuitBreakerState(this.name, state), this.#recorderFailed);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports one breaker call's outcome, and its duration in seconds when measured. */
  recordCircuitBreakerCall(outcome: CallOutcome, seconds: number | undefined): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordCircuitBreakerCall?.(this.name, outcome), this.#recorderFailed);
      if (seconds !== undefined) {
        catchRejection(metrics.recordCallDuration?.(this.name, this.pattern, outcome, seconds), this.#recorderFailed);
      }
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a retry attempt's number and whether it ended the call with success. */
  recordRetryAttempt(attempt: number, success: boolean): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordRetryAttempt(this.name, attempt, success), this.#recorderFailed);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a refused rate-limit decision (never the key). */
  recordRateLimitHit(): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordRateLimitHit(this.name), this.#recorderFailed);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a bulkhead's load. */
  recordBulkheadUtilization(active: number, queued: number): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordBulkheadUtilization(this.name, active, queued), this.#recorderFailed);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a timeout that fired. */
  recordTimeout(): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      catchRejection(metrics.recordTimeout(this.name), this.#recorderFailed);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  #recorderThrew(err: unknown): void {
    this.#recorderFailed(err);
  }

  /**
   * Calls a user's callback; an exception it throws, or the rejection of a
   * promise it returns (an `async` hook), is logged, never thrown into the
   * pattern nor left as an unhandled rejection.
   */
  invokeHook<A extends unknown[]>(hook: ((...args: A) => unknown) | undefined, hookName: string, ...args: A): void {
    if (hook === undefined) return;
    try {
      const returned = hook(...args);
      if (returned !== undefined) {
        catchRejection(returned, (err) => this.log('error', `${hookName} rejected`, { err }));
      }
    } catch (err) {
      this.log('error', `${hookName} threw`, { err });
    }
  }
}

const unconfigured = new Map<PatternName, Telemetry>();

function ignore(): void {}

/** Stands in for a span when the tracer gave none. */
const noopSpan: SpanLike = Object.freeze({
  setAttribute: () => undefined,
  setStatus: () => undefined,
  recordException: () => undefined,
  end: () => undefined,
});

/** Marks `span` as failed with `err`. */
export function recordFailure(span: SpanLike, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SPAN_STATUS_ERROR, message });
  span.recordException(err instanceof Error ? err : message);
}
