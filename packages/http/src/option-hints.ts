import type { OptionHints } from './status.js';

/**
 * Hints every rejecting middleware shares: the response options of
 * express-rate-limit, hono-rate-limiter and @fastify/rate-limit, and what
 * to use here instead.
 */
export const rejectionOptionHints: OptionHints = Object.freeze({
  message: 'use "body" (a string, an object sent as JSON, or (req, error) => either)',
  status: 'use "statusCode"',
  handler: 'use "statusCode" and "body" (a function (req, error) => body for a computed answer)',
  errorResponseBuilder: 'use "body" (a function (req, error) => body) and "statusCode"',
});

/**
 * express-rate-limit's (and hono-rate-limiter's, which copies them) option
 * names that mean something else here, with what to use instead.
 */
export const rateLimitOptionHints: OptionHints = Object.freeze({
  ...rejectionOptionHints,
  windowMs: "windowMs is the limiter's interval here: new RateLimiter({ rate, interval })",
  max: "max is the limiter's rate here: new RateLimiter({ rate, interval })",
  limit: "limit is the limiter's rate here: new RateLimiter({ rate, interval })",
  keyGenerator: 'keyGenerator is "key" here',
  requestPropertyName: 'the decision is sent as the RateLimit headers; there is no request property',
  headers: 'use "legacyHeaders" for the X-RateLimit-* headers',
  store: 'pass a distributed limiter (a RedisRateLimiter) as the first argument instead of the core RateLimiter',
  skipFailedRequests: 'not supported: a request takes its tokens when it arrives',
  skipSuccessfulRequests: 'not supported: a request takes its tokens when it arrives',
  requestWasSuccessful: 'not supported: a request takes its tokens when it arrives',
  passOnStoreError: "use failMode: 'open' (the default) or 'closed'",
  identifier: 'use "policyName"',
  ipv6Subnets: 'use "ipv6Subnet"',
});

/** Hints for the options a `timeout()` middleware does not take. */
export const timeoutOptionHints: OptionHints = Object.freeze({
  ...rejectionOptionHints,
  timeout: 'pass the milliseconds (or a core Timeout) as the first argument',
  ms: 'pass the milliseconds (or a core Timeout) as the first argument',
  respond: 'timeout() always answers when time is up (statusCode, body)',
});

/** Hints for the options a `bulkhead()` middleware does not take (they belong to the core `Bulkhead`). */
export const bulkheadOptionHints: OptionHints = Object.freeze({
  ...rejectionOptionHints,
  maxConcurrent:
    'set maxConcurrent on the core Bulkhead you pass: new Bulkhead({ maxConcurrent, maxQueue, queueTimeout })',
  maxQueue: 'set maxQueue on the core Bulkhead you pass',
  queueTimeout: 'set queueTimeout on the core Bulkhead you pass',
});

/** Hints for the options a `circuitBreaker()` middleware does not take. */
export const circuitBreakerOptionHints: OptionHints = Object.freeze({
  ...rejectionOptionHints,
  failureStatus: 'use "failureStatuses" (a list of statuses or a predicate)',
  isFailure: 'use "failureStatuses" for answers and "isFailureError" for errors',
  timeout: 'set the open time on the core CircuitBreaker you pass: new CircuitBreaker({ timeout })',
  resetTimeout: "opossum's resetTimeout is the core CircuitBreaker's timeout: new CircuitBreaker({ timeout })",
});
