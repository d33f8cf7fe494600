/**
 * `@resilience/fastify`: Fastify 5 plugins and route hooks for the patterns
 * of `@resilience/core` (circuit breaker, rate limit with standard headers,
 * timeout and bulkhead), with the options and answers of
 * `@resilience/express`.
 *
 * @packageDocumentation
 */

export { addressKey } from '@resilience/http';
export { bulkhead } from './bulkhead.js';
export { circuitBreaker } from './circuit-breaker.js';
export { routeHooks } from './hooks.js';
export { rateLimit } from './rate-limit.js';
export { timeout } from './timeout.js';
export type {
  BulkheadOptions,
  CircuitBreakerLike,
  CircuitBreakerOptions,
  CircuitPermitLike,
  FastifyRejectionBody,
  LimiterFailMode,
  MaybePromise,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitOptions,
  RateLimitValidations,
  RejectionOptions,
  ResilienceHooks,
  ResiliencePlugin,
  StandardHeadersVersion,
  TimeoutOptions,
} from './types.js';
