/**
 * `@resilience/fetch`: `createFetch(options?)` returns a `fetch`-compatible
 * function for calling other services, with a circuit breaker per origin,
 * retries of idempotent requests that honour `Retry-After`, and per-attempt
 * and overall timeouts, on Node's global `fetch` (undici) or any `fetch` you pass.
 *
 * @packageDocumentation
 */
export { createFetch } from './create-fetch.js';
export type {
  CreateFetchOptions,
  FetchHedgingConfig,
  FetchLike,
  FetchRetryConfig,
  OriginBreakerConfig,
  RequestResilience,
  ResilientFetch,
  ResilientRequestInit,
} from './types.js';
