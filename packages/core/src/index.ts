/**
 * `@resilience/core`: circuit breaker, retry, rate limiter, timeout and
 * bulkhead for Node.js services, with zero runtime dependencies.
 *
 * @packageDocumentation
 */
export * from './adaptive-bulkhead/index.js';
export * from './adaptive-throttle/index.js';
export * from './bulkhead/index.js';
export * from './chaos/index.js';
export * from './circuit-breaker/index.js';
export * from './classify/index.js';
export * from './clock/index.js';
export * from './compose/index.js';
export type { ExecuteOptions, ExecutionContext, Operation, Policy } from './context.js';
export * from './errors/index.js';
export * from './fallback/index.js';
export * from './hedging/index.js';
export * from './observability/index.js';
export * from './rate-limiter/index.js';
export * from './registry/index.js';
export * from './retry/index.js';
export * from './timeout/index.js';
