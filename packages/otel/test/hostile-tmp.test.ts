import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CircuitBreaker, Retry } from '@resilience/core';
import { expect, it } from 'vitest';
import { installContextManager } from './tracing.js';

installContextManager();
function throwing(where: 'onStart' | 'onEnd'): SpanProcessor {
  return {
    onStart() { if (where === 'onStart') throw new Error('processor onStart broke'); },
    onEnd() { if (where === 'onEnd') throw new Error('processor onEnd broke'); },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}
for (const where of ['onStart', 'onEnd'] as const) {
  it(`breaker with a processor whose ${where} throws`, async () => {
    const tracer = new BasicTracerProvider({ spanProcessors: [throwing(where)] }).getTracer('t');
    const breaker = new CircuitBreaker({ tracer });
    let result: unknown;
    try { result = await breaker.execute(() => 42); } catch (e) { result = e; }
    expect(result).toBe(42);
    const retry = new Retry({ tracer, maxAttempts: 1 });
    try { result = await retry.execute(() => 43); } catch (e) { result = e; }
    expect(result).toBe(43);
  });
}
