/**
 * `@resilience/express`: Express 4.18+ and 5 middleware for the patterns of
 * `@resilience/core` (circuit breaker, rate limit with standard headers,
 * timeout and bulkhead), and a readiness probe from a `PolicyRegistry`.
 *
 * @packageDocumentation
 */
export { bulkhead } from './bulkhead.js';
export { type CircuitBreakerMiddleware, circuitBreaker } from './circuit-breaker.js';
export { type HealthHandlerOptions, type HealthSource, healthHandler } from './health.js';
export { ipKey, ipv6Network } from './ip-key.js';
export { rateLimit } from './rate-limit.js';
export { timeout } from './timeout.js';
export type {
  BulkheadMiddlewareOptions,
  CircuitBreakerLike,
  CircuitBreakerMiddlewareOptions,
  CircuitPermitLike,
  LimiterFailMode,
  MaybePromise,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitOptions,
  RateLimitValidations,
  RejectionBody,
  RejectionOptions,
  StandardHeadersVersion,
  TimeoutMiddlewareOptions,
} from './types.js';
