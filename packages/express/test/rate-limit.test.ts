import { RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { type RateLimitDecision, type RateLimiterLike, rateLimit } from '../src/index.js';
import { expressVersions, type Served, serve } from './helpers.js';

/** The same limiter behind promises, as a distributed limiter answers. */
function asyncLimiter(inner: RateLimiter): RateLimiterLike {
  return {
    rate: inner.rate,
    burst: inner.burst,
    interval: inner.interval,
    consume: async (key: string, tokens: number): Promise<RateLimitDecision> => {
      await new Promise((resolve) => setImmediate(resolve));
      return inner.consume(key, tokens);
    },
  };
}

/** `inner`, noting the key of every consume() in `keys`. */
function recordingKeys(inner: RateLimiterLike, keys: string[]): RateLimiterLike {
  return {
    rate: inner.rate,
    burst: inner.burst,
    interval: inner.interval,
    consume: (key: string, tokens: number) => {
      keys.push(key);
      return inner.consume(key, tokens);
    },
  };
}

/** A logger that keeps what it is told. */
function memoryLogger() {
  const records: Array<{ msg: string; attrs?: Record<string, unknown> }> = [];
  const push = (msg: string, attrs?: Record<string, unknown>): void => {
    records.push(attrs === undefined ? { msg } : { msg, attrs });
  };
  return { records, logger: { debug: push, info: push, warn: push, error: push } };
}

describe.each(expressVersions)('rateLimit on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  async function start(limiter: RateLimiterLike, options?: Parameters<typeof rateLimit>[1], trustProxy = false) {
    const app = express();
    if (trustProxy) app.set('trust proxy', true);
    // Those tests are about keys; the warning a permissive trust proxy gives is tested on its own.
    app.use(rateLimit(limiter, trustProxy ? { validate: { trustProxy: false }, ...options } : options));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    served = await serve(app);
    return served.url;
  }

  for (const mode of ['sync', 'async'] as const) {
    it(`lets ${mode} decisions through with draft-7 headers, then answers 429 with Retry-After`, async () => {
      const clock = new FakeClock();
      const core = new RateLimiter({ rate: 2, interval: 1000, clock });
      const url = await start(mode === 'sync' ? core : asyncLimiter(core));
      const first = await fetch(url);
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-policy')).toBe('2;w=1');
      expect(first.headers.get('ratelimit')).toBe('limit=2, remaining=1, reset=1');
      expect(await first.text()).toBe('ok');
      expect((await fetch(url)).headers.get('ratelimit')).toBe('limit=2, remaining=0, reset=1');
      const refused = await fetch(url);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('ratelimit')).toBe('limit=2, remaining=0, reset=1');
      expect(await refused.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
      await clock.advance(500);
      expect((await fetch(url)).status).toBe(200);
    });
  }

  it('writes draft-8 headers with the policy name, and legacy X-RateLimit-* on request', async () => {
    const clock = new FakeClock();
    const url = await start(new RateLimiter({ rate: 10, interval: 60_000, clock }), {
      standardHeaders: 'draft-8',
      legacyHeaders: true,
      policyName: 'per-ip',
    });
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(url);
    expect(res.headers.get('ratelimit-policy')).toBe('"per-ip";q=10;w=60');
    expect(res.headers.get('ratelimit')).toBe('"per-ip";r=9;t=6');
    expect(res.headers.get('x-ratelimit-limit')).toBe('10');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('9');
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 6);
    expect(reset).toBeLessThanOrEqual(before + 8);
  });

  it('writes no rate-limit headers when asked for none, but still Retry-After on 429', async () => {
    const url = await start(new RateLimiter({ rate: 1, interval: 1000, clock: new FakeClock() }), {
      standardHeaders: false,
    });
    const ok = await fetch(url);
    expect([...ok.headers.keys()].filter((h) => h.includes('ratelimit'))).toEqual([]);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect([...refused.headers.keys()].filter((h) => h.includes('ratelimit'))).toEqual([]);
  });

  it('writes only the legacy headers when standard headers are off', async () => {
    const url = await start(new RateLimiter({ rate: 3, interval: 1000, clock: new FakeClock() }), {
      standardHeaders: false,
      legacyHeaders: true,
    });
    const res = await fetch(url);
    expect(res.headers.get('ratelimit')).toBeNull();
    expect(res.headers.get('ratelimit-policy')).toBeNull();
    expect(res.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('advertises a token bucket as its burst over the time to refill it', async () => {
    const url = await start(new RateLimiter({ rate: 5, interval: 1000, burst: 20, clock: new FakeClock() }));
    expect((await fetch(url)).headers.get('ratelimit-policy')).toBe('20;w=4');
  });

  it('keys by req.ip, so trust proxy decides, and groups IPv6 clients by /56', async () => {
    const url = await start(new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() }), {}, true);
    const from = (ip: string) => fetch(url, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    expect(await from('203.0.113.1')).toBe(200);
    expect(await from('203.0.113.1')).toBe(429);
    expect(await from('203.0.113.2')).toBe(200);
    expect(await from('2001:db8:1:100::1')).toBe(200);
    expect(await from('2001:db8:1:1ff:ffff::9')).toBe(429);
    expect(await from('2001:db8:1:200::1')).toBe(200);
    expect(await from('::ffff:203.0.113.2')).toBe(429);
  });

  it('trust proxy off: an X-Forwarded-For header is ignored, the key is the socket address', async () => {
    const keys: string[] = [];
    const { logger } = memoryLogger();
    const url = await start(
      recordingKeys(new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() }), keys),
      { logger },
    );
    const from = (ip: string) => fetch(url, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    expect(await from('203.0.113.1')).toBe(200);
    expect(await from('203.0.113.2')).toBe(429);
    expect(keys).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('trust proxy on: the key is the client named by X-Forwarded-For', async () => {
    const keys: string[] = [];
    const url = await start(
      recordingKeys(new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() }), keys),
      {},
      true,
    );
    const from = (ip: string) => fetch(url, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    expect(await from('203.0.113.1')).toBe(200);
    expect(await from('203.0.113.2')).toBe(200);
    expect(await from('198.51.100.1, 203.0.113.1')).toBe(200);
    expect(keys).toEqual(['203.0.113.1', '203.0.113.2', '198.51.100.1']);
  });

  it('ipv6Subnet: false keys by the full address, a number by that prefix', async () => {
    const full = await start(
      new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() }),
      { ipv6Subnet: false },
      true,
    );
    const from = (url: string, ip: string) => fetch(url, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    expect(await from(full, '2001:db8::1')).toBe(200);
    expect(await from(full, '2001:db8::2')).toBe(200);
    expect(await from(full, '2001:DB8:0:0::1')).toBe(429);
    expect(await from(full, '::ffff:203.0.113.9')).toBe(200);
    expect(await from(full, '203.0.113.9')).toBe(429);
    await served?.close();
    const wide = await start(
      new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() }),
      { ipv6Subnet: 32 },
      true,
    );
    expect(await from(wide, '2001:db8:1::1')).toBe(200);
    expect(await from(wide, '2001:db8:ffff::1')).toBe(429);
  });

  it('through trust proxy, keys the spellings ipaddr.js and node:net read differently the safer way', async () => {
    const keys: string[] = [];
    const url = await start(
      recordingKeys(new RateLimiter({ rate: 100, interval: 60_000, clock: new FakeClock() }), keys),
      {},
      true,
    );
    const from = (ip: string) => fetch(url, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    for (const ip of ['::192.0.2.1', '::ffff:0x7f.0.0.1', '0x7f.0.0.1', '127.1', 'fe80::1%eth-0', 'FE80::2%en0.5']) {
      expect(await from(ip), ip).toBe(200);
    }
    expect(keys).toEqual([
      // The deprecated IPv4-compatible form is keyed as the IPv4 host, not with the loopback ::1 in ::/56.
      '192.0.2.1',
      // What a socket never reports (hex or short IPv4) is keyed by its text, never as another client's address.
      '::ffff:0x7f.0.0.1',
      '0x7f.0.0.1',
      '127.1',
      // A zone names an interface of this host: dropped, whatever characters ipaddr.js accepts in one.
      'fe80:0:0:0:0:0:0:0/56',
      'fe80:0:0:0:0:0:0:0/56',
    ]);
  });

  it('one quota per client behind a proxy that writes the port into X-Forwarded-For (Azure App Service)', async () => {
    const keys: string[] = [];
    const app = express();
    app.set('trust proxy', 1); // the README's setting: the right-most entry, written by our own proxy
    const limiter = new RateLimiter({ rate: 1, interval: 60_000, clock: new FakeClock() });
    app.use(rateLimit(recordingKeys(limiter, keys)));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    served = await serve(app);
    const url = served.url;
    const from = (xff: string) => fetch(url, { headers: { 'X-Forwarded-For': xff } }).then((r) => r.status);
    // A new connection, a new source port: before the fix each one was a fresh key and never limited.
    expect(await from('203.0.113.7:50001')).toBe(200);
    expect(await from('203.0.113.7:50002')).toBe(429);
    expect(await from('forged, 203.0.113.7')).toBe(429);
    expect(await from('[2001:db8:1:2::5]:443')).toBe(200);
    expect(await from('[2001:DB8:1:2::6]:444')).toBe(429);
    expect(await from('[::ffff:203.0.113.7]:50003')).toBe(429);
    expect(await from('::203.0.113.8')).toBe(200);
    expect(await from('::cb00:7108')).toBe(429);
    expect(keys).toEqual([
      '203.0.113.7',
      '203.0.113.7',
      '203.0.113.7',
      '2001:db8:1:0:0:0:0:0/56',
      '2001:db8:1:0:0:0:0:0/56',
      '203.0.113.7',
      '203.0.113.8',
      '203.0.113.8',
    ]);
  });

  it('takes a key function, a cost and a skip predicate', async () => {
    const clock = new FakeClock();
    const url = await start(new RateLimiter({ rate: 3, interval: 1000, clock }), {
      key: (req: Request) => String(req.headers['x-api-key'] ?? 'anonymous'),
      cost: (req: Request) => (req.headers['x-heavy'] ? 3 : 1),
      skip: (req: Request) => req.headers['x-internal'] === 'yes',
    });
    const send = (headers: Record<string, string>) => fetch(url, { headers }).then((r) => r.status);
    expect(await send({ 'x-api-key': 'a', 'x-heavy': '1' })).toBe(200);
    expect(await send({ 'x-api-key': 'a' })).toBe(429);
    expect(await send({ 'x-api-key': 'a', 'x-internal': 'yes' })).toBe(200);
    expect(await send({ 'x-api-key': 'b' })).toBe(200);
  });

  it('passes an error thrown by the key function to next()', async () => {
    const app = express();
    app.use(
      rateLimit(new RateLimiter({ rate: 1 }), {
        key: () => {
          throw new Error('no key');
        },
      }),
    );
    const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(500).send(err.message);
    };
    app.use(handler);
    served = await serve(app);
    expect(await (await fetch(served.url)).text()).toBe('no key');
  });

  it('refuses a key that is not a string: an object key would give each request a fresh quota', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const keys: Record<string, unknown> = { object: { id: 7 }, undefined: undefined, nan: Number.NaN, number: 42 };
    const app = express();
    app.use(
      rateLimit(limiter, { key: (req: Request) => keys[String(req.headers['x-kind'])] as string, validate: false }),
    );
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(500).send(err.message);
    };
    app.use(handler);
    const current = await serve(app);
    served = current;
    const { url } = current;
    const send = async (kind: string) => {
      const res = await fetch(url, { headers: { 'x-kind': kind } });
      return `${res.status} ${await res.text()}`;
    };
    for (let i = 0; i < 3; i++) {
      expect(await send('object')).toBe(
        '500 rateLimit: key(req) must return a string (or a finite number), got an object; use skip for requests that have no key',
      );
    }
    expect(await send('undefined')).toMatch(/^500 rateLimit: key\(req\) must return a string .*got undefined/);
    expect(await send('nan')).toMatch(/got NaN/);
    // A number is a key of its own, made a string.
    expect(await send('number')).toBe('200 ok');
    expect(await send('number')).toMatch(/^429 /);
    expect(limiter.check('42').remaining).toBe(0);
    expect(limiter.size).toBe(1);
  });

  /** A limiter that fails as Redis would: by throwing, or with a rejected promise. */
  const brokenLimiter = (failure: 'throws' | 'rejects'): RateLimiterLike => ({
    rate: 1,
    burst: 1,
    interval: 1000,
    consume: () => {
      if (failure === 'throws') throw new Error('redis down');
      return Promise.reject(new Error('redis down'));
    },
  });

  for (const failure of ['throws', 'rejects'] as const) {
    it(`fails open by default when the limiter ${failure}, and logs it once per second`, async () => {
      const { records, logger } = memoryLogger();
      const broken = brokenLimiter(failure);
      const url = await start(broken, { logger });
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url)).status).toBe(200);
      expect(records).toHaveLength(1);
      expect(records[0]?.msg).toBe('rate limiter failed; letting requests through');
      expect(records[0]?.attrs).toMatchObject({ err: { message: 'redis down' }, failMode: 'open', failures: 1 });
    });

    it(`fails closed with 503 when configured and the limiter ${failure}`, async () => {
      const { records, logger } = memoryLogger();
      const broken = brokenLimiter(failure);
      const url = await start(broken, { logger, failMode: 'closed' });
      const res = await fetch(url);
      expect(res.status).toBe(503);
      expect(await res.text()).not.toContain('redis');
      expect(records[0]?.msg).toBe('rate limiter failed; answering 503');
    });
  }

  it('a cost(req) that is not a finite number > 0 goes to next(err), not to the limiter or failMode', async () => {
    const { records, logger } = memoryLogger();
    const keys: string[] = [];
    const app = express();
    const costs: Record<string, unknown> = { nan: Number.NaN, zero: 0, negative: -1, infinite: Infinity, text: '2' };
    app.use(
      rateLimit(recordingKeys(new RateLimiter({ rate: 10, interval: 60_000, clock: new FakeClock() }), keys), {
        logger,
        cost: (req: Request) => costs[String(req.query.cost)] as number,
      }),
    );
    app.get('/', (_req, res) => {
      res.send('let through');
    });
    const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(500).send(`${err.name}: ${err.message}`);
    };
    app.use(handler);
    served = await serve(app);
    for (const [name, value] of Object.entries(costs)) {
      const res = await fetch(`${served.url}/?cost=${name}`);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toContain('RangeError: rateLimit: cost(req) must return a finite number > 0, got');
      expect(text).toContain(typeof value === 'string' ? `"${value}"` : String(value));
    }
    expect(keys).toEqual([]);
    expect(records).toEqual([]);
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`a cost above limiter.burst is answered 429 without Retry-After and takes no tokens (${mode})`, async () => {
      const { records, logger } = memoryLogger();
      const keys: string[] = [];
      const core = new RateLimiter({ rate: 10, interval: 60_000, clock: new FakeClock() });
      const limiter = recordingKeys(mode === 'sync' ? core : asyncLimiter(core), keys);
      const url = await start(limiter, { logger, cost: (req: Request) => Number(req.headers['x-items'] ?? 1) });
      const huge = await fetch(url, { headers: { 'x-items': '1000' } });
      expect(huge.status).toBe(429);
      expect(huge.headers.get('retry-after')).toBeNull();
      expect(await huge.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
      expect((await fetch(url, { headers: { 'x-items': '11' } })).status).toBe(429);
      const whole = await fetch(url, { headers: { 'x-items': '10' } });
      expect(whole.status).toBe(200);
      expect(whole.headers.get('ratelimit')).toBe('limit=10, remaining=0, reset=60');
      expect(keys).toEqual(['127.0.0.1']);
      expect(records).toEqual([]);
    });

    it(`a malformed decision from a ${mode} limiter goes to failMode and is logged, never a crash`, async () => {
      const crashes: unknown[] = [];
      const onCrash = (err: unknown): void => {
        crashes.push(err);
      };
      process.on('unhandledRejection', onCrash);
      process.on('uncaughtException', onCrash);
      try {
        const malformed: unknown[] = [
          undefined,
          null,
          42,
          { allowed: 'yes' },
          { allowed: false },
          { allowed: true, limit: 1, remaining: Number.NaN, resetMs: 0, retryAfterMs: 0 },
          {
            allowed: true,
            get limit(): number {
              throw new Error('broken getter');
            },
          },
        ];
        for (const failMode of ['closed', 'open'] as const) {
          const { records, logger } = memoryLogger();
          let next = 0;
          const bad: RateLimiterLike = {
            rate: 1,
            burst: 1,
            interval: 1000,
            consume: () => {
              const decision = malformed[next++ % malformed.length] as RateLimitDecision;
              return mode === 'sync' ? decision : Promise.resolve(decision);
            },
          };
          const url = await start(bad, { logger, failMode });
          for (let i = 0; i < malformed.length; i++) {
            const res = await fetch(url);
            expect(res.status).toBe(failMode === 'closed' ? 503 : 200);
            await res.arrayBuffer();
          }
          expect(records.length).toBeGreaterThanOrEqual(1);
          expect(records[0]?.attrs).toMatchObject({ failMode, failures: 1 });
          expect(records[0]?.attrs?.err).toMatchObject({
            message: expect.stringContaining("rateLimit: the limiter's consume() gave undefined, not a decision"),
          });
          await served?.close();
          served = undefined;
        }
        await new Promise((resolve) => setImmediate(resolve));
        expect(crashes).toEqual([]);
      } finally {
        process.off('unhandledRejection', onCrash);
        process.off('uncaughtException', onCrash);
      }
    });
  }

  it('a thenable whose then() throws is a limiter failure too', async () => {
    const { records, logger } = memoryLogger();
    const bad = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable that breaks is what this test is about
        then() {
          throw new Error('broken thenable');
        },
      }),
    } as unknown as RateLimiterLike;
    const url = await start(bad, { logger, failMode: 'closed' });
    expect((await fetch(url)).status).toBe(503);
    expect(records[0]?.attrs).toMatchObject({ err: { message: 'broken thenable' } });
  });

  /** A limiter whose promise settles only when the test says so (a Redis that hangs). */
  const hangingLimiter = () => {
    const answers: Array<(decision: RateLimitDecision) => void> = [];
    const limiter: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () =>
        new Promise<RateLimitDecision>((resolve) => {
          answers.push(resolve);
        }),
    };
    return { limiter, answers };
  };

  for (const failMode of ['open', 'closed'] as const) {
    it(`a limiter that never answers takes the failure path (${failMode}) after limiterTimeout`, async () => {
      const { records, logger } = memoryLogger();
      const { limiter, answers } = hangingLimiter();
      const url = await start(limiter, { logger, failMode, limiterTimeout: 30 });
      const res = await fetch(url);
      expect(res.status).toBe(failMode === 'open' ? 200 : 503);
      expect(await res.text()).toBe(
        failMode === 'open'
          ? 'ok'
          : JSON.stringify({
              error: 'service_unavailable',
              message: 'The service is temporarily unavailable. Try again later.',
            }),
      );
      expect(answers).toHaveLength(1);
      expect(records).toHaveLength(1);
      expect(records[0]?.attrs).toMatchObject({
        err: { name: 'TimeoutError', message: 'rateLimit: the limiter did not answer within 30 ms (limiterTimeout)' },
        failMode,
        failures: 1,
      });
    });
  }

  it('bounds a hung limiter at 1000 ms by default', async () => {
    const { records, logger } = memoryLogger();
    const { limiter } = hangingLimiter();
    const url = await start(limiter, { logger });
    expect((await fetch(url)).status).toBe(200);
    expect(records[0]?.attrs?.err).toMatchObject({ message: expect.stringContaining('within 1000 ms') });
  });

  it('ignores an answer that arrives after limiterTimeout: one answer, next() once, no crash', async () => {
    const crashes: unknown[] = [];
    const onCrash = (err: unknown): void => {
      crashes.push(err);
    };
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
    try {
      const { logger } = memoryLogger();
      const { limiter, answers } = hangingLimiter();
      const app = express();
      let handled = 0;
      app.use(rateLimit(limiter, { logger, limiterTimeout: 20 }));
      app.get('/', (_req, res) => {
        handled++;
        res.send('ok');
      });
      served = await serve(app);
      const res = await fetch(served.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
      // The late refusal changes nothing: no second next(), no header written after the answer.
      answers[0]?.({ allowed: false, limit: 1, remaining: 0, resetMs: 1000, retryAfterMs: 1000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(handled).toBe(1);
      expect(crashes).toEqual([]);
    } finally {
      process.off('unhandledRejection', onCrash);
      process.off('uncaughtException', onCrash);
    }
  });

  it('a limiter that answers in time is not cut off, and a late rejection is not an unhandled one', async () => {
    const crashes: unknown[] = [];
    const onCrash = (err: unknown): void => {
      crashes.push(err);
    };
    process.on('unhandledRejection', onCrash);
    try {
      const { records, logger } = memoryLogger();
      let rejectLate: ((err: Error) => void) | undefined;
      let calls = 0;
      const limiter: RateLimiterLike = {
        rate: 1,
        burst: 1,
        interval: 1000,
        consume: () => {
          calls++;
          if (calls === 1)
            return Promise.resolve({ allowed: true, limit: 1, remaining: 0, resetMs: 1000, retryAfterMs: 0 });
          return new Promise((_resolve, reject) => {
            rejectLate = reject;
          });
        },
      };
      const url = await start(limiter, { logger, limiterTimeout: 20, failMode: 'closed' });
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url)).status).toBe(503);
      rejectLate?.(new Error('redis gave up, too late'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(crashes).toEqual([]);
      expect(records.map((r) => (r.attrs?.err as Error | undefined)?.message)).not.toContain('redis gave up, too late');
    } finally {
      process.off('unhandledRejection', onCrash);
    }
  });

  it('a decision whose then getter throws is a limiter failure, not a crash', async () => {
    const { records, logger } = memoryLogger();
    const bad = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable whose then getter throws is what this test is about
        get then(): never {
          throw new Error('then getter broke');
        },
      }),
    } as unknown as RateLimiterLike;
    const url = await start(bad, { logger, failMode: 'closed' });
    expect((await fetch(url)).status).toBe(503);
    expect(records[0]?.attrs).toMatchObject({ err: { message: 'then getter broke' } });
  });

  describe('trust proxy checks', () => {
    const limiter = () => new RateLimiter({ rate: 100, interval: 1000, clock: new FakeClock() });
    const warnings = (records: ReturnType<typeof memoryLogger>['records']) =>
      records.filter((r) => r.attrs?.code !== undefined).map((r) => r.attrs?.code);

    async function app(trustProxy: unknown, options: Parameters<typeof rateLimit>[1], mounts = 1) {
      const a = express();
      if (trustProxy !== undefined) a.set('trust proxy', trustProxy);
      for (let i = 0; i < mounts; i++) a.use(rateLimit(limiter(), options));
      a.get('/', (_req, res) => {
        res.send('ok');
      });
      served = await serve(a);
      return served.url;
    }
    const get = (url: string, xff?: string) =>
      fetch(url, xff === undefined ? {} : { headers: { 'X-Forwarded-For': xff } }).then((r) => r.status);

    it("warns once per middleware when 'trust proxy' is true", async () => {
      const { records, logger } = memoryLogger();
      const url = await app(true, { logger }, 2);
      for (let i = 0; i < 3; i++) expect(await get(url, `203.0.113.${i}`)).toBe(200);
      expect(warnings(records)).toEqual(['PERMISSIVE_TRUST_PROXY', 'PERMISSIVE_TRUST_PROXY']);
      expect(records[0]?.msg).toBe(
        "rateLimit: the Express 'trust proxy' setting is true, so any client picks its own req.ip with an " +
          'X-Forwarded-For header and gets a fresh quota on every request. Set it to the number of proxies in ' +
          "front of the app (app.set('trust proxy', 1)) or to their addresses. (validate: false silences this warning)",
      );
      expect(records[0]?.attrs).toEqual({ code: 'PERMISSIVE_TRUST_PROXY', trustProxy: true });
    });

    it("warns once when X-Forwarded-For arrives while 'trust proxy' is off, not before", async () => {
      const { records, logger } = memoryLogger();
      const url = await app(undefined, { logger });
      expect(await get(url)).toBe(200);
      expect(await get(url)).toBe(200);
      expect(records).toEqual([]);
      expect(await get(url, '198.51.100.7')).toBe(200);
      expect(await get(url, '198.51.100.8')).toBe(200);
      expect(warnings(records)).toEqual(['UNEXPECTED_X_FORWARDED_FOR']);
      expect(records[0]?.msg).toContain(
        "rateLimit: an X-Forwarded-For header arrived but the Express 'trust proxy' setting is false (the default)",
      );
      expect(records[0]?.attrs).toEqual({ code: 'UNEXPECTED_X_FORWARDED_FOR', trustProxy: false });
    });

    it("says nothing when 'trust proxy' names the proxies (a hop count, addresses)", async () => {
      for (const setting of [1, 'loopback']) {
        const { records, logger } = memoryLogger();
        const url = await app(setting, { logger });
        expect(await get(url, '198.51.100.7')).toBe(200);
        expect(await get(url, '198.51.100.7, 127.0.0.1')).toBe(200);
        expect(records).toEqual([]);
        await served?.close();
        served = undefined;
      }
    });

    it('validate: false silences both; an object silences single checks', async () => {
      const cases: Array<[unknown, Parameters<typeof rateLimit>[1], string[]]> = [
        [true, { validate: false }, []],
        [false, { validate: false }, []],
        [true, { validate: { trustProxy: false } }, []],
        [false, { validate: { trustProxy: false } }, ['UNEXPECTED_X_FORWARDED_FOR']],
        [false, { validate: { xForwardedForHeader: false } }, []],
        [true, { validate: { xForwardedForHeader: false } }, ['PERMISSIVE_TRUST_PROXY']],
        [true, { validate: true }, ['PERMISSIVE_TRUST_PROXY']],
      ];
      for (const [setting, options, expected] of cases) {
        const { records, logger } = memoryLogger();
        const url = await app(setting, { ...options, logger });
        expect(await get(url, '198.51.100.7')).toBe(200);
        expect(await get(url, '198.51.100.8')).toBe(200);
        expect(warnings(records)).toEqual(expected);
        await served?.close();
        served = undefined;
      }
    });

    it('a logger whose warn() throws does not break the request', async () => {
      const logger = {
        debug() {},
        info() {},
        error() {},
        warn() {
          throw new Error('logger broke');
        },
      };
      const url = await app(true, { logger });
      expect(await get(url, '198.51.100.7')).toBe(200);
    });
  });

  it('answers with the configured status and body', async () => {
    const url = await start(new RateLimiter({ rate: 1, clock: new FakeClock() }), {
      statusCode: 503,
      body: (req: Request) => `slow down, ${req.path}`,
    });
    await fetch(url);
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('slow down, /');
  });
});

describe('rateLimit configuration', () => {
  const limiter = new RateLimiter({ rate: 1 });

  it('refuses what cannot work, naming the option and the value', () => {
    expect(() => rateLimit({} as RateLimiterLike)).toThrow(
      'rateLimit: limiter must have a consume() method, got an object',
    );
    expect(() => rateLimit(limiter, { cost: 0 })).toThrow(
      'rateLimit: cost must be a finite number > 0 or a function, got 0',
    );
    expect(() => rateLimit(limiter, { cost: 2 })).toThrow(
      'rateLimit: cost must be at most limiter.burst (1): no request could ever pass, got 2',
    );
    expect(() => rateLimit(limiter, { ipv6Subnet: 129 })).toThrow(
      'rateLimit: ipv6Subnet must be an integer >= 1 and <= 128, got 129',
    );
    expect(() => rateLimit(limiter, { ipv6Subnet: '56' as never })).toThrow(
      'rateLimit: ipv6Subnet must be an integer >= 1 and <= 128, got "56"',
    );
    expect(() => rateLimit(limiter, { standardHeaders: 'draft-6' as never })).toThrow(
      'rateLimit: standardHeaders must be one of "draft-7", "draft-8", false, got "draft-6"',
    );
    expect(() => rateLimit(limiter, { failMode: 'half' as never })).toThrow(
      'rateLimit: failMode must be one of "open", "closed", got "half"',
    );
    expect(() => rateLimit(limiter, { policyName: 'caf\u00e9' })).toThrow(
      'rateLimit: policyName must be a string of printable ASCII, got "café"',
    );
    expect(() => rateLimit(limiter, { key: 'ip' as never })).toThrow('rateLimit: key must be a function, got "ip"');
    expect(() => rateLimit(limiter, { logger: {} as never })).toThrow(
      'rateLimit: logger must have an error() method, got an object',
    );
    for (const bad of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
      expect(() => rateLimit(limiter, { limiterTimeout: bad })).toThrow(
        `rateLimit: limiterTimeout must be a finite number > 0 and <= 2147483647, got ${bad}`,
      );
    }
    expect(() => rateLimit(limiter, { limiterTimeout: '100' as never })).toThrow(
      'rateLimit: limiterTimeout must be a finite number > 0 and <= 2147483647, got "100"',
    );
    expect(() => rateLimit(limiter, { validate: 'yes' as never })).toThrow(
      'rateLimit: validate must be a boolean or an object { trustProxy?, xForwardedForHeader? }, got "yes"',
    );
    expect(() => rateLimit(limiter, { validate: { trustProxy: 'no' as never } })).toThrow(
      'rateLimit: validate.trustProxy must be a boolean, got "no"',
    );
    expect(() => rateLimit(limiter, { validate: { ip: false } as never })).toThrow(
      'rateLimit: validate has no check named "ip"; the checks are trustProxy and xForwardedForHeader',
    );
    const errorOnly = { error() {} } as never;
    expect(() => rateLimit(limiter, { logger: errorOnly })).toThrow(
      'rateLimit: logger must have a warn() method, got an object',
    );
    expect(() => rateLimit(limiter, { logger: errorOnly, validate: false })).not.toThrow();
    const noSettings = { consume: limiter.consume.bind(limiter) } as unknown as RateLimiterLike;
    expect(() => rateLimit(noSettings)).toThrow(
      'rateLimit: limiter.rate must be a finite number > 0 to write rate-limit headers, got undefined',
    );
    expect(() => rateLimit(noSettings, { standardHeaders: false })).not.toThrow();
  });
});

describe('rateLimit under load', () => {
  const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const req = { ip: '192.0.2.1', headers: {}, socket: { remoteAddress: '192.0.2.1' } } as unknown as Request;
  const res = { setHeader() {}, headersSent: false } as unknown as Response;
  const run = (middleware: RequestHandler, n: number): Promise<unknown[]> =>
    Promise.all(Array.from({ length: n }, () => new Promise((resolve) => middleware(req, res, resolve))));

  it('20,000 promised decisions each call next() once and leave no timer behind', async () => {
    const core = new RateLimiter({ rate: 1e9, interval: 1000, clock: new FakeClock() });
    const limiter: RateLimiterLike = {
      rate: core.rate,
      burst: core.burst,
      interval: core.interval,
      consume: async (key, tokens) => core.consume(key, tokens),
    };
    const before = refTimers();
    const results = await run(rateLimit(limiter, { logger, limiterTimeout: 2_147_483_647 }), 20_000);
    expect(results).toHaveLength(20_000);
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(refTimers()).toBeLessThanOrEqual(before);
  });

  it('2,000 requests on a hung limiter all get an answer, and no timer stays armed', async () => {
    const limiter: RateLimiterLike = { rate: 1, burst: 1, interval: 1000, consume: () => new Promise(() => {}) };
    const before = refTimers();
    const results = await run(rateLimit(limiter, { logger, limiterTimeout: 20 }), 2_000);
    expect(results).toHaveLength(2_000);
    expect(refTimers()).toBeLessThanOrEqual(before);
  });
});

describe.each(expressVersions)('rateLimit and callbacks that return promises, on %s', (_name, express) => {
  it.each([
    ['key', { key: (async () => Promise.reject(new Error('lookup failed'))) as never }, 'key(req)'],
    ['skip', { skip: (async () => false) as never }, 'skip(req)'],
    ['cost', { cost: (async () => 1) as never }, 'cost(req)'],
  ])('an async %s goes to next(err), and its rejection is never unhandled', async (_what, options, named) => {
    const app = express();
    app.use(rateLimit(new RateLimiter({ rate: 5 }), { validate: false, ...options }));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const errors: string[] = [];
    app.use(((err, _req, res, _next) => {
      errors.push((err as Error).message);
      res.status(500).send('error');
    }) as ErrorRequestHandler);
    const served = await serve(app);
    try {
      const res = await fetch(served.url);
      expect(res.status).toBe(500);
      expect(errors).toEqual([
        `rateLimit: ${named} returned a promise; it must answer synchronously (it runs on every request)`,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await served.close();
    }
  });
});
