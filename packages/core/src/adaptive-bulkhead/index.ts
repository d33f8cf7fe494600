export { AdaptiveBulkhead } from './adaptive-bulkhead.js';
export { type AdaptiveBulkheadConfig, AdaptiveLimitAlgorithm } from './types.js';
