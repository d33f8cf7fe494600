export type { RateLimiterEvents } from './events.js';
export { RateLimiter } from './rate-limiter.js';
export {
  type MaybePromise,
  RateLimitAlgorithm,
  type RateLimiterConfig,
  type RateLimiterExecuteOptions,
  type RateLimiterLike,
  type RateLimitResult,
  type RateLimitWaitOptions,
} from './types.js';
