import { getConnInfo } from '@hono/node-server/conninfo';
import { RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type RateLimiterLike, type RateLimitOptions, rateLimit } from '../src/index.js';
import { memoryLogger, type Served, serveApp, testConnInfo } from './helpers.js';

it('writes its headers on a response whose headers are immutable', async () => {
  const app = appWith(rateLimit(limiter(2), { getConnInfo: testConnInfo }));
  const res = await app.request('/redirect');
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('http://example.com/');
  expect(res.headers.get('ratelimit')).toBe('limit=2, remaining=1, reset=5');
});

function limiter(burst = 2) {
  return new RateLimiter({ rate: burst, interval: 10_000, clock: new FakeClock() });
}

function appWith(middleware: ReturnType<typeof rateLimit>): Hono {
  const app = new Hono();
  app.use(middleware);
  app.get('/', (c) => c.text('ok'));
  app.get('/raw', () => new Response('raw', { headers: { 'x-raw': '1' } }));
  // A response whose headers are immutable, as fetch() gives.
  app.get('/redirect', () => Response.redirect('http://example.com/', 302));
  return app;
}

describe('rateLimit with app.request()', () => {
  it('lets the burst through with draft-7 headers, then answers 429 with Retry-After', async () => {
    const app = appWith(rateLimit(limiter(2), { getConnInfo: testConnInfo }));
    const first = await app.request('/');
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('ok');
    expect(first.headers.get('ratelimit-policy')).toBe('2;w=10');
    expect(first.headers.get('ratelimit')).toBe('limit=2, remaining=1, reset=5');
    const raw = await app.request('/raw');
    expect(raw.headers.get('x-raw')).toBe('1');
    expect(raw.headers.get('ratelimit')).toBe('limit=2, remaining=0, reset=10');
    const refused = await app.request('/');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('ratelimit')).toBe('limit=2, remaining=0, reset=10');
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await refused.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
  });

  it('keys by the address from getConnInfo, IPv6 grouped by /56', async () => {
    const keys: string[] = [];
    const inner = limiter(10);
    const recording: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: (key, tokens) => {
        keys.push(key);
        return inner.consume(key, tokens);
      },
    };
    const app = appWith(rateLimit(recording, { getConnInfo: testConnInfo }));
    for (const ip of ['2001:db8:1:2:3:4:5:6', '2001:db8:1:ff::1', '::ffff:198.51.100.7', '198.51.100.8']) {
      await app.request('/', { headers: { 'x-test-ip': ip } });
    }
    expect(keys).toEqual(['2001:db8:1:0:0:0:0:0/56', '2001:db8:1:0:0:0:0:0/56', '198.51.100.7', '198.51.100.8']);
  });

  it('writes draft-8 and legacy headers, custom status and body', async () => {
    const app = appWith(
      rateLimit(limiter(1), {
        key: () => 'one',
        standardHeaders: 'draft-8',
        legacyHeaders: true,
        statusCode: 503,
        body: 'slow down',
      }),
    );
    const ok = await app.request('/');
    expect(ok.headers.get('ratelimit')).toBe('"default";r=0;t=10');
    expect(ok.headers.get('ratelimit-policy')).toBe('"default";q=1;w=10');
    expect(ok.headers.get('x-ratelimit-limit')).toBe('1');
    const refused = await app.request('/');
    expect(refused.status).toBe(503);
    expect(await refused.text()).toBe('slow down');
    expect(refused.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('throws a bad cost or a throwing key to onError, and answers a cost above the burst 429 without Retry-After', async () => {
    const app = new Hono();
    app.use(
      rateLimit(limiter(2), {
        key: (c) => {
          if (c.req.header('x-boom') !== undefined) throw new Error('key failed');
          return 'k';
        },
        cost: (c) => Number(c.req.header('x-cost') ?? 1),
      }),
    );
    app.get('/', (c) => c.text('ok'));
    app.onError((err, c) => c.text(`onError: ${err.message}`, 500));
    expect(await (await app.request('/', { headers: { 'x-boom': '1' } })).text()).toBe('onError: key failed');
    expect(await (await app.request('/', { headers: { 'x-cost': 'NaN' } })).text()).toBe(
      'onError: rateLimit: cost(c) must return a finite number > 0, got NaN',
    );
    const tooMuch = await app.request('/', { headers: { 'x-cost': '3' } });
    expect(tooMuch.status).toBe(429);
    expect(tooMuch.headers.get('retry-after')).toBeNull();
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
    const app = appWith(rateLimit(broken, { key: () => 'k', logger: open.logger, limiterTimeout: 20 }));
    const passed = await app.request('/');
    expect(passed.status).toBe(200);
    expect(passed.headers.get('ratelimit')).toBeNull();
    expect(open.records[0]).toMatchObject({ level: 'error', msg: 'rate limiter failed; letting requests through' });
    const closed = memoryLogger();
    const app2 = appWith(
      rateLimit(broken, { key: () => 'k', logger: closed.logger, limiterTimeout: 20, failMode: 'closed' }),
    );
    const res = await app2.request('/');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toBe('service_unavailable');
  });

  it('skips what skip() says, and works with a limiter that answers with promises', async () => {
    const inner = limiter(1);
    const remote: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: async (key, tokens) => inner.consume(key, tokens),
    };
    const app = appWith(rateLimit(remote, { key: () => 'k', skip: (c) => c.req.header('x-skip') === '1' }));
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(429);
    const skipped = await app.request('/', { headers: { 'x-skip': '1' } });
    expect(skipped.status).toBe(200);
    expect(skipped.headers.get('ratelimit')).toBeNull();
  });

  it('warns once when X-Forwarded-For arrives with the default key, never with a key of your own', async () => {
    const log = memoryLogger();
    const app = appWith(rateLimit(limiter(10), { getConnInfo: testConnInfo, logger: log.logger }));
    await app.request('/');
    expect(log.records).toEqual([]);
    await app.request('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    await app.request('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(log.records.map((r) => r.attrs?.code)).toEqual(['UNEXPECTED_X_FORWARDED_FOR']);
    const own = memoryLogger();
    const app2 = appWith(rateLimit(limiter(10), { key: () => 'k', logger: own.logger }));
    await app2.request('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(own.records).toEqual([]);
  });
});

describe('rateLimit construction', () => {
  it('requires getConnInfo or key, with a clear error', () => {
    expect(() => rateLimit(limiter())).toThrow(
      'rateLimit: Hono has no portable client address: give getConnInfo (from hono/bun, hono/deno, hono/cloudflare-workers or @hono/node-server/conninfo) or a key(c) function',
    );
  });

  it('refuses bad options with the option and the value named', () => {
    expect(() => rateLimit(limiter(), { getConnInfo: 'ip' as never })).toThrow(
      'rateLimit: getConnInfo must be a function, got "ip"',
    );
    expect(() => rateLimit(limiter(), { key: () => 'k', windowMs: 1 } as never)).toThrow(
      'rateLimit: unknown option "windowMs"',
    );
    expect(() => rateLimit(limiter(2), { key: () => 'k', cost: 3 })).toThrow('cost must be at most limiter.burst (2)');
  });

  it('fails the request clearly when getConnInfo has no address', async () => {
    const app = new Hono();
    app.use(rateLimit(limiter(), { getConnInfo: () => ({ remote: {} }) }));
    app.get('/', (c) => c.text('ok'));
    app.onError((err, c) => c.text(err.message, 500));
    expect(await (await app.request('/')).text()).toBe(
      'rateLimit: getConnInfo(c) gave no remote address (got undefined); give a key(c) function',
    );
  });
});

describe("rateLimit with the runtime's getConnInfo but no connection", () => {
  it('fails the request with a message that says what to do', async () => {
    const app = new Hono();
    app.use(rateLimit(limiter(), { getConnInfo }));
    app.get('/', (c) => c.text('ok'));
    app.onError((err, c) => c.text(err.message, 500));
    const res = await app.request('/');
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(
      /^rateLimit: getConnInfo\(c\) failed \(.+\); without a connection \(app\.request\(\) in tests\), give a key\(c\) function$/,
    );
  });
});

describe('rateLimit over real HTTP with @hono/node-server', () => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it("keys by the socket's address through the runtime's getConnInfo", async () => {
    const keys: string[] = [];
    const inner = limiter(1);
    const recording: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: (key, tokens) => {
        keys.push(key);
        return inner.consume(key, tokens);
      },
    };
    served = await serveApp(appWith(rateLimit(recording, { getConnInfo })));
    const ok = await fetch(served.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit')).toBe('limit=1, remaining=0, reset=10');
    const refused = await fetch(served.url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(keys).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('rateLimit and callbacks that return promises', () => {
  const constantKey = (): string => 'k';
  it.each<[string, RateLimitOptions, string]>([
    ['key', { key: (async () => Promise.reject(new Error('lookup failed'))) as never }, 'key(c)'],
    ['skip', { key: constantKey, skip: (async () => Promise.reject(new Error('nope'))) as never }, 'skip(c)'],
    ['cost', { key: constantKey, cost: (async () => 1) as never }, 'cost(c)'],
  ])('an async %s is thrown to onError, and its rejection is never unhandled', async (_what, options, named) => {
    const app = new Hono();
    app.use(rateLimit(limiter(5), options));
    app.get('/', (c) => c.text('ok'));
    app.onError((err, c) => c.text(err.message, 500));
    const res = await app.request('/');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(
      `rateLimit: ${named} returned a promise; it must answer synchronously (it runs on every request)`,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
