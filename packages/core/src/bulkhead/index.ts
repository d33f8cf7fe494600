export { Bulkhead } from './bulkhead.js';
export type { BulkheadConfig, BulkheadRejectReason } from './types.js';
