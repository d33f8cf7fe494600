import http from 'node:http';
import { Bulkhead, CircuitBreaker, type Logger, RateLimiter } from '@resilience/core';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bulkhead,
  type CircuitBreakerLike,
  circuitBreaker,
  type RateLimiterLike,
  rateLimit,
  timeout,
} from '../src/index.js';
import { type Client, client, gate, sleep, transports, until } from './helpers.js';

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

describe('unknown options are errors that name them', () => {
  const limiter = new RateLimiter({ rate: 10 });
  it("rateLimit names the option, with what to use here for @fastify/rate-limit's and express-rate-limit's", () => {
    expect(() => rateLimit(limiter, { max: 100, timeWindow: '1 minute' } as never)).toThrow(
      new TypeError(
        `rateLimit: unknown option "max" (@fastify/rate-limit's max is the limiter's rate here: new RateLimiter({ rate, interval }))`,
      ),
    );
    expect(() => rateLimit(limiter, { timeWindow: 60_000 } as never)).toThrow(
      `rateLimit: unknown option "timeWindow" (@fastify/rate-limit's timeWindow is the limiter's interval here`,
    );
    expect(() => rateLimit(limiter, { keyGenerator: () => 'k' } as never)).toThrow(
      `rateLimit: unknown option "keyGenerator" (@fastify/rate-limit's keyGenerator is "key" here)`,
    );
    expect(() => rateLimit(limiter, { allowList: ['127.0.0.1'] } as never)).toThrow('use "skip"');
    expect(() => rateLimit(limiter, { errorResponseBuilder: () => ({}) } as never)).toThrow('use "body"');
    expect(() => rateLimit(limiter, { windowMs: 1000 } as never)).toThrow(`windowMs is the limiter's interval`);
    expect(() => rateLimit(limiter, { limitertimeout: 5 } as never)).toThrow(
      /^rateLimit: unknown option "limitertimeout" \(known options: key, .*limiterTimeout/,
    );
    expect(() =>
      rateLimit(limiter, {
        key: () => 'k',
        ipv6Subnet: 64,
        cost: 1,
        skip: () => false,
        standardHeaders: 'draft-8',
        legacyHeaders: true,
        policyName: 'p',
        failMode: 'closed',
        limiterTimeout: 500,
        validate: false,
        logger: console,
        statusCode: 429,
        body: 'no',
      }),
    ).not.toThrow();
  });

  it('timeout, bulkhead and circuitBreaker name theirs', () => {
    expect(() => timeout(100, { statsCode: 504 } as never)).toThrow(
      new TypeError('timeout: unknown option "statsCode" (known options: statusCode, body)'),
    );
    expect(() => timeout(100, { ms: 5 } as never)).toThrow('pass the milliseconds (or a core Timeout)');
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { maxConcurrent: 5 } as never)).toThrow(
      'bulkhead: unknown option "maxConcurrent" (set maxConcurrent on the core Bulkhead you pass',
    );
    expect(() => circuitBreaker(new CircuitBreaker(), { resetTimeout: 5 } as never)).toThrow(
      `circuitBreaker: unknown option "resetTimeout" (opossum's resetTimeout is the core CircuitBreaker's timeout`,
    );
  });
});

describe('a body option that cannot be sent', () => {
  it('is refused when the guard is built, naming the guard and the value', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => timeout(100, { body: Symbol('b') as never })).toThrow(
      new TypeError(
        'timeout: body must be a string, a JSON-serialisable object or a function (req, error) => either, got Symbol(b)',
      ),
    );
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { body: cycle })).toThrow(/^bulkhead: body must be/);
    expect(() => rateLimit(new RateLimiter({ rate: 1 }), { body: 10n as never })).toThrow(/^rateLimit: body must be/);
    expect(() => circuitBreaker(new CircuitBreaker(), { body: Symbol() as never })).toThrow(
      /^circuitBreaker: body must be/,
    );
  });
});

describe.each(transports)('hostile callbacks over %s', (transport) => {
  let c: Client | undefined;
  const unhandled = unhandledRejections();
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('refuses a key that is not a string: an object key would give each request a fresh quota', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const keys: Record<string, unknown> = { object: { id: 7 }, undefined: undefined, nan: Number.NaN, number: 42 };
    const app = Fastify();
    await app.register(
      rateLimit(limiter, { key: (request) => keys[String(request.headers['x-kind'])] as string, validate: false }),
    );
    app.get('/', async () => 'ok');
    c = await client(app, transport);
    const send = async (kind: string) => {
      const res = await c?.request({ headers: { 'x-kind': kind } });
      return `${res?.status} ${res?.status === 500 ? JSON.parse(res.body).message : res?.body}`;
    };
    for (let i = 0; i < 3; i++) {
      expect(await send('object')).toBe(
        '500 rateLimit: key(request) must return a string (or a finite number), got an object; use skip for requests that have no key',
      );
    }
    expect(await send('undefined')).toMatch(/^500 rateLimit: key\(request\) must return a string .*got undefined/);
    expect(await send('nan')).toMatch(/got NaN/);
    expect(await send('number')).toBe('200 ok');
    expect(await send('number')).toMatch(/^429 /);
    expect(limiter.check('42').remaining).toBe(0);
    expect(limiter.size).toBe(1);
  });

  it('a breaker-like whose permit methods all throw answers normally and throws nothing out of a hook', async () => {
    let reported = 0;
    const broken = (): never => {
      reported++;
      throw new Error('permit broke');
    };
    const breaker: CircuitBreakerLike = { acquire: () => ({ success: broken, failure: broken, ignore: broken }) };
    const app = Fastify();
    await app.register(circuitBreaker(breaker));
    app.get('/', async () => 'ok');
    c = await client(app, transport);
    for (let i = 0; i < 2; i++) expect((await c.request()).status).toBe(200);
    // success() threw, then failure() threw: both tried for each request, nothing escaped.
    await until(() => reported === 4);
    await sleep(20);
  });

  it('a body function giving undefined or a BigInt still answers with the status, with an empty body', async () => {
    const held = gate();
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const app = Fastify();
    app.get('/slow', { ...timeout(20, { body: () => undefined as never }).hooks }, async () => {
      await held.promise;
      return 'late';
    });
    app.get('/busy', { ...bulkhead(bh, { body: () => 10n as never }).hooks }, async () => {
      await held.promise;
      return 'done';
    });
    c = await client(app, transport);
    const slow = await c.request({ url: '/slow' });
    expect([slow.status, slow.body]).toEqual([503, '']);
    const first = c.request({ url: '/busy' });
    await until(() => bh.active === 1);
    const second = await c.request({ url: '/busy' });
    expect([second.status, second.body]).toEqual([503, '']);
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
    const app = Fastify({ trustProxy: true }); // warns
    await app.register(rateLimit(broken, { logger })); // and logs the failure
    app.get('/', async () => 'ok');
    c = await client(app, transport);
    expect((await c.request()).status).toBe(200);
    await sleep(20);
    expect(unhandled).toEqual([]);
  });
});

it('a breaker-like whose permit throws cannot crash the process from the close listener of a client that left', async () => {
  let reported = 0;
  const broken = (): never => {
    reported++;
    throw new Error('permit broke');
  };
  const held = gate();
  let started = false;
  const app = Fastify();
  await app.register(circuitBreaker({ acquire: () => ({ success: broken, failure: broken, ignore: broken }) }));
  app.get('/', async () => {
    started = true;
    await held.promise;
    return 'late';
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const req = http.get(url);
    req.on('error', () => {});
    await until(() => started);
    req.destroy();
    // ignore() threw in the close listener, then failure() threw: an uncaught exception would fail the run.
    await until(() => reported === 2);
    await sleep(20);
  } finally {
    held.open();
    await app.close();
  }
});

describe.each(transports)('a breaker-like whose acquire() gives no permit, over %s', (transport) => {
  it('fails the request with a TypeError naming the value, instead of recording nothing', async () => {
    const app = Fastify();
    await app.register(circuitBreaker({ acquire: () => undefined as never }));
    app.get('/', async () => 'ok');
    const c = await client(app, transport);
    try {
      const res = await c.request();
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body).message).toBe(
        'circuitBreaker: breaker.acquire() must return a permit with success(), failure() and ignore() methods, got undefined',
      );
    } finally {
      await c.close();
    }
  });
});

describe('a callback or policy that throws undefined or null cannot let the request on unguarded', () => {
  it.each([undefined, null])(
    'rateLimit key, circuitBreaker acquire and a bulkhead policy throwing %s fail the request',
    async (thrown) => {
      const app = Fastify();
      const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
      const throwIt = (): never => {
        throw thrown;
      };
      app.get('/rl', { ...rateLimit(limiter, { key: throwIt, validate: false }).hooks }, async () => 'passed');
      app.get('/cb', { ...circuitBreaker({ acquire: throwIt }).hooks }, async () => 'passed');
      app.get('/bh', { ...bulkhead({ execute: () => Promise.reject(thrown) } as never).hooks }, async () => 'passed');
      await app.ready();
      const answers: string[] = [];
      for (const url of ['/rl', '/cb', '/bh']) {
        const res = await app.inject(url);
        answers.push(`${res.statusCode} ${JSON.parse(res.body).message}`);
      }
      const shown = String(thrown);
      expect(answers).toEqual([
        `500 rateLimit: key(request), skip(request) or cost(request) threw ${shown}, which is no error`,
        `500 circuitBreaker: breaker.acquire() threw ${shown}, which is no error`,
        `500 bulkhead: the policy threw ${shown}, which is no error`,
      ]);
      await app.close();
    },
  );
});

it('skip counts by truthiness, as express-rate-limit reads it: 1 or an object skips, undefined counts', async () => {
  const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
  const verdicts: Record<string, unknown> = { one: 1, object: {}, none: undefined };
  const app = Fastify();
  await app.register(
    rateLimit(limiter, {
      key: () => 'k',
      skip: (request) => verdicts[String(request.headers['x-kind'])],
      validate: false,
    }),
  );
  app.get('/', async () => 'ok');
  await app.ready();
  const statuses: number[] = [];
  for (const kind of ['one', 'object', 'one', 'none', 'none']) {
    statuses.push((await app.inject({ url: '/', headers: { 'x-kind': kind } })).statusCode);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429]);
  await app.close();
});
