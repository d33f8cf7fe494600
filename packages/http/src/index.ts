/**
 * `@resilience/http`: the framework-free HTTP pieces every `@resilience` web
 * adapter shares (Express, Fastify, Hono, fetch): client keys with IPv6
 * grouped by /56, the `RateLimit`/`RateLimit-Policy` headers (draft-7,
 * draft-8, legacy), `Retry-After` in both directions, status
 * classification, rejection bodies, the shared rate-limit options and the
 * proxy warnings. One runtime dependency, `ipaddr.js` (the address parser
 * Express's and Fastify's `trust proxy` use), beside the core (a peer); no
 * `node:` import, so it runs on Node, Bun, Deno and edge runtimes.
 *
 * @packageDocumentation
 */
export { checkedPermit, reportCall } from './breaker-call.js';
export { FailureLog } from './failure-log.js';
export { breakerPredicates, defaultBodies, timeoutPolicy } from './guard-options.js';
export { addressKey, ipv6Network, isIPv4, parseIPv6 } from './ip.js';
export { clientGone, clientSignal, type NodeResponseLike, onResponseEnd, responseDone } from './lifecycle.js';
export {
  bulkheadOptionHints,
  circuitBreakerOptionHints,
  rateLimitOptionHints,
  rejectionOptionHints,
  timeoutOptionHints,
} from './option-hints.js';
export { ProxyChecks, type ProxyProbe, SILENCE_HINT } from './proxy-checks.js';
export {
  headerInteger,
  MAX_HEADER_INTEGER,
  type RateLimitHeaderSettings,
  RateLimitHeaders,
  sfString,
} from './rate-limit-headers.js';
export {
  answerWithin,
  type CommonRateLimitOptions,
  commonRateLimitOptionNames,
  isDecision,
  MAX_TIMER_MS,
  notADecision,
  positiveNumber,
  type RateLimitSettings,
  rateLimitSettings,
  requestCost,
  requestKey,
  skipsRequest,
} from './rate-limit-settings.js';
export { type PreparedBody, prepareBody, Rejection, utf8Length } from './rejection.js';
export { parseRetryAfter, retryAfterSeconds } from './retry-after.js';
export {
  failureStatusOption,
  isServerError,
  type OptionHints,
  rejectUnknownOptions,
  retryAfterOption,
  statusOption,
  syncPredicate,
} from './status.js';
export { ignoreRejection, isThenable, passableError, refuseThenable } from './sync.js';
export type {
  CircuitBreakerLike,
  CircuitPermitLike,
  LimiterFailMode,
  MaybePromise,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitValidations,
  RejectionBody,
  StandardHeadersVersion,
} from './types.js';
