import { RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import Fastify, { type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type RateLimiterLike, rateLimit, routeHooks } from '../src/index.js';
import { fastifyProxyProbe } from '../src/internal/proxy.js';
import { type Client, client, memoryLogger, transports } from './helpers.js';

describe.each(transports)('rateLimit over %s', (transport) => {
  let c: Client | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  function limiter(burst = 2) {
    return new RateLimiter({ rate: burst, interval: 10_000, clock: new FakeClock() });
  }

  async function start(plugin: ReturnType<typeof rateLimit>, trustProxy?: boolean | string) {
    const app = Fastify(trustProxy === undefined ? {} : { trustProxy });
    await app.register(plugin);
    app.get('/', async () => 'ok');
    c = await client(app, transport);
    return c;
  }

  it('lets the burst through with draft-7 headers, then answers 429 with Retry-After', async () => {
    const api = await start(rateLimit(limiter(2), { validate: false }));
    const first = await api.request();
    expect(first.status).toBe(200);
    expect(first.body).toBe('ok');
    expect(first.headers['ratelimit-policy']).toBe('2;w=10');
    expect(first.headers.ratelimit).toBe('limit=2, remaining=1, reset=5');
    expect((await api.request()).status).toBe(200);
    const refused = await api.request();
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers.ratelimit).toBe('limit=2, remaining=0, reset=10');
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(refused.body)).toEqual({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
  });

  it('writes draft-8 and legacy headers, or none', async () => {
    const api = await start(
      rateLimit(limiter(5), { standardHeaders: 'draft-8', legacyHeaders: true, validate: false }),
    );
    const res = await api.request();
    expect(res.headers['ratelimit-policy']).toBe('"default";q=5;w=10');
    expect(res.headers.ratelimit).toBe('"default";r=4;t=2');
    expect(res.headers['x-ratelimit-limit']).toBe('5');
    expect(res.headers['x-ratelimit-remaining']).toBe('4');
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    await c?.close();
    const none = await start(rateLimit(limiter(5), { standardHeaders: false, validate: false }));
    const bare = await none.request();
    expect(bare.headers.ratelimit).toBeUndefined();
    expect(bare.headers['ratelimit-policy']).toBeUndefined();
  });

  it('takes a custom key, cost, skip, status and body', async () => {
    const api = await start(
      rateLimit(limiter(3), {
        key: (request) => String(request.headers['x-user'] ?? 'anon'),
        cost: (request) => (request.headers['x-heavy'] === '1' ? 3 : 1),
        skip: (request) => request.headers['x-skip'] === '1',
        statusCode: 503,
        body: (request) => `slow down, ${String(request.headers['x-user'])}`,
        validate: false,
      }),
    );
    expect((await api.request({ headers: { 'x-user': 'a', 'x-heavy': '1' } })).status).toBe(200);
    const refused = await api.request({ headers: { 'x-user': 'a' } });
    expect(refused.status).toBe(503);
    expect(refused.body).toBe('slow down, a');
    expect(refused.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await api.request({ headers: { 'x-user': 'b' } })).status).toBe(200);
    const skipped = await api.request({ headers: { 'x-user': 'a', 'x-skip': '1' } });
    expect(skipped.status).toBe(200);
    expect(skipped.headers.ratelimit).toBeUndefined();
  });

  it('answers a cost above the burst 429 without Retry-After, and a bad cost with the error handler', async () => {
    const api = await start(
      rateLimit(limiter(2), {
        cost: (request) => Number(request.headers['x-cost']),
        validate: false,
      }),
    );
    const tooMuch = await api.request({ headers: { 'x-cost': '3' } });
    expect(tooMuch.status).toBe(429);
    expect(tooMuch.headers['retry-after']).toBeUndefined();
    const bad = await api.request({ headers: { 'x-cost': 'NaN' } });
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.body).message).toBe('rateLimit: cost(request) must return a finite number > 0, got NaN');
  });

  it('works with a limiter that answers with promises', async () => {
    const inner = limiter(1);
    const remote: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: async (key, tokens) => {
        await new Promise((resolve) => setImmediate(resolve));
        return inner.consume(key, tokens);
      },
    };
    const api = await start(rateLimit(remote, { validate: false }));
    expect((await api.request()).status).toBe(200);
    expect((await api.request()).status).toBe(429);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('redis down');
      },
    ],
    ['rejects', () => Promise.reject(new Error('redis down'))],
    ['hangs', () => new Promise<never>(() => {})],
    ['gives garbage', () => ({ allowed: 'yes' })],
  ])('fails open, or closed with 503, when the limiter %s', async (_what, consume) => {
    const broken = { rate: 1, burst: 1, interval: 1000, consume } as unknown as RateLimiterLike;
    const open = memoryLogger();
    const api = await start(rateLimit(broken, { logger: open.logger, limiterTimeout: 20, validate: false }));
    expect((await api.request()).status).toBe(200);
    expect(open.records[0]).toMatchObject({ level: 'error', msg: 'rate limiter failed; letting requests through' });
    await c?.close();
    const closed = memoryLogger();
    const api2 = await start(
      rateLimit(broken, { logger: closed.logger, limiterTimeout: 20, failMode: 'closed', validate: false }),
    );
    const res = await api2.request();
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error).toBe('service_unavailable');
  });

  it('limits only the routes given its hooks', async () => {
    const app = Fastify();
    const limit = rateLimit(limiter(1), { validate: false });
    app.get('/limited', { ...routeHooks(limit) }, async () => 'ok');
    app.get('/free', async () => 'ok');
    c = await client(app, transport);
    expect((await c.request({ url: '/limited' })).status).toBe(200);
    expect((await c.request({ url: '/limited' })).status).toBe(429);
    expect((await c.request({ url: '/free' })).status).toBe(200);
    expect((await c.request({ url: '/free' })).status).toBe(200);
  });

  it('keys one client once behind a proxy that writes the port into X-Forwarded-For (Azure App Service)', async () => {
    const keys: string[] = [];
    const inner = limiter(1);
    const recording: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: (key: string, tokens: number) => {
        keys.push(key);
        return inner.consume(key, tokens);
      },
    };
    const api = await start(rateLimit(recording), '127.0.0.1');
    const from = async (xff: string) => (await api.request({ headers: { 'x-forwarded-for': xff } })).status;
    // A new connection, a new source port: before the fix each one was a fresh key and never limited.
    expect(await from('203.0.113.7:50001')).toBe(200);
    expect(await from('203.0.113.7:50002')).toBe(429);
    expect(await from('[2001:db8:1:2::5]:443')).toBe(200);
    expect(await from('[2001:DB8:1:2::6]:444')).toBe(429);
    expect(await from('[::ffff:203.0.113.7]')).toBe(429);
    expect(keys).toEqual([
      '203.0.113.7',
      '203.0.113.7',
      '2001:db8:1:0:0:0:0:0/56',
      '2001:db8:1:0:0:0:0:0/56',
      '203.0.113.7',
    ]);
  });

  it('warns once when X-Forwarded-For arrives while trustProxy is off, and when trustProxy is true', async () => {
    const off = memoryLogger();
    const api = await start(rateLimit(limiter(10), { logger: off.logger }));
    await api.request();
    expect(off.records).toEqual([]);
    await api.request({ headers: { 'x-forwarded-for': '203.0.113.1' } });
    await api.request({ headers: { 'x-forwarded-for': '203.0.113.1' } });
    expect(off.records.map((r) => r.attrs?.code)).toEqual(['UNEXPECTED_X_FORWARDED_FOR']);
    expect(off.records[0]?.msg).toContain("Fastify's trustProxy option is off");
    await c?.close();
    const permissive = memoryLogger();
    const api2 = await start(rateLimit(limiter(10), { logger: permissive.logger }), true);
    await api2.request({ headers: { 'x-forwarded-for': '203.0.113.1' } });
    await api2.request();
    expect(permissive.records.map((r) => r.attrs?.code)).toEqual(['PERMISSIVE_TRUST_PROXY']);
    await c?.close();
    const hop = memoryLogger();
    const api3 = await start(rateLimit(limiter(10), { logger: hop.logger }), '127.0.0.1');
    await api3.request({ headers: { 'x-forwarded-for': '203.0.113.1' } });
    expect(hop.records).toEqual([]);
  });

  it('warns when trustProxy is a hop count, which Fastify 5.12 and later ignore (every client shares one quota)', async () => {
    const hops = memoryLogger();
    // Fastify's types no longer list a number, but JavaScript (and an Express habit) still passes one.
    const app = Fastify({ trustProxy: 1 as never });
    expect(app.version).toMatch(/^5\.(1[2-9]|[2-9]\d)\./); // the devDependency: a version that fails closed
    await app.register(rateLimit(limiter(10), { logger: hops.logger }));
    app.get('/', async (request) => request.ip);
    c = await client(app, transport);
    const answer = await c.request({ headers: { 'x-forwarded-for': '203.0.113.1' } });
    // Express's `trust proxy: 1` would give 203.0.113.1; Fastify gives the proxy's address, and said nothing.
    expect(answer.body).not.toBe('203.0.113.1');
    expect(hops.records.map((r) => r.attrs)).toEqual([{ code: 'UNEXPECTED_X_FORWARDED_FOR', trustProxy: 1 }]);
    expect(hops.records[0]?.msg).toContain('a hop count such as trustProxy: 1');
  });

  it('reads a hop count as trusting no proxy only from Fastify 5.12 on', () => {
    const on = (version: unknown) => ({ server: { version } }) as unknown as FastifyRequest;
    for (const version of ['5.12.0', '5.12.8', '5.20.1', '6.0.0', undefined, 'dev']) {
      expect(fastifyProxyProbe.isOff(2, on(version)), String(version)).toBe(true);
    }
    for (const version of ['5.0.0', '5.11.9']) expect(fastifyProxyProbe.isOff(2, on(version)), version).toBe(false);
    expect(fastifyProxyProbe.isOff('10.0.0.1', on('5.12.8'))).toBe(false);
    expect(fastifyProxyProbe.isOff(0, on('5.0.0'))).toBe(true);
  });
});

describe('rateLimit keys', () => {
  it('groups IPv6 clients by /56 and keys IPv4-mapped addresses as IPv4 (request.ip)', async () => {
    const keys: string[] = [];
    const inner = new RateLimiter({ rate: 100, interval: 1000 });
    const recording: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: (key, tokens) => {
        keys.push(key);
        return inner.consume(key, tokens);
      },
    };
    const app = Fastify();
    await app.register(rateLimit(recording, { validate: false }));
    app.get('/', async () => 'ok');
    for (const remoteAddress of ['2001:db8:1:2:3:4:5:6', '2001:db8:1:ff::1', '::ffff:198.51.100.7', '198.51.100.8']) {
      await app.inject({ url: '/', remoteAddress });
    }
    expect(keys).toEqual(['2001:db8:1:0:0:0:0:0/56', '2001:db8:1:0:0:0:0:0/56', '198.51.100.7', '198.51.100.8']);
    await app.close();
  });

  it('keys by the proxy-reported address when trustProxy says so', async () => {
    const keys: string[] = [];
    const recording = {
      rate: 100,
      burst: 100,
      interval: 1000,
      consume: (key: string) => {
        keys.push(key);
        return { allowed: true, limit: 100, remaining: 99, resetMs: 10, retryAfterMs: 0 };
      },
    };
    const app = Fastify({ trustProxy: '127.0.0.1' });
    await app.register(rateLimit(recording));
    app.get('/', async () => 'ok');
    await app.inject({ url: '/', headers: { 'x-forwarded-for': '198.51.100.1, 2001:db8:aa:bb::1' } });
    expect(keys).toEqual(['2001:db8:aa:0:0:0:0:0/56']);
    await app.close();
  });
});

describe('rateLimit construction', () => {
  const limiter = new RateLimiter({ rate: 2, interval: 1000 });
  it('refuses bad options with the option and the value named', () => {
    expect(() => rateLimit({} as RateLimiterLike)).toThrow(
      'rateLimit: limiter must have a consume() method, got an object',
    );
    expect(() => rateLimit(limiter, { cost: 3 })).toThrow('rateLimit: cost must be at most limiter.burst (2)');
    expect(() => rateLimit(limiter, { ipv6Subnet: 129 })).toThrow('ipv6Subnet');
    expect(() => rateLimit(limiter, { limiterTimeout: Number.NaN })).toThrow('limiterTimeout');
    expect(() => rateLimit(limiter, { windowMs: 1000 } as never)).toThrow(
      `rateLimit: unknown option "windowMs" (windowMs is the limiter's interval here`,
    );
    expect(() => rateLimit(limiter, { kee: () => 'k' } as never)).toThrow(
      'rateLimit: unknown option "kee" (known options: key, ipv6Subnet',
    );
    expect(() => rateLimit(limiter, { validate: { ip: false } as never })).toThrow('validate has no check named "ip"');
    expect(() => rateLimit(limiter, { logger: { error() {} } as never })).toThrow(
      'rateLimit: logger must have a warn() method',
    );
  });
});

describe('rateLimit plugin and hooks', () => {
  it('applies to routes added before it is registered, and its hooks fit route options as they are', async () => {
    const app = Fastify();
    app.get('/', async () => 'ok');
    await app.register(rateLimit(new RateLimiter({ rate: 1, interval: 60_000 }), { validate: false }));
    expect((await app.inject('/')).statusCode).toBe(200);
    expect((await app.inject('/')).statusCode).toBe(429);
    await app.close();

    const routes = Fastify();
    const limit = rateLimit(new RateLimiter({ rate: 1, interval: 60_000 }), { validate: false });
    expect(limit.hooks.onRequest).not.toBe(limit.hooks.onRequest);
    routes.get('/direct', { ...limit.hooks }, async () => 'ok');
    routes.get('/free', async () => 'ok');
    expect((await routes.inject('/direct')).statusCode).toBe(200);
    expect((await routes.inject('/direct')).statusCode).toBe(429);
    expect((await routes.inject('/free')).statusCode).toBe(200);
    await routes.close();
  });

  it('registers two of a kind in one scope (a per-client and a global limit), both applied', async () => {
    const app = Fastify();
    await app.register(rateLimit(new RateLimiter({ rate: 5, interval: 60_000 }), { validate: false }));
    await app.register(
      rateLimit(new RateLimiter({ rate: 1, interval: 60_000 }), { validate: false, key: () => 'everyone' }),
    );
    app.get('/', async () => 'ok');
    expect((await app.inject('/')).statusCode).toBe(200);
    expect((await app.inject('/')).statusCode).toBe(429);
    await app.close();
  });
});

describe('rateLimit and callbacks that return promises', () => {
  it.each([
    ['key', { key: (async () => Promise.reject(new Error('lookup failed'))) as never }, 'key(request)'],
    ['skip', { skip: (async () => Promise.reject(new Error('nope'))) as never }, 'skip(request)'],
    ['cost', { cost: (async () => 1) as never }, 'cost(request)'],
  ])('an async %s fails the request clearly, and its rejection is never unhandled', async (_what, options, named) => {
    const app = Fastify();
    await app.register(rateLimit(new RateLimiter({ rate: 5, interval: 1000 }), { validate: false, ...options }));
    app.get('/', async () => 'ok');
    const res = await app.inject('/');
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body).message).toBe(
      `rateLimit: ${named} returned a promise; it must answer synchronously (it runs on every request)`,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    await app.close();
  });
});
