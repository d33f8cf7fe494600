import { Bulkhead, CircuitBreaker, type Logger, RateLimiter } from '@resilience/core';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bulkhead,
  type CircuitBreakerLike,
  circuitBreaker,
  type RateLimiterLike,
  rateLimit,
  timeout,
} from '../src/index.js';
import { gate, type Served, serveApp, sleep, testConnInfo, until } from './helpers.js';

/** Collects the rejections nobody handled while a test runs (vitest would also fail the run on one). */
function unhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  afterEach(() => {
    process.off('unhandledRejection', listener);
  });
  return seen;
}

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});
const unhandled = unhandledRejections();

describe('unknown options are errors that name them', () => {
  const limiter = new RateLimiter({ rate: 10 });
  it("rateLimit names the option, with what to use here for hono-rate-limiter's (express-rate-limit's)", () => {
    expect(() => rateLimit(limiter, { windowMs: 60_000, limit: 100, getConnInfo: testConnInfo } as never)).toThrow(
      new TypeError(
        `rateLimit: unknown option "windowMs" (windowMs is the limiter's interval here: new RateLimiter({ rate, interval }))`,
      ),
    );
    expect(() => rateLimit(limiter, { limit: 100, getConnInfo: testConnInfo } as never)).toThrow(
      `limit is the limiter's rate here`,
    );
    expect(() => rateLimit(limiter, { keyGenerator: () => 'k', getConnInfo: testConnInfo } as never)).toThrow(
      `rateLimit: unknown option "keyGenerator" (keyGenerator is "key" here)`,
    );
    expect(() => rateLimit(limiter, { key: () => 'k', message: 'slow down' } as never)).toThrow('use "body"');
    expect(() => rateLimit(limiter, { key: () => 'k', getconninfo: 5 } as never)).toThrow(
      /^rateLimit: unknown option "getconninfo" \(known options: key, .*getConnInfo\)$/,
    );
  });

  it('timeout, bulkhead and circuitBreaker name theirs', () => {
    expect(() => timeout(100, { statsCode: 504 } as never)).toThrow(
      new TypeError('timeout: unknown option "statsCode" (known options: statusCode, body)'),
    );
    expect(() => timeout(100, { timeout: 5 } as never)).toThrow('pass the milliseconds (or a core Timeout)');
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { maxQueue: 5 } as never)).toThrow(
      'bulkhead: unknown option "maxQueue" (set maxQueue on the core Bulkhead you pass)',
    );
    expect(() => circuitBreaker(new CircuitBreaker(), { failureStatus: [500] } as never)).toThrow(
      'circuitBreaker: unknown option "failureStatus" (use "failureStatuses"',
    );
  });
});

describe('a body option that cannot be sent', () => {
  it('is refused when the middleware is built, naming it and the value', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => timeout(100, { body: Symbol('b') as never })).toThrow(
      new TypeError(
        'timeout: body must be a string, a JSON-serialisable object or a function (req, error) => either, got Symbol(b)',
      ),
    );
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { body: cycle })).toThrow(/^bulkhead: body must be/);
    expect(() => rateLimit(new RateLimiter({ rate: 1 }), { key: () => 'k', body: 10n as never })).toThrow(
      /^rateLimit: body must be/,
    );
    expect(() => circuitBreaker(new CircuitBreaker(), { body: Symbol() as never })).toThrow(
      /^circuitBreaker: body must be/,
    );
  });
});

describe('hostile callbacks', () => {
  it('refuses a key that is not a string: an object key would give each request a fresh quota', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const keys: Record<string, unknown> = { object: { id: 7 }, undefined: undefined, nan: Number.NaN, number: 42 };
    const app = new Hono();
    app.onError((err, c) => c.text(err.message, 500));
    app.use(rateLimit(limiter, { key: (c) => keys[c.req.header('x-kind') ?? ''] as string }));
    app.get('/', (c) => c.text('ok'));
    const send = async (kind: string) => {
      const res = await app.request('/', { headers: { 'x-kind': kind } });
      return `${res.status} ${await res.text()}`;
    };
    for (let i = 0; i < 3; i++) {
      expect(await send('object')).toBe(
        '500 rateLimit: key(c) must return a string (or a finite number), got an object; use skip for requests that have no key',
      );
    }
    expect(await send('undefined')).toMatch(/^500 rateLimit: key\(c\) must return a string .*got undefined/);
    expect(await send('nan')).toMatch(/got NaN/);
    expect(await send('number')).toBe('200 ok');
    expect(await send('number')).toMatch(/^429 /);
    expect(limiter.check('42').remaining).toBe(0);
    expect(limiter.size).toBe(1);
  });

  it('a breaker-like whose permit methods all throw leaves the answer alone, in app.request() and over HTTP', async () => {
    let reported = 0;
    const broken = (): never => {
      reported++;
      throw new Error('permit broke');
    };
    const breaker: CircuitBreakerLike = { acquire: () => ({ success: broken, failure: broken, ignore: broken }) };
    const app = new Hono();
    app.use(circuitBreaker(breaker));
    app.get('/', (c) => c.text('ok'));
    const res = await app.request('/');
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    served = await serveApp(app);
    const real = await fetch(served.url);
    expect([real.status, await real.text()]).toEqual([200, 'ok']);
    // success() threw, then failure() threw, for each request: nothing became the answer.
    expect(reported).toBe(4);
  });

  it('a body function giving undefined or a BigInt still answers with the status, with an empty body', async () => {
    const held = gate();
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const app = new Hono();
    app.get('/slow', timeout(20, { body: () => undefined as never }), async (c) => {
      await held.promise;
      return c.text('late');
    });
    app.get('/busy', bulkhead(bh, { body: () => 10n as never }), async (c) => {
      await held.promise;
      return c.text('done');
    });
    const slow = await app.request('/slow');
    expect([slow.status, await slow.text()]).toEqual([503, '']);
    const first = app.request('/busy');
    await until(() => bh.active === 1);
    const second = await app.request('/busy');
    expect([second.status, await second.text()]).toEqual([503, '']);
    held.open();
    expect((await first).status).toBe(200);
    expect(unhandled).toEqual([]);
  });

  it('an async logger whose warn and error reject leaves no unhandled rejection', async () => {
    const reject = async (): Promise<never> => {
      throw new Error('log sink down');
    };
    const logger = { debug: reject, info: reject, warn: reject, error: reject } as unknown as Logger;
    const broken: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () => {
        throw new Error('redis down');
      },
    };
    const app = new Hono();
    app.use(rateLimit(broken, { getConnInfo: testConnInfo, logger }));
    app.get('/', (c) => c.text('ok'));
    // X-Forwarded-For warns, the limiter's failure is logged.
    const res = await app.request('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(200);
    await sleep(20);
    expect(unhandled).toEqual([]);
  });
});

it('a breaker-like whose acquire() gives no permit fails the request with a TypeError naming the value', async () => {
  const app = new Hono();
  app.onError((err, c) => c.text(err.message, 500));
  app.use(circuitBreaker({ acquire: () => ({ success() {} }) as never }));
  app.get('/', (c) => c.text('ok'));
  const res = await app.request('/');
  expect([res.status, await res.text()]).toEqual([
    500,
    'circuitBreaker: breaker.acquire() must return a permit with success(), failure() and ignore() methods, got an object',
  ]);
});

it('rateLimit leaves a Response below status 200 as it is (a 101 upgrade, a Response.error()), instead of a 500', async () => {
  const app = new Hono();
  app.onError((err, c) => c.text(err.message, 500));
  app.use(rateLimit(new RateLimiter({ rate: 5, interval: 1000 }), { key: () => 'k' }));
  app.get('/error', () => Response.error());
  app.get('/own', () => new Response('mine'));
  const res = await app.request('/error');
  expect([res.status, res.type]).toEqual([0, 'error']);
  // A Response of the handler's own with a status >= 200 still gets the headers.
  const own = await app.request('/own');
  expect([own.status, own.headers.get('ratelimit'), await own.text()]).toEqual([
    200,
    'limit=5, remaining=3, reset=1',
    'mine',
  ]);
});

it('rateLimit checks a malformed validate option even when a key of its own makes the proxy checks moot', () => {
  const limiter = new RateLimiter({ rate: 1 });
  expect(() => rateLimit(limiter, { key: () => 'k', validate: 'yes' as never })).toThrow(
    'rateLimit: validate must be a boolean or an object { trustProxy?, xForwardedForHeader? }, got "yes"',
  );
  expect(() => rateLimit(limiter, { key: () => 'k', validate: { ip: false } as never })).toThrow(
    'validate has no check named "ip"',
  );
  expect(() => rateLimit(limiter, { key: () => 'k', validate: { trustProxy: false } })).not.toThrow();
  // With a key, the X-Forwarded-For check stays off: no warn() method is needed.
  expect(() => rateLimit(limiter, { key: () => 'k', logger: { error() {} } as never })).not.toThrow();
});

it('skip counts by truthiness, as hono-rate-limiter reads it: 1 or an object skips, undefined counts', async () => {
  const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
  const verdicts: Record<string, unknown> = { one: 1, object: {}, none: undefined };
  const app = new Hono();
  app.use(rateLimit(limiter, { key: () => 'k', skip: (c) => verdicts[c.req.header('x-kind') ?? ''] }));
  app.get('/', (c) => c.text('ok'));
  const statuses: number[] = [];
  for (const kind of ['one', 'object', 'one', 'none', 'none']) {
    statuses.push((await app.request('/', { headers: { 'x-kind': kind } })).status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429]);
});
