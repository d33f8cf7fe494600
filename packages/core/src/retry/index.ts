export {
  BackoffPolicy,
  equalJitter,
  fullJitter,
  type Jitter,
  type JitterStrategy,
} from './backoff.js';
export type { RetryEvents } from './events.js';
export { Retry } from './retry.js';
export { RetryBudget, type RetryBudgetConfig } from './retry-budget.js';
export type { ErrorMatcher, RetryConfig } from './types.js';
