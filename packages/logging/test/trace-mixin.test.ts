import { context, INVALID_SPAN_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { CircuitBreaker } from '@resilience/core';
import { pino } from 'pino';
import { pino as pino9 } from 'pino9';
import { describe, expect, it } from 'vitest';
import { fromPino, traceMixin } from '../src/index.js';
import { MemoryStream } from './memory-stream.js';

context.setGlobalContextManager(new AsyncHooksContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');

/** `pino(options, stream)` of one major version. */
type PinoFactory = (options: object, stream: MemoryStream) => ReturnType<typeof pino>;

describe.each([
  ['pino 10', pino as unknown as PinoFactory],
  ['pino 9', pino9 as unknown as PinoFactory],
])('traceMixin with real %s and the OpenTelemetry SDK', (_version, create) => {
  function setup() {
    const stream = new MemoryStream();
    const root = create({ level: 'debug', base: null, timestamp: false, mixin: traceMixin() }, stream);
    return { stream, root };
  }

  it('adds trace_id, span_id and trace_flags of the active span, and nothing outside one', () => {
    const { stream, root } = setup();
    root.info('before');
    const span = tracer.startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => root.info('inside'));
    span.end();
    root.info('after');
    const { traceId, spanId } = span.spanContext();
    expect(stream.records).toEqual([
      { level: 30, msg: 'before' },
      { level: 30, trace_id: traceId, span_id: spanId, trace_flags: '01', msg: 'inside' },
      { level: 30, msg: 'after' },
    ]);
  });

  it('returns a fresh object each time: pino merges the record fields into it', () => {
    const { stream, root } = setup();
    root.info({ order: 1 }, 'first');
    root.info({ other: true }, 'second');
    const span = tracer.startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => {
      root.info({ order: 3 }, 'third');
      root.info('fourth');
    });
    span.end();
    expect(stream.records.map((r) => Object.keys(r).sort().join(','))).toEqual([
      'level,msg,order',
      'level,msg,other',
      'level,msg,order,span_id,trace_flags,trace_id',
      'level,msg,span_id,trace_flags,trace_id',
    ]);
  });

  it('adds nothing for an invalid span context, and writes flags above 0x0f as two hex digits', () => {
    const { stream, root } = setup();
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext(INVALID_SPAN_CONTEXT)), () =>
      root.info('invalid'),
    );
    const flagged = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0x81 });
    context.with(trace.setSpan(context.active(), flagged), () => root.info('flags'));
    expect(stream.records).toEqual([
      { level: 30, msg: 'invalid' },
      { level: 30, trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), trace_flags: '81', msg: 'flags' },
    ]);
  });

  it('writes two hex digits of trace flags a careless propagator left out of range, keeping the ids', () => {
    const { stream, root } = setup();
    for (const traceFlags of [-1, 1.5, 0x101, Number.NaN, undefined]) {
      const span = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags } as never);
      context.with(trace.setSpan(context.active(), span), () => root.info('odd flags'));
    }
    expect(stream.records.map((r) => [r.trace_id, r.span_id, r.trace_flags])).toEqual(
      ['ff', '01', '01', '00', '00'].map((flags) => ['a'.repeat(32), 'b'.repeat(16), flags]),
    );
  });

  it('still writes the record when the active span is broken', () => {
    const { stream, root } = setup();
    const broken = {
      spanContext() {
        throw new Error('broken span');
      },
    } as unknown as Span;
    context.with(trace.setSpan(context.active(), broken), () => root.info('kept'));
    expect(stream.records).toEqual([{ level: 30, msg: 'kept' }]);
  });

  it('marks an unsampled span with trace_flags 00', () => {
    const { stream, root } = setup();
    const dropped = new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('off').startSpan('x');
    context.with(trace.setSpan(context.active(), dropped), () => root.info('unsampled'));
    expect(stream.records[0]).toMatchObject({ trace_flags: '00', span_id: dropped.spanContext().spanId });
  });

  it('joins a pattern log to the pattern span it was written in', async () => {
    exporter.reset();
    const { stream, root } = setup();
    const breaker = new CircuitBreaker({ name: 'payments', tracer, logger: fromPino(root), readyToTrip: () => true });
    await tracer.startActiveSpan('POST /charge', async (caller) => {
      await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
      caller.end();
    });
    const [opened] = stream.records;
    const breakerSpan = exporter.getFinishedSpans().find((s) => s.name === 'resilience.circuit_breaker');
    expect(opened?.msg).toBe('circuit breaker state changed');
    expect(opened?.trace_id).toBe(breakerSpan?.spanContext().traceId);
    expect(opened?.span_id).toBe(breakerSpan?.spanContext().spanId);
  });
});
