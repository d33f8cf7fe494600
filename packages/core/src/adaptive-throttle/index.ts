export { AdaptiveThrottle } from './adaptive-throttle.js';
export type { AdaptiveThrottleConfig } from './types.js';
