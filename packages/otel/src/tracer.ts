import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope name of the spans the patterns emit through {@link resilienceTracer}. */
export const INSTRUMENTATION_SCOPE = '@resilience/otel';

/**
 * A `Tracer` to pass as the `tracer` option of the patterns, under the
 * instrumentation scope `@resilience/otel`, so that a backend (or a span
 * processor) can tell resilience spans from the service's own. Any other
 * `Tracer` works as well.
 *
 * @param provider - where spans go @default the global tracer provider
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ name: 'payments', tracer: resilienceTracer() });
 * ```
 */
export function resilienceTracer(provider: TracerProvider = trace.getTracerProvider()): Tracer {
  if (provider === null || typeof provider !== 'object' || typeof provider.getTracer !== 'function') {
    throw new TypeError(
      `resilienceTracer: provider must be an OpenTelemetry TracerProvider (with getTracer()), got ${provider === null ? 'null' : typeof provider}`,
    );
  }
  return provider.getTracer(INSTRUMENTATION_SCOPE);
}
