export { Fallback, type FallbackConfig, type FallbackHandler } from './fallback.js';
