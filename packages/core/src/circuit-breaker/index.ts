export { CircuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerEvents } from './events.js';
export {
  type CircuitBreakerConfig,
  type CircuitBreakerSnapshot,
  type CircuitMode,
  type CircuitPermit,
  CircuitState,
  type Counts,
  type CountWindowConfig,
  type SlidingWindowConfig,
  type TimeWindowConfig,
} from './types.js';
