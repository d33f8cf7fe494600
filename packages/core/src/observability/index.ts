export type {
  CallOutcome,
  CircuitStateName,
  Logger,
  MetricsRecorder,
  ObservabilityOptions,
  PatternName,
  SpanAttributeValue,
  SpanLike,
  SpanOptionsLike,
  SpanStatusLike,
  TracerLike,
} from './types.js';
