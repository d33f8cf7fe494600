export { Chaos } from './chaos.js';
export type { ChaosEvents } from './events.js';
export type { ChaosConfig, ChaosInjection } from './types.js';
