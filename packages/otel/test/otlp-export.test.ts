import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pipeline } from '@resilience/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resilienceTracer, SpanNames } from '../src/index.js';
import { installContextManager } from './tracing.js';

/** A span as OTLP/JSON carries it (ids in hex, attributes as typed key/values). */
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  status?: { code?: number; message?: string };
  attributes?: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
  events?: { name: string }[];
}

interface ExportRequest {
  resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (value?.intValue !== undefined) return Number(value.intValue);
  return value?.stringValue;
}

describe('OTLP/HTTP export to a collector (a node:http receiver on loopback)', () => {
  const requests: { path: string; contentType: string; body: ExportRequest }[] = [];
  const receiver = createServer(async (req, res) => {
    const body = await bodyOf(req);
    requests.push({
      path: req.url ?? '',
      contentType: req.headers['content-type'] ?? '',
      body: JSON.parse(body.toString('utf8')) as ExportRequest,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  let url = '';

  beforeAll(async () => {
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(() => receiver.close());

  it('delivers one span per attempt and the breaker spans, linked to their parents', async () => {
    installContextManager();
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
    });
    const tracer = resilienceTracer(provider);
    const policy = pipeline<string>()
      .retry({ name: 'catalog', maxAttempts: 3, initialDelay: 1, tracer })
      .circuitBreaker({ name: 'catalog', tracer })
      .build();
    let calls = 0;
    await tracer.startActiveSpan('GET /products', async (root) => {
      await policy.execute(() => (++calls < 2 ? Promise.reject(new Error('503 from catalog')) : 'ok'));
      root.end();
    });
    await provider.forceFlush();
    await provider.shutdown();

    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json'))).toBe(true);
    const spans = requests.flatMap((r) =>
      r.body.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, scope: ss.scope.name }))),
      ),
    );
    const root = spans.find((s) => s.name === 'GET /products');
    const attempts = spans.filter((s) => s.name === SpanNames.RetryAttempt);
    const breakers = spans.filter((s) => s.name === SpanNames.CircuitBreaker);
    expect(root).toBeDefined();
    expect(attempts).toHaveLength(2);
    expect(breakers).toHaveLength(2);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root?.traceId]));
    expect(attempts.map((a) => a.parentSpanId)).toEqual([root?.spanId, root?.spanId]);
    expect(attempts.map((a) => attribute(a, 'resilience.retry.attempt')).sort()).toEqual([1, 2]);
    for (const breaker of breakers) {
      const parent = attempts.find((a) => a.spanId === breaker.parentSpanId);
      expect(parent).toBeDefined();
      expect(attribute(breaker, 'resilience.name')).toBe('catalog');
      expect(attribute(breaker, 'resilience.circuit_breaker.state')).toBe('closed');
      expect(breaker.scope).toBe('@resilience/otel');
    }
    const failed = attempts.find((a) => attribute(a, 'resilience.retry.attempt') === 1);
    expect(failed?.status?.code).toBe(2); // STATUS_CODE_ERROR
    expect(failed?.status?.message).toBe('503 from catalog');
    expect(failed?.events?.map((e) => e.name)).toEqual(['exception']);
  });
});
