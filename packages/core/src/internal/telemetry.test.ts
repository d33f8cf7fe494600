import { trace } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import { inMemoryTracing, recordingLogger, useAsyncContextManager } from '../../test/support.js';
import type { TracerLike } from '../observability/types.js';
import { Telemetry } from './telemetry.js';

const { exporter, provider } = inMemoryTracing();
useAsyncContextManager();

describe('Telemetry', () => {
  it('shares one object per pattern kind when nothing is configured', () => {
    const a = Telemetry.for('retry', {});
    expect(Telemetry.for('retry', {})).toBe(a);
    expect(Telemetry.for('bulkhead', {})).not.toBe(a);
    expect(a.name).toBe('retry');
    expect(a.logger).toBeUndefined();
    expect(a.tracer).toBeUndefined();
    expect(a.metrics).toBeUndefined();
    expect(Telemetry.for('retry', { name: 'payments' })).not.toBe(a);
  });

  it('logs with the name and kind, and does nothing without a logger', () => {
    const logger = recordingLogger();
    const telemetry = Telemetry.for('circuit_breaker', { name: 'payments', logger });
    telemetry.log('warn', 'circuit opened', { from: 'closed' });
    expect(logger.records).toEqual([
      {
        level: 'warn',
        msg: 'circuit opened',
        attrs: { 'resilience.name': 'payments', 'resilience.pattern': 'circuit_breaker', from: 'closed' },
      },
    ]);
    expect(() => Telemetry.for('circuit_breaker', {}).log('info', 'nobody listens')).not.toThrow();
  });

  it('survives a logger that throws', () => {
    const logger = recordingLogger();
    logger.error = () => {
      throw new Error('disk full');
    };
    expect(() => Telemetry.for('timeout', { logger }).log('error', 'x')).not.toThrow();
  });

  it('accepts a real OpenTelemetry tracer and nests spans of the work inside its span', async () => {
    exporter.reset();
    const tracer = provider.getTracer('test');
    const typed: TracerLike = tracer;
    const telemetry = Telemetry.for('retry', { name: 'orders', tracer: typed });
    const result = await telemetry.traced('resilience.retry.attempt', { 'resilience.retry.attempt': 1 }, async () => {
      await tracer.startActiveSpan('work', async (span) => span.end());
      return 42;
    });
    expect(result).toBe(42);
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'resilience.retry.attempt');
    const inner = spans.find((s) => s.name === 'work');
    expect(outer?.attributes).toEqual({
      'resilience.name': 'orders',
      'resilience.pattern': 'retry',
      'resilience.retry.attempt': 1,
    });
    expect(outer?.status.code).toBe(0);
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('marks a failed span as error, records the exception and rethrows the same value', async () => {
    exporter.reset();
    const telemetry = Telemetry.for('timeout', { tracer: provider.getTracer('test') });
    const failure = new Error('upstream down');
    await expect(telemetry.traced('resilience.timeout', undefined, () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    await expect(telemetry.traced('resilience.timeout', undefined, () => Promise.reject('plain string'))).rejects.toBe(
      'plain string',
    );
    const [first, second] = exporter.getFinishedSpans();
    expect(first?.status).toEqual({ code: 2, message: 'upstream down' });
    expect(first?.events[0]?.name).toBe('exception');
    expect(first?.attributes).toEqual({ 'resilience.name': 'timeout', 'resilience.pattern': 'timeout' });
    expect(second?.status).toEqual({ code: 2, message: 'plain string' });
  });

  it('invokes hooks and logs, never throws, what a hook throws', () => {
    const logger = recordingLogger();
    const telemetry = Telemetry.for('circuit_breaker', { logger });
    const hook = vi.fn((from: string, to: string) => `${from}->${to}`);
    telemetry.invokeHook(hook, 'onStateChange', 'closed', 'open');
    expect(hook).toHaveBeenCalledWith('closed', 'open');
    const boom = new Error('listener bug');
    telemetry.invokeHook(() => {
      throw boom;
    }, 'onStateChange');
    expect(logger.records.at(-1)?.msg).toBe('onStateChange threw');
    expect(logger.records.at(-1)?.attrs?.err).toBe(boom);
    expect(() => telemetry.invokeHook(undefined, 'onStateChange')).not.toThrow();
  });
});
