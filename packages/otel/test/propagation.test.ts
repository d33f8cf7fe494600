import { once } from 'node:events';
import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { CircuitBreaker } from '@resilience/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  extractGrpcMetadata,
  extractHttpHeaders,
  injectGrpcMetadata,
  injectHttpHeaders,
  resilienceTracer,
  setupPropagation,
} from '../src/index.js';
import { named, parentOf, tracing } from './tracing.js';

const { provider, exporter } = tracing();
const tracer = resilienceTracer(provider);
setupPropagation();

afterAll(() => propagation.disable());

describe('setupPropagation', () => {
  it('installs W3C trace context and baggage, and leaves them in place when called again', () => {
    expect(setupPropagation()).toBe(propagation);
    expect(setupPropagation()).toBe(propagation);
    expect(propagation.fields()).toEqual(expect.arrayContaining(['traceparent', 'tracestate', 'baggage']));
  });

  it('refuses to replace a propagator someone else installed unless told to', () => {
    propagation.disable();
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    expect(() => setupPropagation()).toThrow(
      /fields \[traceparent, tracestate\] is already installed .*override: true/,
    );
    expect(propagation.fields()).not.toContain('baggage');
    setupPropagation({ override: true });
    expect(propagation.fields()).toContain('baggage');
    expect(() => setupPropagation()).not.toThrow();
    expect(() => setupPropagation({ override: 'yes' as never })).toThrow(/override must be a boolean, got string/);
  });
});

describe('HTTP headers over a real server', () => {
  beforeEach(() => setupPropagation({ override: true }));

  it('carries the trace and baggage from a traced call to the server, whose spans become children', async () => {
    const server = createServer((req, res) => {
      const incoming = extractHttpHeaders(req.headers);
      context.with(incoming, () => {
        const span = tracer.startSpan('server.handle');
        const member = propagation.getBaggage(context.active())?.getEntry('tenant');
        span.end();
        res.end(JSON.stringify({ tenant: member?.value ?? null }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const breaker = new CircuitBreaker<string>({ name: 'upstream', tracer });
      const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
      const body = await context.with(propagation.setBaggage(context.active(), baggage), () =>
        breaker.execute(
          () =>
            new Promise<string>((resolve, reject) => {
              get(
                `http://127.0.0.1:${port}/`,
                { headers: injectHttpHeaders({ accept: 'application/json' }) },
                (res) => {
                  let text = '';
                  res.on('data', (chunk: Buffer) => (text += chunk.toString()));
                  res.on('end', () => resolve(text));
                },
              ).on('error', reject);
            }),
        ),
      );
      expect(JSON.parse(body)).toEqual({ tenant: 'acme' });
      const [client] = named(exporter, 'resilience.circuit_breaker');
      const [handled] = named(exporter, 'server.handle');
      expect(handled?.spanContext().traceId).toBe(client?.spanContext().traceId);
      expect(parentOf(handled!)).toBe(client?.spanContext().spanId);
    } finally {
      server.close();
    }
  });

  it('writes into web Headers and objects with setHeader, and reads web Headers and mixed-case keys', () => {
    const span = tracer.startSpan('client');
    const ctx = trace.setSpan(context.active(), span);
    const web = injectHttpHeaders(new Headers(), ctx);
    const traceparent = web.get('traceparent');
    expect(traceparent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-${span.spanContext().spanId}-0[01]$`));
    const written: Record<string, string> = {};
    injectHttpHeaders({ setHeader: (name: string, value: string) => (written[name] = value) }, ctx);
    expect(written.traceparent).toBe(traceparent);
    expect(injectHttpHeaders(undefined, ctx)).toEqual({ traceparent });

    for (const headers of [web, { Traceparent: traceparent }, { traceparent: [traceparent] } as IncomingHttpHeaders]) {
      const extracted = trace.getSpanContext(extractHttpHeaders(headers as never));
      expect(extracted?.spanId).toBe(span.spanContext().spanId);
      expect(extracted?.isRemote).toBe(true);
    }
    expect(trace.getSpanContext(extractHttpHeaders({}))).toBeUndefined();
    span.end();
  });

  it("reaches the server through fetch's [name, value] pairs, and replaces a header given in another case", async () => {
    const server = createServer((req, res) => res.end(JSON.stringify(req.headers)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const stale = '00-11111111111111111111111111111111-2222222222222222-01';
    const span = tracer.startSpan('client');
    const ctx = trace.setSpan(context.active(), span);
    const expected = `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
    try {
      const sent = async (headers: NonNullable<RequestInit['headers']>): Promise<IncomingHttpHeaders> =>
        (await (await fetch(url, { headers })).json()) as IncomingHttpHeaders;
      const pairs = injectHttpHeaders<[string, string][]>(
        [
          ['accept', 'application/json'],
          ['TraceParent', stale],
        ],
        ctx,
      );
      expect(pairs).toEqual([
        ['accept', 'application/json'],
        ['traceparent', expected],
      ]);
      expect((await sent(pairs)).traceparent).toBe(expected);
      const record = injectHttpHeaders({ Traceparent: stale, accept: 'text/plain' }, ctx);
      expect(record).toEqual({ accept: 'text/plain', traceparent: expected });
      expect((await sent(record)).traceparent).toBe(expected);
    } finally {
      span.end();
      server.close();
    }
  });

  it('reads the headers of a Node request or a web Request passed in their place', async () => {
    const span = tracer.startSpan('client');
    const ctx = trace.setSpan(context.active(), span);
    const { traceparent } = injectHttpHeaders<Record<string, string>>({}, ctx);
    let seen: string | undefined;
    const server = createServer((req, res) => {
      seen = trace.getSpanContext(extractHttpHeaders(req))?.spanId;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      await fetch(url, { headers: injectHttpHeaders({}, ctx) });
      expect(seen).toBe(span.spanContext().spanId);
      const request = new Request(url, { headers: { traceparent: traceparent ?? '' } });
      expect(trace.getSpanContext(extractHttpHeaders(request))?.spanId).toBe(span.spanContext().spanId);
      // A header named "headers" is a string (or an array), never taken for the request's headers.
      const record = { headers: ['x'], traceparent: traceparent ?? '' };
      expect(trace.getSpanContext(extractHttpHeaders(record))?.spanId).toBe(span.spanContext().spanId);
    } finally {
      span.end();
      server.close();
    }
  });

  it('names the field when given no headers', () => {
    expect(() => extractHttpHeaders(null as never)).toThrow('extractHttpHeaders: headers must be an object, got null');
    expect(() => injectHttpHeaders('x' as never)).toThrow('injectHttpHeaders: headers must be an object, got string');
    expect(() => injectGrpcMetadata({} as never)).toThrow(/injectGrpcMetadata: metadata must be a grpc Metadata/);
    expect(() => extractGrpcMetadata(undefined as never)).toThrow(
      /extractGrpcMetadata: metadata must be .*got undefined/,
    );
  });
});

describe('carrier keys, for propagators that enumerate them', () => {
  it('lists the keys of Node headers, web Headers and grpc Metadata', () => {
    const seen: string[][] = [];
    const listing: TextMapPropagator = {
      inject() {},
      extract(ctx, carrier, getter) {
        seen.push([...getter.keys(carrier)].sort());
        return ctx;
      },
      fields: () => [],
    };
    propagation.disable();
    propagation.setGlobalPropagator(listing);
    try {
      extractHttpHeaders({ 'x-b': '1', 'x-a': ['2'] });
      extractHttpHeaders(new Headers({ 'X-Web': '1' }));
      const metadata = new grpc.Metadata();
      metadata.set('x-grpc', '1');
      extractGrpcMetadata(metadata);
      extractGrpcMetadata({ get: () => [], set: () => {} });
    } finally {
      propagation.disable();
      setupPropagation();
    }
    expect(seen).toEqual([['x-a', 'x-b'], ['x-web'], ['x-grpc'], []]);
  });
});

describe('gRPC metadata over a real grpc-js server', () => {
  const service: grpc.ServiceDefinition = {
    echo: {
      path: '/test.Echo/Echo',
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (value: Buffer) => value,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  };

  it('carries the trace from a client interceptor to the server handler', async () => {
    const server = new grpc.Server();
    server.addService(service, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        context.with(extractGrpcMetadata(call.metadata), () => {
          tracer.startSpan('grpc.server').end();
          callback(null, call.request);
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    const tracing: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          next(injectGrpcMetadata(metadata), listener);
        },
      });
    const Client = grpc.makeGenericClientConstructor(service, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: [tracing] });
    try {
      const breaker = new CircuitBreaker<Buffer>({ name: 'echo', tracer });
      const reply = await breaker.execute(
        () =>
          new Promise<Buffer>((resolve, reject) =>
            (
              client as unknown as Record<string, (req: Buffer, cb: (err: Error | null, res: Buffer) => void) => void>
            ).echo?.(Buffer.from('hi'), (err, res) => (err ? reject(err) : resolve(res))),
          ),
      );
      expect(reply.toString()).toBe('hi');
      const [call] = named(exporter, 'resilience.circuit_breaker').slice(-1);
      const [handled] = named(exporter, 'grpc.server');
      expect(parentOf(handled!)).toBe(call?.spanContext().spanId);
      expect(handled?.spanContext().traceId).toBe(call?.spanContext().traceId);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('round-trips through a Metadata object directly', () => {
    const span = tracer.startSpan('client');
    const metadata = injectGrpcMetadata(new grpc.Metadata(), trace.setSpan(context.active(), span));
    expect(metadata.get('traceparent')).toHaveLength(1);
    expect(trace.getSpanContext(extractGrpcMetadata(metadata))?.spanId).toBe(span.spanContext().spanId);
    expect(trace.getSpanContext(extractGrpcMetadata(new grpc.Metadata()))).toBeUndefined();
    span.end();
  });
});
