export { Hedging } from './hedging.js';
export type { HedgingConfig } from './types.js';
