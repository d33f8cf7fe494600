import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import type { PolicyRegistry, Subscription, TracerLike } from '@resilience/core';

/** The instrumentation scope name of the spans the patterns emit through {@link resilienceTracer}. */
export const INSTRUMENTATION_SCOPE = '@resilience/otel';

/**
 * A `Tracer` to pass as the `tracer` option of the patterns, under the
 * instrumentation scope `@resilience/otel`, so that a backend (or a span
 * processor) can tell resilience spans from the service's own. Any other
 * `Tracer` works as well. Each call with the same provider returns the same
 * tracer.
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
  let tracer = tracers.get(provider);
  if (tracer === undefined) {
    tracer = provider.getTracer(INSTRUMENTATION_SCOPE);
    tracers.set(provider, tracer);
  }
  return tracer;
}

/**
 * The tracer of each provider, so every call gives the same object: the core's `combineTracers` (behind a
 * `PolicyRegistry`'s `attach()`) then starts one span, not two, for a policy whose own `resilienceTracer()` and the
 * attached one (`tracePolicies()`) come from the same provider, even the global one before the SDK starts (a
 * `ProxyTracerProvider`, which makes a new tracer for each `getTracer()` until it has a delegate).
 */
const tracers = new WeakMap<TracerProvider, Tracer>();

/**
 * Traces every policy of a `PolicyRegistry` of `@resilience/core`: those it
 * holds now and those created in it later start their spans in `tracer`
 * (through `policies.attach({ tracer })`). A policy with a tracer of its own
 * keeps it and starts its spans in both (the same tracer traces once). A
 * pipeline is not traced itself: its steps are.
 *
 * @param policies - the registry
 * @param tracer - where the spans go @default {@link resilienceTracer}() on the global tracer provider
 * @returns a subscription: `dispose()` it (or `using` it) to stop tracing the registry's policies
 * @throws TypeError when `policies` is not a registry or `tracer` not a `Tracer`; Error when the registry is closed
 * @example
 * ```ts
 * const policies = new PolicyRegistry();
 * const tracing = tracePolicies(policies);
 * policies.circuitBreaker('payments'); // spans resilience.circuit_breaker
 * tracing.dispose();
 * ```
 */
export function tracePolicies(
  policies: Pick<PolicyRegistry, 'attach'>,
  tracer: TracerLike = resilienceTracer(),
): Subscription {
  if (policies === null || typeof policies !== 'object' || typeof policies.attach !== 'function') {
    throw new TypeError(
      `tracePolicies: policies must be a PolicyRegistry of @resilience/core (with attach()), got ${policies === null ? 'null' : typeof policies}`,
    );
  }
  if (tracer === null || typeof tracer !== 'object' || typeof tracer.startActiveSpan !== 'function') {
    throw new TypeError(
      `tracePolicies: tracer must be an OpenTelemetry Tracer (with startActiveSpan()), got ${tracer === null ? 'null' : typeof tracer}`,
    );
  }
  return policies.attach({ tracer });
}
