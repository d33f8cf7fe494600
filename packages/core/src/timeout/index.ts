export type { TimeoutEvents } from './events.js';
export { Timeout } from './timeout.js';
export type { TimeoutConfig, TimeoutExecuteOptions } from './types.js';
