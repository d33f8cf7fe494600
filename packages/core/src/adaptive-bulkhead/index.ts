export { AdaptiveBulkhead } from './adaptive-bulkhead.js';
export type { AdaptiveBulkheadEvents } from './events.js';
export { type AdaptiveBulkheadConfig, AdaptiveLimitAlgorithm } from './types.js';
