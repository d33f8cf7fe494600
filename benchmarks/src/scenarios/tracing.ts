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
