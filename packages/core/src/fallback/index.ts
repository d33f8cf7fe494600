export type { FallbackEvents } from './events.js';
export { Fallback, type FallbackConfig, type FallbackHandler } from './fallback.js';
