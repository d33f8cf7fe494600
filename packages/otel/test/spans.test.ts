import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  isCircuitOpenError,
  pipeline,
  RateLimiter,
  Retry,
  Timeout,
} from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeNames, INSTRUMENTATION_SCOPE, resilienceTracer, SpanNames } from '../src/index.js';
import { droppingTracing, named, parentOf, tracing } from './tracing.js';

const { provider, exporter } = tracing();
const tracer = resilienceTracer(provider);

afterEach(() => exporter.reset());

function exceptionOf(span: ReadableSpan): Record<string, unknown> | undefined {
  return span.events.find((event) => event.name === 'exception')?.attributes;
}

describe('spans of the patterns, on the real SDK', () => {
  it('gives a retry one span per attempt, each a child of the caller span, with the breaker inside', async () => {
    const policy = pipeline<string>()
      .retry({ name: 'inventory', maxAttempts: 3, initialDelay: 1, tracer })
      .circuitBreaker({ name: 'inventory', tracer })
      .build();
    let calls = 0;
    const result = await tracer.startActiveSpan('GET /stock', async (caller) => {
      try {
        return await policy.execute(async () => {
          calls++;
          // Work done inside the attempt nests under the breaker span.
          tracer.startSpan('db.query').end();
          if (calls < 3) throw new Error(`flaky ${calls}`);
          return 'ok';
        });
      } finally {
        caller.end();
      }
    });
    expect(result).toBe('ok');

    const [caller] = named(exporter, 'GET /stock');
    const attempts = named(exporter, SpanNames.RetryAttempt);
    const breakers = named(exporter, SpanNames.CircuitBreaker);
    const queries = named(exporter, 'db.query');
    expect(caller).toBeDefined();
    expect(attempts.map((s) => s.attributes[AttributeNames.RetryAttempt])).toEqual([1, 2, 3]);
    for (const attempt of attempts) {
      expect(parentOf(attempt)).toBe(caller?.spanContext().spanId);
      expect(attempt.spanContext().traceId).toBe(caller?.spanContext().traceId);
      expect(attempt.attributes[AttributeNames.Name]).toBe('inventory');
      expect(attempt.attributes[AttributeNames.Pattern]).toBe('retry');
      expect(attempt.instrumentationScope.name).toBe(INSTRUMENTATION_SCOPE);
    }
    expect(breakers).toHaveLength(3);
    breakers.forEach((breaker, i) => {
      expect(parentOf(breaker)).toBe(attempts[i]?.spanContext().spanId);
      expect(breaker.attributes[AttributeNames.CircuitBreakerState]).toBe('closed');
      expect(parentOf(queries[i] as ReadableSpan)).toBe(breaker.spanContext().spanId);
    });
    // Failed attempts: error status and the exception recorded; the last one succeeded.
    expect(attempts.map((s) => s.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(attempts[0]?.status.message).toBe('flaky 1');
    expect(exceptionOf(attempts[1] as ReadableSpan)?.['exception.message']).toBe('flaky 2');
    expect(exceptionOf(attempts[2] as ReadableSpan)).toBeUndefined();
  });

  it('shows an open circuit in the trace: an error span with the code, the state, and no work inside', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'payments', tracer, clock, readyToTrip: () => true });
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    exporter.reset();
    let ran = false;
    const err = await breaker
      .execute(() => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(isCircuitOpenError(err)).toBe(true);
    expect(ran).toBe(false);
    const [span] = named(exporter, SpanNames.CircuitBreaker);
    expect(span?.attributes[AttributeNames.CircuitBreakerState]).toBe('open');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(exceptionOf(span as ReadableSpan)?.['exception.type']).toBe('ERR_CIRCUIT_OPEN');
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('shows a full bulkhead and a refused rate limit as error spans carrying the error code', async () => {
    const bulkhead = new Bulkhead({ name: 'db', maxConcurrent: 1, tracer });
    let release = (): void => {};
    const running = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(bulkhead.execute(() => 'never')).rejects.toMatchObject({ code: 'ERR_BULKHEAD_FULL' });
    release();
    await running;

    const limiter = new RateLimiter({ name: 'partner', rate: 1, interval: 60_000, tracer, clock: new FakeClock() });
    await limiter.execute(() => 'first', { key: 'tenant-42' });
    await expect(limiter.execute(() => 'second', { key: 'tenant-42' })).rejects.toMatchObject({
      code: 'ERR_RATE_LIMIT_EXCEEDED',
    });

    const bulkheads = named(exporter, SpanNames.Bulkhead);
    const limits = named(exporter, SpanNames.RateLimit);
    expect(bulkheads.map((s) => s.status.code).sort()).toEqual([SpanStatusCode.UNSET, SpanStatusCode.ERROR].sort());
    expect(bulkheads.map((s) => exceptionOf(s)?.['exception.type']).filter(Boolean)).toEqual(['ERR_BULKHEAD_FULL']);
    expect(limits.map((s) => exceptionOf(s)?.['exception.type'] ?? 'ok')).toEqual(['ok', 'ERR_RATE_LIMIT_EXCEEDED']);
    // A rate-limit key is never a span attribute.
    for (const span of exporter.getFinishedSpans()) expect(Object.values(span.attributes)).not.toContain('tenant-42');
  });

  it('marks a timeout span as failed with ERR_TIMEOUT and the limit as an attribute', async () => {
    const clock = new FakeClock();
    const timeout = new Timeout({ name: 'search', defaultTimeout: 50, tracer, clock });
    const call = timeout.execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', reject)));
    const settled = call.catch((e: unknown) => e);
    await clock.advance(50);
    expect(await settled).toMatchObject({ code: 'ERR_TIMEOUT' });
    const [span] = named(exporter, SpanNames.Timeout);
    expect(span?.attributes[AttributeNames.TimeoutMs]).toBe(50);
    expect(exceptionOf(span as ReadableSpan)?.['exception.type']).toBe('ERR_TIMEOUT');
  });

  it('passes a non-Error failure through untouched and still records it', async () => {
    const retry = new Retry({ name: 'strings', maxAttempts: 1, tracer });
    const thrown = await retry.execute(() => Promise.reject('plain string')).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ code: 'ERR_MAX_ATTEMPTS_REACHED', cause: 'plain string' });
    const [span] = named(exporter, SpanNames.RetryAttempt);
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain string' });
    expect(exceptionOf(span as ReadableSpan)?.['exception.message']).toBe('plain string');
  });

  it('marks a span as failed whatever was thrown, even a value that cannot become a string', async () => {
    const breaker = new CircuitBreaker({ tracer, readyToTrip: () => false });
    const unprintable = Object.create(null) as object;
    const badMessage = new Error('hidden');
    Object.defineProperty(badMessage, 'message', {
      get() {
        throw new Error('message getter');
      },
    });
    for (const thrown of [unprintable, badMessage]) {
      expect(await breaker.execute(() => Promise.reject(thrown)).catch((e: unknown) => e)).toBe(thrown);
    }
    expect(named(exporter, SpanNames.CircuitBreaker).map((s) => s.status)).toEqual([
      { code: SpanStatusCode.ERROR, message: '[object Object]' },
      { code: SpanStatusCode.ERROR, message: '[object Error]' },
    ]);
  });

  it('keeps working when a sampler drops every span: same results, nothing exported', async () => {
    const dropping = droppingTracing();
    const quiet = resilienceTracer(dropping.provider);
    const breaker = new CircuitBreaker<number>({ tracer: quiet });
    const retry = new Retry<number>({ tracer: quiet, maxAttempts: 2, initialDelay: 0 });
    let n = 0;
    expect(await retry.execute(() => breaker.execute(() => (++n === 1 ? Promise.reject(new Error('x')) : n)))).toBe(2);
    expect(dropping.exporter.getFinishedSpans()).toEqual([]);
  });

  it('takes the global provider by default and names a provider that is not one', () => {
    expect(typeof resilienceTracer().startActiveSpan).toBe('function');
    expect(() => resilienceTracer(null as never)).toThrow(
      'resilienceTracer: provider must be an OpenTelemetry TracerProvider (with getTracer()), got null',
    );
    expect(() => resilienceTracer({} as never)).toThrow(/provider must be .*got object/);
  });

  it('names every span and attribute the patterns emit in SpanNames and AttributeNames', async () => {
    const fail = (): Promise<never> => Promise.reject(new Error('down'));
    const patterns: { execute(fn: () => unknown): Promise<unknown> }[] = [
      new CircuitBreaker({ tracer, readyToTrip: () => true }),
      new Retry({ tracer, maxAttempts: 2, initialDelay: 0 }),
      new Timeout({ tracer, defaultTimeout: 1000 }),
      new Bulkhead({ tracer, maxConcurrent: 1 }),
      new RateLimiter({ tracer, rate: 1, interval: 60_000 }),
      new Fallback({ tracer, fallback: () => 'fallback' }),
    ];
    for (const pattern of patterns) {
      await pattern.execute(() => 'ok').catch(() => {});
      await pattern.execute(fail).catch(() => {});
      await pattern.execute(fail).catch(() => {});
    }
    const spans = exporter.getFinishedSpans();
    expect(new Set(spans.map((s) => s.name))).toEqual(new Set(Object.values(SpanNames)));
    const keys = new Set(spans.flatMap((s) => Object.keys(s.attributes)));
    expect(keys).toEqual(new Set(Object.values(AttributeNames).filter((k) => k !== AttributeNames.Outcome)));
    const fallback = named(exporter, SpanNames.Fallback);
    expect(fallback.map((s) => s.attributes[AttributeNames.FallbackUsed])).toEqual([undefined, true, true]);
  });

  it('leaves the caller context as it was after a call, in success and failure', async () => {
    const breaker = new CircuitBreaker({ tracer });
    const outer = tracer.startSpan('outer');
    await context.with(trace.setSpan(context.active(), outer), async () => {
      await breaker.execute(() => 1);
      await breaker.execute(() => Promise.reject(new Error('no'))).catch(() => {});
      expect(trace.getActiveSpan()).toBe(outer);
    });
    outer.end();
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
