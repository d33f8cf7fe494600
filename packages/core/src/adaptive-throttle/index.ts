export { AdaptiveThrottle } from './adaptive-throttle.js';
export type { AdaptiveThrottleEvents } from './events.js';
export type { AdaptiveThrottleConfig } from './types.js';
