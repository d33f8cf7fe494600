// The OpenTelemetry setup a service copies: a context manager, a tracer
// provider (console, and OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set), a
// meter provider, W3C propagation, and pino with the trace ids on every line.
import { context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from '@resilience/core';
import { fromPino, traceMixin } from '@resilience/logging';
import { OTelRecorder, resilienceTracer, setupPropagation } from '@resilience/otel';
import { type Logger as Pino, pino } from 'pino';

/** Collects metrics only when asked (a service would use a PeriodicExportingMetricReader). */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Everything the example wires together. */
export interface Telemetry {
  readonly tracer: Tracer;
  readonly recorder: OTelRecorder;
  readonly logger: Logger;
  readonly pino: Pino;
  /** The spans finished so far (the console view prints them as a tree). */
  readonly spans: InMemorySpanExporter;
  readonly metrics: OnDemandReader;
  shutdown(): Promise<void>;
}

/** Sets up traces, metrics, propagation and logs. */
export function setupTelemetry(): Telemetry {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  setupPropagation();

  const spans = new InMemorySpanExporter();
  const spanProcessors: SpanProcessor[] = [new SimpleSpanProcessor(spans)];
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and posts to <endpoint>/v1/traces.
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  const tracerProvider = new BasicTracerProvider({
    // Keep every trace here; a busy service keeps 1–10 % of root traces (docs/observability.md).
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }),
    spanProcessors,
  });

  const metrics = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [metrics] });

  // Synchronous writes keep the log lines in order with the rest of the output.
  const root = pino(
    { level: 'debug', base: { service: 'checkout' }, mixin: traceMixin() },
    pino.destination({ sync: true }),
  );
  return {
    tracer: resilienceTracer(tracerProvider),
    recorder: new OTelRecorder(meterProvider.getMeter('checkout')),
    logger: fromPino(root),
    pino: root,
    spans,
    metrics,
    // A collector that is down costs the spans it did not take, never the program.
    async shutdown() {
      const results = await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      for (const result of results) {
        if (result.status === 'rejected') root.warn({ err: result.reason }, 'telemetry could not be flushed');
      }
    },
  };
}
