/**
 * `@resilience/logging`: pino for `@resilience/core`. `fromPino()` turns a
 * pino logger into the core's `Logger`; `traceMixin()` puts the active
 * OpenTelemetry trace and span ids on every pino record.
 *
 * @packageDocumentation
 */
export { type FromPinoOptions, fromPino, type PinoLike, type PinoLogger } from './from-pino.js';
export { type TraceFields, traceMixin } from './trace-mixin.js';
