import http from 'node:http';
import { CircuitBreaker } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type CircuitBreakerLike, type CircuitPermitLike, circuitBreaker, routeHooks, timeout } from '../src/index.js';
import { type Client, client, gate, transports, until } from './helpers.js';

type Report = 'success' | 'failure' | 'ignore';

/** A breaker whose permits note how each call was reported. */
function recordingBreaker(reports: Report[]): CircuitBreakerLike {
  return {
    acquire: (): CircuitPermitLike => ({
      success: () => reports.push('success'),
      failure: () => reports.push('failure'),
      ignore: () => reports.push('ignore'),
    }),
  };
}

describe.each(transports)('circuitBreaker over %s', (transport) => {
  let c: Client | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('counts 5xx as failures, opens, and answers 503 with Retry-After without running the handler', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      clock,
      timeout: 30_000,
      readyToTrip: (counts) => counts.consecutiveFailures >= 2,
    });
    const app = Fastify();
    await app.register(circuitBreaker(breaker));
    let calls = 0;
    app.get('/', async (_request, reply) => {
      calls++;
      return reply.code(502).send('bad gateway');
    });
    c = await client(app, transport);
    expect((await c.request()).status).toBe(502);
    expect((await c.request()).status).toBe(502);
    await until(() => breaker.state === 'open');
    const rejected = await c.request();
    expect(rejected.status).toBe(503);
    expect(rejected.headers['retry-after']).toBe('30');
    expect(JSON.parse(rejected.body)).toEqual({
      error: 'service_unavailable',
      message: 'The service is temporarily unavailable. Try again later.',
    });
    expect(calls).toBe(2);
  });

  it('counts 4xx as success, failureStatuses as given, and errors as failures whatever the error handler answers', async () => {
    const reports: Report[] = [];
    const app = Fastify();
    await app.register(circuitBreaker(recordingBreaker(reports), { failureStatuses: [429, 500] }));
    app.setErrorHandler((_err, _request, reply) => reply.code(400).send('handled'));
    app.get('/404', async (_request, reply) => reply.code(404).send('nope'));
    app.get('/429', async (_request, reply) => reply.code(429).send('busy'));
    app.get('/503', async (_request, reply) => reply.code(503).send('down'));
    app.get('/throw', async () => {
      throw new Error('boom');
    });
    c = await client(app, transport);
    for (const url of ['/404', '/429', '/503', '/throw']) await c.request({ url });
    await until(() => reports.length === 4);
    expect(reports).toEqual(['success', 'failure', 'success', 'failure']);
  });

  it('counts a timeout answer inside it as a failure', async () => {
    const reports: Report[] = [];
    const app = Fastify();
    const hooks = routeHooks(circuitBreaker(recordingBreaker(reports)), timeout(20));
    app.get('/', { ...hooks }, async (request) => {
      await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
      return 'late';
    });
    c = await client(app, transport);
    expect((await c.request()).status).toBe(503);
    await until(() => reports.length === 1);
    expect(reports).toEqual(['failure']);
  });
});

describe('circuitBreaker and a client that disconnects', () => {
  it('ignores the call (a half-open probe slot is freed), over real HTTP', async () => {
    const reports: Report[] = [];
    const app = Fastify();
    await app.register(circuitBreaker(recordingBreaker(reports)));
    const started = gate();
    const release = gate();
    app.get('/', async () => {
      started.open();
      await release.promise;
      return 'late';
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const req = http.get(url);
    req.on('error', () => {});
    await started.promise;
    req.destroy();
    await until(() => reports.length === 1);
    expect(reports).toEqual(['ignore']);
    release.open();
    await app.close();
    expect(reports).toEqual(['ignore']);
  });

  it('frees the half-open slot of a real breaker when the probe client goes away', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, timeout: 1_000, readyToTrip: () => true });
    const app = Fastify();
    await app.register(circuitBreaker(breaker));
    const started = gate();
    app.get('/fail', async (_request, reply) => reply.code(500).send('x'));
    app.get('/slow', async () => {
      started.open();
      await new Promise(() => {});
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await fetch(`${url}/fail`);
    await until(() => breaker.state === 'open');
    await clock.advance(1_500);
    expect(breaker.state).toBe('half-open');
    const req = http.get(`${url}/slow`);
    req.on('error', () => {});
    await started.promise;
    expect((await fetch(`${url}/fail`)).status).toBe(503);
    req.destroy();
    // The probe was ignored: the next request is admitted as a probe.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await fetch(`${url}/fail`);
    expect(res.status).toBe(500);
    await app.close();
  });
});

describe('circuitBreaker construction', () => {
  it('refuses bad arguments with the option and value named', () => {
    const breaker = new CircuitBreaker({});
    expect(() => circuitBreaker({} as CircuitBreakerLike)).toThrow(
      'circuitBreaker: breaker must have an acquire() method, got an object',
    );
    expect(() => circuitBreaker(breaker, { statusCode: 200 })).toThrow('statusCode');
    expect(() => circuitBreaker(breaker, { failureStatuses: ['500'] as never })).toThrow(
      'circuitBreaker: failureStatuses[0] must be a status code (an integer from 100 to 999), got "500"',
    );
    expect(() => circuitBreaker(breaker, { resetTimeout: 1 } as never)).toThrow(
      'circuitBreaker: unknown option "resetTimeout"',
    );
  });
});

describe('circuitBreaker and predicates that return promises', () => {
  it('counts the call as a failure and never leaves a rejection unhandled', async () => {
    const reports: Report[] = [];
    const app = Fastify();
    await app.register(
      circuitBreaker(recordingBreaker(reports), {
        failureStatuses: (async () => Promise.reject(new Error('lookup failed'))) as never,
        isFailureError: (async () => Promise.reject(new Error('lookup failed'))) as never,
      }),
    );
    app.get('/', async () => 'ok');
    app.get('/throw', async () => {
      throw new Error('boom');
    });
    expect((await app.inject('/')).statusCode).toBe(200);
    expect((await app.inject('/throw')).statusCode).toBe(500);
    await until(() => reports.length === 2);
    expect(reports).toEqual(['failure', 'failure']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await app.close();
  });
});
