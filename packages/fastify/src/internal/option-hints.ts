import { type OptionHints, rateLimitOptionHints } from '@resilience/http';

/**
 * The options of @fastify/rate-limit (and express-rate-limit's) that mean
 * something else here, with what to use instead.
 */
export const fastifyRateLimitHints: OptionHints = Object.freeze({
  ...rateLimitOptionHints,
  max: "@fastify/rate-limit's max is the limiter's rate here: new RateLimiter({ rate, interval })",
  timeWindow: "@fastify/rate-limit's timeWindow is the limiter's interval here: new RateLimiter({ rate, interval })",
  keyGenerator: `@fastify/rate-limit's keyGenerator is "key" here`,
  allowList: 'use "skip" (request) => boolean',
  global: 'register the plugin for every route of a scope, or spread guard.hooks into one route',
  hook: 'the limit runs in onRequest, before the body is read',
  cache: 'set the number of keys on the core RateLimiter you pass',
  redis: 'pass a distributed limiter (a RedisRateLimiter) as the first argument instead of the core RateLimiter',
  nameSpace: 'set the key prefix on the RedisRateLimiter you pass',
  skipOnError: "use failMode: 'open' (the default) or 'closed'",
  addHeaders: 'use "standardHeaders" and "legacyHeaders"',
  addHeadersOnExceeding: 'use "standardHeaders" and "legacyHeaders"',
  enableDraftSpec: "use standardHeaders: 'draft-7' or 'draft-8'",
  ban: 'not supported',
  continueExceeding: 'not supported: a refused request takes no tokens',
  exponentialBackoff: 'not supported',
  onExceeding: 'not supported: read the RateLimit headers of the answer',
  onExceeded: 'use "body" (a function (request, error) => body) to act on a refusal',
  groupId: 'give each group its own RateLimiter, or a key(request) that includes the group',
});
