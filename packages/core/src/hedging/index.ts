export type { HedgingEvents } from './events.js';
export { Hedging } from './hedging.js';
export type { HedgingConfig } from './types.js';
