import type { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import type { AdaptiveBulkheadConfig } from '../adaptive-bulkhead/types.js';
import type { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import type { AdaptiveThrottleConfig } from '../adaptive-throttle/types.js';
import type { Bulkhead } from '../bulkhead/bulkhead.js';
import type { BulkheadConfig } from '../bulkhead/types.js';
import type { Chaos } from '../chaos/chaos.js';
import type { ChaosConfig } from '../chaos/types.js';
import type { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import type { CircuitBreakerConfig, CircuitState } from '../circuit-breaker/types.js';
import type { Clock } from '../clock/clock.js';
import type { Pipeline } from '../compose/pipeline.js';
import type { Hedging } from '../hedging/hedging.js';
import type { HedgingConfig } from '../hedging/types.js';
import type { Logger, MetricsRecorder, TracerLike } from '../observability/types.js';
import type { RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterConfig } from '../rate-limiter/types.js';
import type { Retry } from '../retry/retry.js';
import type { RetryConfig } from '../retry/types.js';
import type { Timeout } from '../timeout/timeout.js';
import type { TimeoutConfig } from '../timeout/types.js';

/** The kinds of policy a {@link PolicyRegistry} holds; each kind is its own namespace of names. */
export type PolicyKind =
  | 'circuitBreaker'
  | 'retry'
  | 'timeout'
  | 'bulkhead'
  | 'rateLimiter'
  | 'adaptiveBulkhead'
  | 'adaptiveThrottle'
  | 'hedging'
  | 'chaos'
  | 'pipeline';

/** The kinds whose settings `configure()` can change. */
export type ConfigurableKind = Exclude<PolicyKind, 'pipeline'>;

/** The policy type of each kind. */
export interface PolicyOfKind {
  /** A circuit breaker. */
  readonly circuitBreaker: CircuitBreaker<unknown>;
  /** A retry. */
  readonly retry: Retry<unknown>;
  /** A timeout. */
  readonly timeout: Timeout<unknown>;
  /** A bulkhead. */
  readonly bulkhead: Bulkhead<unknown>;
  /** An in-memory rate limiter. */
  readonly rateLimiter: RateLimiter;
  /** An adaptive bulkhead. */
  readonly adaptiveBulkhead: AdaptiveBulkhead<unknown>;
  /** An adaptive throttle (client-side throttling). */
  readonly adaptiveThrottle: AdaptiveThrottle<unknown>;
  /** A hedging policy. */
  readonly hedging: Hedging<unknown>;
  /** A fault-injection policy. */
  readonly chaos: Chaos<unknown>;
  /** A pipeline of policies. */
  readonly pipeline: Pipeline<unknown>;
}

/** The config type of each configurable kind. */
export interface ConfigOfKind {
  /** See `CircuitBreakerConfig`. */
  readonly circuitBreaker: CircuitBreakerConfig<unknown>;
  /** See `RetryConfig`. */
  readonly retry: RetryConfig<unknown>;
  /** See `TimeoutConfig`. */
  readonly timeout: TimeoutConfig;
  /** See `BulkheadConfig`. */
  readonly bulkhead: BulkheadConfig;
  /** See `RateLimiterConfig`. */
  readonly rateLimiter: RateLimiterConfig;
  /** See `AdaptiveBulkheadConfig`. */
  readonly adaptiveBulkhead: AdaptiveBulkheadConfig;
  /** See `AdaptiveThrottleConfig`. */
  readonly adaptiveThrottle: AdaptiveThrottleConfig;
  /** See `HedgingConfig`. */
  readonly hedging: HedgingConfig;
  /** See `ChaosConfig`. */
  readonly chaos: ChaosConfig<unknown>;
}

/** One policy of a registry, as `list()` and the `'added'` event give it. */
export interface RegisteredPolicy<K extends PolicyKind = PolicyKind> {
  /** Its kind. */
  readonly kind: K;
  /** Its name (also its `name` option, used in logs, spans and metrics). */
  readonly name: string;
  /** The policy itself. */
  readonly policy: PolicyOfKind[K];
}

/** What the registry passes to every policy it creates; a policy's own config wins. */
export interface PolicyRegistryOptions {
  /** A logger for every policy. */
  readonly logger?: Logger | undefined;
  /** An OpenTelemetry tracer for every policy. */
  readonly tracer?: TracerLike | undefined;
  /** A metrics recorder for every policy. */
  readonly metrics?: MetricsRecorder | undefined;
  /** The clock of every policy. */
  readonly clock?: Clock | undefined;
}

/** Per-call options of the registry's get-or-create methods. */
export interface RegisterOptions {
  /**
   * A critical policy makes `health()` say `'down'` (rather than
   * `'degraded'`) when it is open (a breaker), full (a bulkhead or an
   * adaptive bulkhead) or rejecting calls (an adaptive throttle).
   * @default false
   */
  readonly critical?: boolean | undefined;
}

/**
 * The plain object `configure()` takes (parse it from JSON or YAML): defaults
 * per kind, settings per kind and name, and which policies are critical.
 * Functions cannot come from JSON: give predicates and hooks in code, when
 * the policy is created; `configure()` changes only the options it names.
 * JSON has no `Infinity` either: write the string `"Infinity"`.
 *
 * @example
 * ```json
 * { "defaults": { "retry": { "maxAttempts": 3 } },
 *   "circuitBreaker": { "payments": { "timeout": 30000 } },
 *   "rateLimiter": { "api": { "rate": 100, "interval": 1000 } },
 *   "critical": ["circuitBreaker.payments"] }
 * ```
 */
export interface PolicyRegistryConfig {
  /** Options for every policy of a kind, under that policy's own code config and named settings. */
  readonly defaults?: { readonly [K in ConfigurableKind]?: Partial<ConfigOfKind[K]> } | undefined;
  /** Circuit breakers' settings by name. */
  readonly circuitBreaker?: Readonly<Record<string, Partial<CircuitBreakerConfig<unknown>>>> | undefined;
  /** Retries' settings by name. */
  readonly retry?: Readonly<Record<string, Partial<RetryConfig<unknown>>>> | undefined;
  /** Timeouts' settings by name. */
  readonly timeout?: Readonly<Record<string, Partial<TimeoutConfig>>> | undefined;
  /** Bulkheads' settings by name. */
  readonly bulkhead?: Readonly<Record<string, Partial<BulkheadConfig>>> | undefined;
  /** Rate limiters' settings by name. */
  readonly rateLimiter?: Readonly<Record<string, Partial<RateLimiterConfig>>> | undefined;
  /** Adaptive bulkheads' settings by name. */
  readonly adaptiveBulkhead?: Readonly<Record<string, Partial<AdaptiveBulkheadConfig>>> | undefined;
  /** Adaptive throttles' settings by name. */
  readonly adaptiveThrottle?: Readonly<Record<string, Partial<AdaptiveThrottleConfig>>> | undefined;
  /** Hedging policies' settings by name. */
  readonly hedging?: Readonly<Record<string, Partial<HedgingConfig>>> | undefined;
  /** Fault-injection policies' settings by name (`enabled`, `rate`, `latency`, `result`; a `fault` is given in code). */
  readonly chaos?: Readonly<Record<string, Partial<ChaosConfig<unknown>>>> | undefined;
  /**
   * Critical policies, as `"kind.name"` (`"circuitBreaker.payments"`), in addition to those marked in code: circuit
   * breakers, bulkheads, adaptive bulkheads and adaptive throttles, the kinds `health()` counts (another kind throws).
   */
  readonly critical?: readonly string[] | undefined;
}

/** Options of `configure()`. */
export interface ConfigureOptions {
  /**
   * Accept settings for names no policy has yet (kept, and used when the
   * policy is created), for a config loaded before the code that creates the
   * policies has run. Off by default, so that a misspelt name fails.
   * @default false
   */
  readonly allowUnknownNames?: boolean | undefined;
}

/** `'ok'`, `'degraded'` (working, with some protection engaged) or `'down'` (a critical policy is open or full). */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/** The health of one circuit breaker, bulkhead, adaptive bulkhead or adaptive throttle. */
export interface PolicyHealth {
  /** `'circuitBreaker'`, `'bulkhead'`, `'adaptiveBulkhead'` or `'adaptiveThrottle'`. */
  readonly kind: 'circuitBreaker' | 'bulkhead' | 'adaptiveBulkhead' | 'adaptiveThrottle';
  /** Its name. */
  readonly name: string;
  /** Its status by the rules of `PolicyRegistry.health()`. */
  readonly status: HealthStatus;
  /** Whether it is critical. */
  readonly critical: boolean;
  /** A breaker's state. */
  readonly state?: CircuitState;
  /** A bulkhead's (or adaptive bulkhead's) running calls. */
  readonly active?: number;
  /** A bulkhead's (or adaptive bulkhead's) queued calls. */
  readonly queued?: number;
  /** A bulkhead's `maxConcurrent`. */
  readonly maxConcurrent?: number;
  /** An adaptive bulkhead's current `limit`. */
  readonly limit?: number;
  /** A bulkhead's (or adaptive bulkhead's) `maxQueue`. */
  readonly maxQueue?: number;
  /** An adaptive throttle's `rejectionProbability`. */
  readonly rejectionProbability?: number;
  /** An adaptive throttle's `requests` in its window. */
  readonly requests?: number;
  /** An adaptive throttle's `accepts` in its window. */
  readonly accepts?: number;
}

/** What `PolicyRegistry.health()` returns (JSON-safe, for a readiness probe). */
export interface HealthReport {
  /** The worst status of any policy; `'down'` for a closed registry. */
  readonly status: HealthStatus;
  /** `true` when the registry was closed: it holds no policy any more, and reports `'down'`. */
  readonly closed?: boolean;
  /** Every circuit breaker, bulkhead, adaptive bulkhead and adaptive throttle of the registry, in creation order. */
  readonly policies: readonly PolicyHealth[];
}

/** The events of a {@link PolicyRegistry}. */
export interface PolicyRegistryEvents {
  /** A policy was created in the registry. */
  readonly added: RegisteredPolicy;
}
