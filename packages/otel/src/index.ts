/**
 * `@resilience/otel`: OpenTelemetry for `@resilience/core`. The patterns emit
 * spans through their `tracer` option; this package adds the metrics
 * recorder, W3C propagation helpers for HTTP and gRPC, a tracer under its own
 * scope, and the telemetry names as constants.
 *
 * @packageDocumentation
 */
export {
  AttributeNames,
  DEFAULT_DURATION_BUCKETS,
  MetricNames,
  SpanNames,
} from './names.js';
export {
  extractGrpcMetadata,
  extractHttpHeaders,
  type HeadersCarrier,
  type IncomingHeaders,
  injectGrpcMetadata,
  injectHttpHeaders,
  type MetadataLike,
  type SetupPropagationOptions,
  setupPropagation,
} from './propagation.js';
export { OTelRecorder, type OTelRecorderOptions } from './recorder.js';
export { INSTRUMENTATION_SCOPE, resilienceTracer, tracePolicies } from './tracer.js';
