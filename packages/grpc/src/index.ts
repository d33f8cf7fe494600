/**
 * `@resilience/grpc`: `@grpc/grpc-js` client interceptors (circuit breaker,
 * retry, rate limit, bulkhead, deadline), server interceptors that shed load
 * (rate limit, bulkhead) and a `grpc.health.v1` health service, on
 * `@resilience/core`.
 *
 * @packageDocumentation
 */
export { bulkheadInterceptor } from './bulkhead.js';
export {
  type CircuitBreakerLike,
  type CircuitPermitLike,
  circuitBreakerInterceptor,
  DEFAULT_FAILURE_CODES,
} from './circuit-breaker.js';
export { CONTEXT_SIGNAL, type ContextCallOptions, MAX_DEADLINE_MS, withContext } from './context.js';
export { deadlineInterceptor } from './deadline.js';
export {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthService,
  type HealthServiceOptions,
  type HealthSource,
  type HealthStatus,
  healthService,
  healthServiceDefinition,
  ServingStatus,
  servingStatus,
} from './health.js';
export type { BulkheadLike } from './internal/shapes.js';
export { type RateLimiterForInterceptor, rateLimitInterceptor } from './rate-limit.js';
export { DEFAULT_RETRYABLE_CODES, type RetryPolicyLike, retryInterceptor } from './retry.js';
export { type BulkheadSelector, bulkheadServerInterceptor, peerAddress, rateLimitServerInterceptor } from './server.js';
export { GrpcStatusError } from './status-error.js';
export type {
  BulkheadInterceptorOptions,
  BulkheadServerInterceptorOptions,
  CircuitBreakerInterceptorOptions,
  ClientKeyFunction,
  RateLimitInterceptorOptions,
  RateLimitServerInterceptorOptions,
  RetryInterceptorOptions,
  ServerKeyFunction,
} from './types.js';
