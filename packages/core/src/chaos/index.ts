export { Chaos } from './chaos.js';
export type { ChaosConfig, ChaosInjection } from './types.js';
