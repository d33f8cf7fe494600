import { context } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

let contextManager: AsyncHooksContextManager | undefined;

/** Installs the async-hooks context manager globally, once per test file. */
export function installContextManager(): void {
  if (contextManager !== undefined) return;
  contextManager = new AsyncHooksContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

/** A real SDK tracer provider exporting into memory, with the async-hooks context manager. */
export function tracing(sampler?: Sampler): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  installContextManager();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(sampler === undefined ? {} : { sampler }),
  });
  return { provider, exporter };
}

/** A provider whose sampler drops every span. */
export function droppingTracing(): ReturnType<typeof tracing> {
  return tracing(new AlwaysOffSampler());
}

/** The finished spans named `name`, in end order. */
export function named(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

/** The span id of a span's parent, or undefined for a root. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
