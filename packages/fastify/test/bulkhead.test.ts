import http from 'node:http';
import { Bulkhead } from '@resilience/core';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, routeHooks, timeout } from '../src/index.js';
import { type Client, client, gate, transports, until } from './helpers.js';

describe.each(transports)('bulkhead over %s', (transport) => {
  let c: Client | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('runs maxConcurrent at once, queues maxQueue, answers the rest 503 with Retry-After, and frees every slot', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const app = Fastify();
    await app.register(bulkhead(bh));
    const release = gate();
    let running = 0;
    let most = 0;
    app.get('/', async () => {
      running++;
      most = Math.max(most, running);
      await release.promise;
      running--;
      return 'ok';
    });
    c = await client(app, transport);
    const first = c.request();
    const second = c.request();
    await until(() => bh.active === 1 && bh.queued === 1);
    const third = await c.request();
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('1');
    expect(JSON.parse(third.body)).toEqual({ error: 'overloaded', message: 'The service is busy. Try again later.' });
    release.open();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(most).toBe(1);
    await until(() => bh.active === 0 && bh.queued === 0);
  });

  it('bounds the queue wait with an outer timeout, and retryAfter false sends no header', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const app = Fastify();
    const release = gate();
    app.get('/', { ...routeHooks(timeout(30), bulkhead(bh, { retryAfter: false })) }, async () => {
      await release.promise;
      return 'ok';
    });
    c = await client(app, transport);
    const first = c.request();
    await until(() => bh.active === 1);
    const queued = await c.request();
    expect(queued.status).toBe(503);
    expect(JSON.parse(queued.body).error).toBe('timeout');
    expect(bh.queued).toBe(0);
    release.open();
    await first;
  });
});

describe('bulkhead over real HTTP', () => {
  it('lets a queued client that disconnects leave the queue at once', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const app = Fastify();
    await app.register(bulkhead(bh));
    const release = gate();
    app.get('/', async () => {
      await release.promise;
      return 'ok';
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const first = fetch(url);
    await until(() => bh.active === 1);
    const req = http.get(url);
    req.on('error', () => {});
    await until(() => bh.queued === 1);
    req.destroy();
    await until(() => bh.queued === 0);
    release.open();
    expect((await first).status).toBe(200);
    await until(() => bh.active === 0);
    await app.close();
  });
});

describe('bulkhead construction', () => {
  it('refuses bad arguments', () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    expect(() => bulkhead(undefined as never)).toThrow('bulkhead: bh must have an execute() method, got undefined');
    expect(() => bulkhead(bh, { retryAfter: -1 })).toThrow(
      'bulkhead: retryAfter must be an integer >= 0 or false, got -1',
    );
    expect(() => bulkhead(bh, { statusCode: 600 })).toThrow('statusCode');
    expect(() => bulkhead(bh, { maxQueue: 1 } as never)).toThrow('bulkhead: unknown option "maxQueue"');
  });
});
