import { Bulkhead, type Logger, RateLimiter } from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, circuitBreaker, type RateLimiterLike, rateLimit, timeout } from '../src/index.js';
import { expressVersions, type Gate, gate, type Served, serve, until } from './helpers.js';

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

describe('a body option that cannot be sent', () => {
  it('is refused when the middleware is built, naming the middleware and the value', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => timeout(100, { body: Symbol('b') as never })).toThrow(
      new TypeError(
        'timeout: body must be a string, a JSON-serialisable object or a function (req, error) => either, got Symbol(b)',
      ),
    );
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { body: cycle })).toThrow(
      /^bulkhead: body must be a string, a JSON-serialisable object/,
    );
    expect(() => rateLimit(new RateLimiter({ rate: 1 }), { body: 10n as never })).toThrow(/^rateLimit: body must be/);
  });
});

describe.each(expressVersions)('body functions and loggers that misbehave on %s', (_name, express) => {
  let served: Served | undefined;
  const unhandled = unhandledRejections();
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('a body function giving undefined or a BigInt still answers with the status, with an empty body', async () => {
    const app = express();
    const held: Gate = gate();
    const bh = new Bulkhead({ maxConcurrent: 1 });
    app.get('/slow', timeout(20, { body: () => undefined as never }), async () => {
      await held.promise;
    });
    app.get('/busy', bulkhead(bh, { body: () => 10n as never }), async (_req, res) => {
      await held.promise;
      res.send('done');
    });
    served = await serve(app);
    const slow = await fetch(`${served.url}/slow`);
    expect(slow.status).toBe(503);
    expect(await slow.text()).toBe('');
    const first = fetch(`${served.url}/busy`);
    await until(() => bh.active === 1);
    const second = await fetch(`${served.url}/busy`);
    expect(second.status).toBe(503);
    expect(await second.text()).toBe('');
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
    const app = express();
    app.set('trust proxy', true); // warns
    app.use(rateLimit(broken, { logger })); // and logs the failure
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    served = await serve(app);
    const res = await fetch(served.url);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
  });
});

describe.each(expressVersions)('a breaker-like whose acquire() gives no permit on %s', (_name, express) => {
  it('sends a TypeError naming the value to next(err), instead of recording nothing', async () => {
    const app = express();
    app.use(circuitBreaker({ acquire: () => null as never }));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    app.use((err: Error, _req: unknown, res: { status(n: number): { send(b: string): void } }, _next: unknown) => {
      res.status(500).send(err.message);
    });
    const served = await serve(app);
    try {
      const res = await fetch(served.url);
      expect([res.status, await res.text()]).toEqual([
        500,
        'circuitBreaker: breaker.acquire() must return a permit with success(), failure() and ignore() methods, got null',
      ]);
    } finally {
      await served.close();
    }
  });
});

describe.each(expressVersions)('a callback or policy throwing no error on %s', (_name, express) => {
  it.each([undefined, null, 'route', 'router'])('cannot let the request on unguarded (%s)', async (thrown) => {
    const app = express();
    const throwIt = (): never => {
      throw thrown;
    };
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const answer = (_req: unknown, res: { send(b: string): void }) => res.send('passed');
    app.get('/rl', rateLimit(limiter, { key: throwIt, validate: false }), answer);
    app.get('/cb', circuitBreaker({ acquire: throwIt }), answer);
    app.get('/bh', bulkhead({ execute: () => Promise.reject(thrown) } as never), answer);
    app.use((_req: unknown, res: { status(n: number): { send(b: string): void } }) => res.status(404).send('skipped'));
    app.use((err: Error, _req: unknown, res: { status(n: number): { send(b: string): void } }, _next: unknown) => {
      res.status(500).send(err.message);
    });
    const served = await serve(app);
    try {
      const answers: string[] = [];
      for (const path of ['/rl', '/cb', '/bh']) {
        const res = await fetch(`${served.url}${path}`);
        answers.push(`${res.status} ${await res.text()}`);
      }
      const shown = typeof thrown === 'string' ? `"${thrown}"` : String(thrown);
      expect(answers).toEqual([
        `500 rateLimit: key(req), skip(req) or cost(req) threw ${shown}, which is no error`,
        `500 circuitBreaker: breaker.acquire() threw ${shown}, which is no error`,
        `500 bulkhead: the policy threw ${shown}, which is no error`,
      ]);
    } finally {
      await served.close();
    }
  });
});

describe.each(expressVersions)('skip on %s', (_name, express) => {
  it('counts by truthiness, as express-rate-limit reads it: 1 or an object skips, undefined counts', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 60_000 });
    const verdicts: Record<string, unknown> = { one: 1, object: {}, none: undefined };
    const app = express();
    app.use(
      rateLimit(limiter, { key: () => 'k', skip: (req) => verdicts[String(req.headers['x-kind'])], validate: false }),
    );
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const served = await serve(app);
    try {
      const statuses: number[] = [];
      for (const kind of ['one', 'object', 'one', 'none', 'none']) {
        statuses.push((await fetch(served.url, { headers: { 'x-kind': kind } })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await served.close();
    }
  });
});

// circuitBreaker shares the Rejection; its body is checked the same way.
it('circuitBreaker refuses a body that cannot be sent', () => {
  expect(() =>
    circuitBreaker({ acquire: () => ({ success() {}, failure() {}, ignore() {} }) }, { body: (() => 1) as never }),
  ).not.toThrow();
  expect(() =>
    circuitBreaker({ acquire: () => ({ success() {}, failure() {}, ignore() {} }) }, { body: Symbol() as never }),
  ).toThrow(/^circuitBreaker: body must be/);
});
