/**
 * `@resilience/hono`: Hono middleware for the patterns of `@resilience/core`
 * (circuit breaker, rate limit with standard headers, timeout and bulkhead)
 * on web-standard `Request`/`Response`, so the same code runs on Node
 * (`@hono/node-server`), Bun, Deno and edge runtimes, with the options and
 * answers of `@resilience/express`.
 *
 * @packageDocumentation
 */

export { addressKey } from '@resilience/http';
export { bulkhead } from './bulkhead.js';
export { circuitBreaker } from './circuit-breaker.js';
export { signalOf } from './internal/signal.js';
export { rateLimit } from './rate-limit.js';
export { timeout } from './timeout.js';
export type {
  BulkheadOptions,
  CircuitBreakerLike,
  CircuitBreakerOptions,
  CircuitPermitLike,
  HonoRejectionBody,
  LimiterFailMode,
  MaybePromise,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitOptions,
  RateLimitValidations,
  RejectionOptions,
  ResilienceEnv,
  ResilienceVariables,
  StandardHeadersVersion,
  TimeoutOptions,
} from './types.js';
