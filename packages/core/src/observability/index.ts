export { combineLoggers, combineRecorders, combineTracers } from './combine.js';
export type {
  AttachedObservability,
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
