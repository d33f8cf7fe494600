import type { Tracer } from '@opentelemetry/api';
import type { Prepared } from '../harness/types.js';
import { ourBreaker } from './breakers.js';
import { awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type Executable, importOurs, ours } from './ours.js';
import type { ScenarioDef } from './types.js';

/**
 * A real SDK tracer whose sampler drops every span, with the async-local-storage
 * context manager a Node service registers: what tracing costs when it is on
 * but the trace is not sampled.
 */
async function droppingTracer(): Promise<Tracer> {
  const { context } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { AlwaysOffSampler, BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
  const otel = await importOurs('@resilience/otel');
  const resilienceTracer = otel.resilienceTracer as ((p: unknown) => Tracer) | undefined;
  return resilienceTracer === undefined ? provider.getTracer('@resilience/otel') : resilienceTracer(provider);
}

async function tracedBreaker(): Promise<Prepared> {
  const CircuitBreaker = await ours('CircuitBreaker');
  if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
  const breaker: Executable = new CircuitBreaker({ tracer: await droppingTracer() });
  return prepared({ run: () => breaker.execute(fn) });
}

async function bareStartActiveSpan(): Promise<Prepared> {
  const tracer = await droppingTracer();
  const work = (span: { end(): void }): Promise<number> => {
    const result = fn();
    span.end();
    return result;
  };
  return prepared({ run: () => tracer.startActiveSpan('resilience.circuit_breaker', work) });
}

/** An `OTelRecorder` on a real `MeterProvider` (a reader that collects only when asked), or why it cannot be made. */
async function recorder(options?: Record<string, unknown>): Promise<unknown> {
  const otel = await importOurs('@resilience/otel');
  const OTelRecorder = otel.OTelRecorder as (new (meter: unknown, options?: unknown) => unknown) | undefined;
  if (OTelRecorder === undefined) return '@resilience/otel has no OTelRecorder export yet: not yet available';
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  class OnDemandReader extends MetricReader {
    protected override async onShutdown(): Promise<void> {}
    protected override async onForceFlush(): Promise<void> {}
  }
  const provider = new MeterProvider({ readers: [new OnDemandReader()] });
  return new OTelRecorder(provider.getMeter('bench'), options);
}

async function recordedBreaker(options?: Record<string, unknown>): Promise<Prepared> {
  const CircuitBreaker = await ours('CircuitBreaker');
  if (typeof CircuitBreaker === 'string') return unavailable(CircuitBreaker);
  const metrics = await recorder(options);
  if (typeof metrics === 'string') return unavailable(metrics);
  const breaker: Executable = new CircuitBreaker({ metrics });
  return prepared({ run: () => breaker.execute(fn) });
}

/** A closed breaker reporting to OpenTelemetry metrics, against the same breaker with no recorder. */
export const recordedBreakerScenario: ScenarioDef = {
  id: 'recorded-breaker',
  title: 'Breaker call with OTelRecorder metrics',
  kind: 'latency',
  config:
    'closed CircuitBreaker with default settings and `metrics: new OTelRecorder(meter)` on a MeterProvider ' +
    '(OpenTelemetry SDK 2) with a reader that collects only when asked: a call counted in ' +
    '`resilience.circuit_breaker.calls` and timed in the `resilience.call.duration` histogram, or only counted ' +
    '(`durations: false`)',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: [
    { id: 'ours', label: 'CircuitBreaker + OTelRecorder', library: '@resilience/otel', setup: () => recordedBreaker() },
    {
      id: 'ours-counts-only',
      label: 'CircuitBreaker + OTelRecorder({ durations: false })',
      library: '@resilience/otel',
      setup: () => recordedBreaker({ durations: false }),
    },
    {
      id: 'ours-no-metrics',
      label: 'CircuitBreaker, no recorder',
      library: '@resilience/core',
      setup: async () => {
        const made = await ourBreaker();
        return typeof made === 'string' ? unavailable(made) : prepared({ run: made.call });
      },
    },
  ],
  targets: [],
};

/** A closed breaker with a tracer whose sampler drops every span, against the untraced breaker and the OTel floor. */
export const tracedBreakerScenario: ScenarioDef = {
  id: 'traced-breaker',
  title: 'Traced breaker call, sampler drops every span',
  kind: 'latency',
  config:
    'closed CircuitBreaker with default settings; `tracer` from a BasicTracerProvider (OpenTelemetry SDK 2) with ' +
    'AlwaysOffSampler and the AsyncLocalStorageContextManager. The floor is a bare `tracer.startActiveSpan(name, fn)` ' +
    'on the same tracer: id generation, the sampler, a non-recording span and one context switch',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: [
    {
      id: 'ours',
      label: '@resilience/core CircuitBreaker, traced (AlwaysOff)',
      library: '@resilience/otel',
      setup: tracedBreaker,
    },
    {
      id: 'ours-untraced',
      label: '@resilience/core CircuitBreaker, no tracer',
      library: '@resilience/core',
      setup: async () => {
        const made = await ourBreaker();
        return typeof made === 'string' ? unavailable(made) : prepared({ run: made.call });
      },
    },
    {
      id: 'start-active-span',
      label: 'floor: bare tracer.startActiveSpan (AlwaysOff)',
      library: '@opentelemetry/sdk-trace-base',
      setup: bareStartActiveSpan,
    },
  ],
  targets: [],
};
