/**
 * The telemetry names of `@resilience/core` as OpenTelemetry sees them,
 * exported so that dashboards, alerts and tests can refer to constants
 * instead of strings. The core emits the span names and span attributes; the
 * {@link OTelRecorder} creates the instruments.
 */

/** Span names: one span per call of a pattern, one per attempt for a retry. */
export const SpanNames = {
  /** Around every `CircuitBreaker.execute`, rejected calls included. */
  CircuitBreaker: 'resilience.circuit_breaker',
  /** Around each attempt of a `Retry` (there is no span for the whole retry). */
  RetryAttempt: 'resilience.retry.attempt',
  /** Around every `Timeout.execute`. */
  Timeout: 'resilience.timeout',
  /** Around every `Bulkhead.execute`, queueing and rejections included. */
  Bulkhead: 'resilience.bulkhead',
  /** Around every `RateLimiter.execute`, waiting and rejections included. */
  RateLimit: 'resilience.rate_limit',
  /** Around every `Fallback.execute`. */
  Fallback: 'resilience.fallback',
} as const;

/** Attribute keys, on spans and on metric points. */
export const AttributeNames = {
  /** The pattern's `name` option (its kind when unnamed). Spans and every instrument. */
  Name: 'resilience.name',
  /** The pattern's kind (`circuit_breaker`, `retry`, …). Spans and `resilience.call.duration`. */
  Pattern: 'resilience.pattern',
  /** How a call ended (`success`, `failure`, `ignored`, `rejected`, `cancelled`). Metric points only. */
  Outcome: 'resilience.outcome',
  /** A breaker's state: on its span (the state when the call arrived) and on the state gauge. */
  CircuitBreakerState: 'resilience.circuit_breaker.state',
  /** The attempt number (from 1), on `resilience.retry.attempt` spans. */
  RetryAttempt: 'resilience.retry.attempt',
  /** The time limit in ms, on `resilience.timeout` spans. */
  TimeoutMs: 'resilience.timeout.ms',
  /** `true` on a `resilience.fallback` span whose call was answered by the fallback (absent otherwise). */
  FallbackUsed: 'resilience.fallback.used',
} as const;

/** Instrument names created by {@link OTelRecorder}. */
export const MetricNames = {
  /** Observable gauge: 1 for a breaker's current state, 0 for the other two. */
  CircuitBreakerState: 'resilience.circuit_breaker.state',
  /** Counter of calls through a breaker, by outcome. */
  CircuitBreakerCalls: 'resilience.circuit_breaker.calls',
  /** Counter of retry attempts, by outcome (`success` or `failure`). */
  RetryAttempts: 'resilience.retry.attempts',
  /** Counter of calls a rate limiter refused. */
  RateLimitRejections: 'resilience.rate_limit.rejections',
  /** Observable gauge of the calls running in a bulkhead. */
  BulkheadActive: 'resilience.bulkhead.active',
  /** Observable gauge of the calls queued in a bulkhead. */
  BulkheadQueued: 'resilience.bulkhead.queued',
  /** Observable gauge of an adaptive bulkhead's current concurrency limit (reported from its first change). */
  AdaptiveBulkheadLimit: 'resilience.adaptive_bulkhead.limit',
  /** Counter of timeouts that fired. */
  Timeouts: 'resilience.timeouts',
  /** Histogram of call durations in seconds, by pattern and outcome. */
  CallDuration: 'resilience.call.duration',
} as const;

/**
 * The default bucket boundaries of `resilience.call.duration`, in seconds:
 * from 1 ms to 10 s, the range of calls to a dependency.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
