/**
 * `@resilience/redis`: a rate limiter and a bulkhead shared by every process
 * of a service through Redis, on an ioredis or a node-redis client.
 *
 * @packageDocumentation
 */

export { RedisBulkhead } from './bulkhead.js';
export {
  detectClient,
  type IORedisLike,
  type NodeRedisLike,
  type RedisClientKind,
  type RedisClientLike,
} from './client.js';
export { RedisRateLimiter } from './rate-limiter.js';
export type { BulkheadFallback, RateLimiterFallback, RedisBulkheadConfig, RedisRateLimiterConfig } from './types.js';
