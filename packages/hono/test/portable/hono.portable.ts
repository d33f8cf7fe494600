// Smoke test of the BUILT @resilience/hono (with the built core and http) on
// Node, Bun and Deno: a Hono app with each middleware, exercised through
// app.request(), and the rate limit keyed by the runtime's own getConnInfo
// behind a real loopback server. Run by `pnpm test:runtimes bun deno portable`.
import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { bulkhead, circuitBreaker, rateLimit, timeout } from '@resilience/hono';
import { type Context, Hono } from 'hono';
import { describe, expect, it, runtime } from '../../../core/test/portable/harness.ts';

type GetConnInfo = (c: Context) => { remote: { address?: string } };

/** The runtime's own getConnInfo, loaded by name: `hono/bun` exists only for Bun, `hono/deno` for Deno. */
async function runtimeConnInfo(): Promise<GetConnInfo> {
  const name = { bun: 'hono/bun', deno: 'hono/deno', node: '@hono/node-server/conninfo' }[runtime];
  return ((await import(name)) as { getConnInfo: GetConnInfo }).getConnInfo;
}

/** Serves `app` on 127.0.0.1 port 0 with the runtime's own server; returns its URL and a close function. */
async function serve(app: Hono): Promise<{ url: string; close: () => Promise<void> }> {
  const g = globalThis as Record<string, unknown>;
  if (runtime === 'bun') {
    const Bun = g.Bun as {
      serve(o: object): { port: number; stop(force?: boolean): Promise<void> | void };
    };
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
    return { url: `http://127.0.0.1:${server.port}`, close: async () => void (await server.stop(true)) };
  }
  if (runtime === 'deno') {
    const Deno = g.Deno as {
      serve(o: object, h: unknown): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
    };
    const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, app.fetch);
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      close: async () => {
        await server.shutdown();
        await server.finished;
      },
    };
  }
  const { serve: nodeServe } = (await import('@hono/node-server')) as {
    serve(o: object, listening: (info: { port: number }) => void): { close(cb: () => void): void };
  };
  return new Promise((resolve) => {
    const server = nodeServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

describe(`@resilience/hono (built) on ${runtime}`, () => {
  it('rateLimit with a key: the burst passes with RateLimit headers, then 429 with Retry-After', async () => {
    const limiter = new RateLimiter({ rate: 2, interval: 10_000, clock: new FakeClock() });
    const app = new Hono();
    app.use(rateLimit(limiter, { key: (c) => c.req.header('x-user') ?? 'anonymous' }));
    app.get('/', (c) => c.text('ok'));
    const headers = { 'x-user': 'ann' };
    const first = await app.request('/', { headers });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('ok');
    expect(first.headers.get('ratelimit-policy')).toBe('2;w=10');
    expect(first.headers.get('ratelimit')).toBe('limit=2, remaining=1, reset=5');
    expect((await app.request('/', { headers })).status).toBe(200);
    const refused = await app.request('/', { headers });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('ratelimit')).toBe('limit=2, remaining=0, reset=10');
    expect(await refused.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
    // Another key has its own tokens.
    expect((await app.request('/', { headers: { 'x-user': 'bob' } })).status).toBe(200);
  });

  it("rateLimit with the runtime's getConnInfo: keyed by the client address over a real server", async () => {
    const getConnInfo = await runtimeConnInfo();
    const limiter = new RateLimiter({ rate: 1, interval: 10_000, clock: new FakeClock() });
    const app = new Hono();
    app.use(rateLimit(limiter, { getConnInfo }));
    app.get('/', (c) => c.text(getConnInfo(c).remote.address ?? 'none'));
    const server = await serve(app);
    try {
      const first = await fetch(`${server.url}/`);
      expect(first.status).toBe(200);
      expect(await first.text()).toBe('127.0.0.1');
      expect(first.headers.get('ratelimit')).toBe('limit=1, remaining=0, reset=10');
      const refused = await fetch(`${server.url}/`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('10');
      await refused.body?.cancel();
    } finally {
      await server.close();
    }
  });

  it('rateLimit with getConnInfo but no connection (app.request) fails with an error asking for key', async () => {
    const getConnInfo = await runtimeConnInfo();
    const app = new Hono();
    let seen: unknown;
    app.onError((err, c) => {
      seen = err;
      return c.text('error', 500);
    });
    app.use(rateLimit(new RateLimiter({ rate: 5, interval: 1_000, clock: new FakeClock() }), { getConnInfo }));
    app.get('/', (c) => c.text('ok'));
    const res = await app.request('/');
    expect(res.status).toBe(500);
    await res.body?.cancel();
    expect(seen).toBeInstanceOf(TypeError);
    expect(/give a key\(c\) function/.test((seen as Error).message)).toBe(true);
  });

  it('circuitBreaker opens on 5xx answers and then answers 503 with Retry-After without running the handler', async () => {
    const breaker = new CircuitBreaker({
      clock: new FakeClock(),
      timeout: 30_000,
      readyToTrip: (counts) => counts.consecutiveFailures >= 2,
    });
    const app = new Hono();
    app.use(circuitBreaker(breaker));
    let calls = 0;
    app.get('/', (c) => {
      calls++;
      return c.text('bad gateway', 502);
    });
    expect((await app.request('/')).status).toBe(502);
    expect((await app.request('/')).status).toBe(502);
    const open = await app.request('/');
    expect(open.status).toBe(503);
    expect(open.headers.get('retry-after')).toBe('30');
    await open.body?.cancel();
    expect(calls).toBe(2);
  });

  it('timeout answers 503 and aborts the signal the handler was given', async () => {
    const app = new Hono();
    let aborted: Promise<boolean> | undefined;
    app.get('/slow', timeout(20), (c) => {
      const signal = c.var.signal;
      aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(true), { once: true }));
      // Settles once the middleware gave up on it, so nothing stays pending.
      return aborted.then(() => c.text('too late'));
    });
    const res = await app.request('/slow');
    expect(res.status).toBe(503);
    await res.body?.cancel();
    expect(await aborted).toBe(true);
  });

  it('bulkhead answers 503 while full and admits again once a slot is free', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const app = new Hono();
    app.use(bulkhead(bh));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    app.get('/hold', async (c) => {
      entered();
      await gate;
      return c.text('held');
    });
    app.get('/', (c) => c.text('ok'));
    const held = app.request('/hold');
    await inside;
    const full = await app.request('/');
    expect(full.status).toBe(503);
    await full.body?.cancel();
    release();
    expect(await (await held).text()).toBe('held');
    expect(bh.active).toBe(0);
    expect((await app.request('/')).status).toBe(200);
  });
});
