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
  }

  /** Logs `msg` with the pattern's name and kind plus `attrs`; nothing without a logger. */
  log(level: LogLevel, msg: string, attrs?: Record<string, unknown>): void {
    const logger = this.logger;
    if (logger === undefined) return;
    try {
      logger[level](msg, { ...this.#baseAttributes, ...attrs });
    } catch {
      // A broken logger must not break the pattern.
    }
  }

  /**
   * Runs `run` inside an active span named `spanName` (requires a tracer). A
   * failure sets the span's status to error and records the exception; the
   * span always ends; the result or error passes through untouched.
   */
  traced<T>(
    spanName: string,
    attributes: Record<string, SpanAttributeValue> | undefined,
    run: (span: SpanLike) => Promise<T>,
  ): Promise<T> {
    const tracer = this.tracer as TracerLike;
    const all = attributes === undefined ? { ...this.#baseAttributes } : { ...this.#baseAttributes, ...attributes };
    return tracer.startActiveSpan(spanName, { attributes: all }, async (span: SpanLike): Promise<T> => {
      try {
        return await run(span);
      } catch (err) {
        recordFailure(span, err);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Reports a circuit breaker's state; a recorder that throws is logged (as for every `record*` here). */
  recordCircuitBreakerState(state: CircuitStateName): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordCircuitBreakerState(this.name, state);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports one breaker call's outcome, and its duration in seconds when measured. */
  recordCircuitBreakerCall(outcome: CallOutcome, seconds: number | undefined): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordCircuitBreakerCall?.(this.name, outcome);
      if (seconds !== undefined) metrics.recordCallDuration?.(this.name, this.pattern, outcome, seconds);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a retry attempt's number and whether it ended the call with success. */
  recordRetryAttempt(attempt: number, success: boolean): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordRetryAttempt(this.name, attempt, success);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a refused rate-limit decision (never the key). */
  recordRateLimitHit(): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordRateLimitHit(this.name);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a bulkhead's load. */
  recordBulkheadUtilization(active: number, queued: number): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordBulkheadUtilization(this.name, active, queued);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  /** Reports a timeout that fired. */
  recordTimeout(): void {
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.recordTimeout(this.name);
    } catch (err) {
      this.#recorderThrew(err);
    }
  }

  #recorderThrew(err: unknown): void {
    this.log('error', 'metrics recorder threw', { err });
  }

  /**
   * Calls a user's callback; an exception it throws is logged, never thrown
   * into the pattern.
   */
  invokeHook<A extends unknown[]>(hook: ((...args: A) => unknown) | undefined, hookName: string, ...args: A): void {
    if (hook === undefined) return;
    try {
      hook(...args);
    } catch (err) {
      this.log('error', `${hookName} threw`, { err });
    }
  }
}

const unconfigured = new Map<PatternName, Telemetry>();

/** Marks `span` as failed with `err`. */
export function recordFailure(span: SpanLike, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SPAN_STATUS_ERROR, message });
  span.recordException(err instanceof Error ? err : message);
}
