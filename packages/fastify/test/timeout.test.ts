import net from 'node:net';
import { isTimeoutError, Timeout } from '@resilience/core';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { routeHooks, timeout } from '../src/index.js';
import { type Client, client, gate, transports, until } from './helpers.js';

/** A Fastify logger stream that keeps every record. */
function logStream() {
  const records: Array<{ level: number; msg: string }> = [];
  return { records, stream: { write: (line: string) => records.push(JSON.parse(line)) } };
}

describe.each(transports)('timeout over %s', (transport) => {
  let c: Client | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('answers 503 when time is up, aborts request.signal with a TimeoutError, and a late answer writes nothing', async () => {
    const logs = logStream();
    const app = Fastify({ logger: { level: 'warn', stream: logs.stream } });
    await app.register(timeout(30));
    let reason: unknown;
    const finished = gate();
    app.get('/', async (request, reply) => {
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
      reason = request.signal.reason;
      reply.header('x-late', '1');
      setTimeout(() => finished.open(), 5);
      return 'late';
    });
    c = await client(app, transport);
    const res = await c.request();
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
    expect(res.headers['x-late']).toBeUndefined();
    await finished.promise;
    expect(isTimeoutError(reason)).toBe(true);
    expect(logs.records.filter((r) => r.level >= 40)).toEqual([]);
  });

  it('keeps the headers set before it and drops those the handler set', async () => {
    const app = Fastify();
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('x-before', 'kept');
      done();
    });
    await app.register(timeout(20, { statusCode: 504, body: 'too slow' }));
    app.get('/', async (request, reply) => {
      reply.header('cache-control', 'max-age=3600');
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
    });
    c = await client(app, transport);
    const res = await c.request();
    expect(res.status).toBe(504);
    expect(res.body).toBe('too slow');
    expect(res.headers['x-before']).toBe('kept');
    expect(res.headers['cache-control']).toBeUndefined();
  });

  it('lets a request in time through, with a live signal', async () => {
    const app = Fastify();
    app.get('/', { ...routeHooks(timeout(new Timeout({ defaultTimeout: 5_000 }))) }, async (request) => ({
      aborted: request.signal.aborted,
      own: Object.hasOwn(request, 'signal'),
    }));
    c = await client(app, transport);
    const res = await c.request();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ aborted: false, own: true });
  });

  it('leaves an answer that had started to the handler', async () => {
    const app = Fastify();
    await app.register(timeout(20));
    app.get('/', (request, reply) => {
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.write('partial ');
      reply.hijack();
      request.signal.addEventListener('abort', () => reply.raw.end('end'));
    });
    c = await client(app, transport);
    const res = await c.request();
    expect(res.status).toBe(200);
    expect(res.body).toBe('partial end');
  });
});

describe('timeout over real HTTP', () => {
  it('aborts request.signal when the client disconnects', async () => {
    const app = Fastify();
    await app.register(timeout(5_000));
    let reason: unknown;
    const started = gate();
    app.get('/', async (request) => {
      started.open();
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
      reason = request.signal.reason;
      return 'gone';
    });
    const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
    const socket = net.connect(Number(url.port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await started.promise;
    socket.destroy();
    await until(() => reason !== undefined);
    expect((reason as Error).name).toBe('AbortError');
    await app.close();
  });

  it('closes the connection when the body has not fully arrived', async () => {
    const app = Fastify();
    await app.register(timeout(30));
    app.post('/', async (request) => request.body);
    const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
    const socket = net.connect(Number(url.port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part');
    await closed;
    expect(text).toMatch(/^HTTP\/1.1 503/);
    expect(text.toLowerCase()).toContain('connection: close');
    await app.close();
  });
});

describe('timeout construction', () => {
  it('refuses bad arguments', () => {
    expect(() => timeout(0)).toThrow('timeout: ms must be a finite number > 0, got 0');
    expect(() => timeout(Number.NaN)).toThrow('timeout: ms must be a finite number > 0, got NaN');
    expect(() => timeout({} as never)).toThrow('timeout: msOrTimeout must have an execute() method, got an object');
    expect(() => timeout(10, { statusCode: 302 })).toThrow('statusCode');
    expect(() => timeout(10, { status: 504 } as never)).toThrow('timeout: unknown option "status"');
  });
});
