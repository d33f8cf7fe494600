export { Bulkhead } from './bulkhead.js';
export type { BulkheadEvents } from './events.js';
export type { BulkheadConfig, BulkheadRejectReason } from './types.js';
