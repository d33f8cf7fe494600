import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** What {@link traceMixin} adds to a record while a span is active. */
export interface TraceFields {
  /** The active span's trace id, 32 hex digits. */
  trace_id: string;
  /** The active span's id, 16 hex digits. */
  span_id: string;
  /** The W3C trace flags as two hex digits: `01` sampled, `00` not. */
  trace_flags: string;
}

// pino merges each record's own fields INTO the object a mixin returns
// (`Object.assign(mixinObject, mergeObject)`), so every call returns a new
// object: a shared or frozen one would be written into, or throw.
function activeTraceFields(): TraceFields | Record<string, never> {
  // The mixin runs on every record of the application: a broken span or
  // context manager must cost the trace fields, never the log line.
  try {
    const span = trace.getSpan(context.active());
    if (span === undefined) return {};
    const spanContext = span.spanContext();
    if (!isSpanContextValid(spanContext)) return {};
    // W3C flags are one byte; a span context from a careless propagator may hold anything (-1, 1.5, 257,
    // undefined), and trace_flags must still be two hex digits, with the ids kept.
    const raw: unknown = spanContext.traceFlags;
    const flags = typeof raw === 'number' ? raw & 0xff : 0;
    return {
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
      trace_flags: flags < 16 ? `0${flags.toString(16)}` : flags.toString(16),
    };
  } catch {
    return {};
  }
}

/**
 * A mixin for pino's `mixin` option: every record written while an
 * OpenTelemetry span is active gets that span's `trace_id`, `span_id` and
 * `trace_flags` (the field names of OpenTelemetry's log data model and of
 * `@opentelemetry/instrumentation-pino`), so a log line leads to its trace.
 * Outside any span it adds nothing. It reads the active context through
 * `@opentelemetry/api`, so it needs a context manager (the Node SDK registers
 * one).
 *
 * To keep a mixin of your own, merge both:
 * `mixin: (obj, level) => ({ ...mine(obj, level), ...withTrace() })`.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { fromPino, traceMixin } from '@resilience/logging';
 *
 * const logger = pino({ mixin: traceMixin() });
 * logger.info('charged'); // {…,"trace_id":"4bf9…","span_id":"00f0…","trace_flags":"01","msg":"charged"}
 * ```
 */
export function traceMixin(): () => TraceFields | Record<string, never> {
  return activeTraceFields;
}
