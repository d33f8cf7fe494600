/**
 * A structured logger. `console` fits, and so does the `fromPino()` adapter of
 * `@resilience/logging`.
 */
export interface Logger {
  /**
   * Fine-grained detail (each rejected call, each retry). A logger method that
   * throws or returns a rejected promise is ignored.
   */
  debug(msg: string, attrs?: Record<string, unknown>): void;
  /** Notable events (a circuit closing). */
  info(msg: string, attrs?: Record<string, unknown>): void;
  /** Degradation (a circuit opening, a timeout). */
  warn(msg: string, attrs?: Record<string, unknown>): void;
  /** Failures of the pattern itself (a throwing callback). */
  error(msg: string, attrs?: Record<string, unknown>): void;
}

/** A circuit breaker's state as reported to metrics. */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/**
 * How a call through a pattern ended, as reported to metrics. `cancelled`: the
 * caller's signal aborted while the call ran (neither success nor failure).
 */
export type CallOutcome = 'success' | 'failure' | 'ignored' | 'rejected' | 'cancelled';

/**
 * Receives metrics from every pattern. Implemented by `@resilience/metrics-prometheus`
 * and `@resilience/otel`; the optional methods add durations and per-call outcomes.
 */
export interface MetricsRecorder {
  /** A circuit breaker named `name` is now in `state`. */
  recordCircuitBreakerState(name: string, state: CircuitStateName): void;
  /** A retry attempt numbered `attempt` (from 1) ended with or without success. */
  recordRetryAttempt(name: string, attempt: number, success: boolean): void;
  /** A rate limiter refused a call (the key is never passed on). */
  recordRateLimitHit(name: string): void;
  /** A bulkhead's load changed. */
  recordBulkheadUtilization(name: string, active: number, queued: number): void;
  /** A timeout fired. */
  recordTimeout(name: string): void;
  /** A call through a circuit breaker ended with `outcome`. */
  recordCircuitBreakerCall?(name: string, outcome: CallOutcome): void;
  /** A call through a pattern took `seconds`. */
  recordCallDuration?(name: string, pattern: PatternName, outcome: CallOutcome, seconds: number): void;
  /** A `Hedging` policy named `name` started hedge number `attempt` (2 for the first hedge): extra load. */
  recordHedge?(name: string, attempt: number): void;
  /** An `AdaptiveBulkhead` named `name` moved its concurrency limit to `limit` (a gauge). */
  recordAdaptiveBulkheadLimit?(name: string, limit: number): void;
}

/** The patterns, as named in span names, logs and metric labels. */
export type PatternName =
  | 'circuit_breaker'
  | 'retry'
  | 'timeout'
  | 'bulkhead'
  | 'rate_limit'
  | 'fallback'
  | 'pipeline'
  | 'hedging'
  | 'adaptive_bulkhead'
  | 'adaptive_throttle'
  | 'chaos';

/** Span status as set by the patterns: OpenTelemetry's `SpanStatusCode` values (0 unset, 1 ok, 2 error). */
export interface SpanStatusLike {
  /** 0 unset, 1 ok, 2 error. */
  code: number;
  /** A description, for errors. */
  message?: string;
}

/** Attribute values a span accepts. */
export type SpanAttributeValue = string | number | boolean;

/**
 * The part of an OpenTelemetry `Span` the patterns use, typed structurally so
 * the core imports nothing from OpenTelemetry.
 */
export interface SpanLike {
  /** Sets one attribute. */
  setAttribute(key: string, value: SpanAttributeValue): unknown;
  /** Sets the span's status. */
  setStatus(status: SpanStatusLike): unknown;
  /** Records an exception event. */
  recordException(exception: Error | string): void;
  /** Ends the span. */
  end(): void;
}

/** Options passed when a span starts. */
export interface SpanOptionsLike {
  /** Attributes set at the start. */
  attributes?: Record<string, SpanAttributeValue>;
}

/**
 * The part of an OpenTelemetry `Tracer` the patterns use. A real `Tracer`
 * satisfies it; spans started with it become the active span for the work,
 * so spans of the work nest inside.
 */
export interface TracerLike {
  /** Starts a span, makes it active while `fn` runs and returns what `fn` returns. */
  startActiveSpan<F extends (span: SpanLike) => unknown>(name: string, options: SpanOptionsLike, fn: F): ReturnType<F>;
}

/** The observability options every pattern accepts. */
export interface ObservabilityOptions {
  /**
   * Used in logs, span attributes and metric labels.
   * @default the pattern's kind, such as `"circuit_breaker"`
   */
  name?: string | undefined;
  /** Where the pattern logs its events. @default none */
  logger?: Logger | undefined;
  /** An OpenTelemetry `Tracer`: one span per call (per attempt for a retry). @default none */
  tracer?: TracerLike | undefined;
  /** Receives the pattern's metrics. @default none */
  metrics?: MetricsRecorder | undefined;
}

/**
 * Observability that `PolicyRegistry.attach()` adds to every policy of a
 * registry, next to what each policy already reports to. The adapters'
 * `policies` option attaches this way.
 */
export interface AttachedObservability {
  /** A logger every policy also writes to. @default none */
  readonly logger?: Logger | undefined;
  /** A tracer every policy also starts its spans in. @default none */
  readonly tracer?: TracerLike | undefined;
  /** A metrics recorder every policy also reports to. @default none */
  readonly metrics?: MetricsRecorder | undefined;
}
