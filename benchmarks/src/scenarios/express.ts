import type { AddressInfo } from 'node:net';
import type { Express, RequestHandler } from 'express';
import type { Prepared } from '../harness/types.js';
import { unavailable } from './fixtures.js';
import { importOurs, loadCore } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Requests allowed per minute: high enough that no request is limited. */
const LIMIT = 1_000_000_000;

/** An Express app answering `GET /` with `ok`, behind `middleware` when given. */
async function serve(middleware?: RequestHandler): Promise<Prepared> {
  const { default: express } = await import('express');
  const app: Express = express();
  app.disable('x-powered-by');
  app.disable('etag');
  if (middleware !== undefined) app.use(middleware);
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  return {
    kind: 'server',
    listen: () =>
      new Promise((resolve) => {
        const server = app.listen(0, '127.0.0.1', () => {
          resolve({
            port: (server.address() as AddressInfo).port,
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      }),
  };
}

/** Our rate-limit middleware against express-rate-limit, under autocannon on loopback. */
export const expressRateLimit: ScenarioDef = {
  id: 'express-rate-limit',
  title: 'Express rate-limit middleware under autocannon',
  kind: 'http',
  config:
    `one key (the client IP), ${LIMIT.toExponential(0)} requests per 60 s (no request is limited), standard ` +
    '`RateLimit` headers on, legacy `X-RateLimit-*` off; `GET /` answers `ok`; 10 connections, loopback',
  baselineLabel: 'the same app without a limiter (its own child process)',
  baselineSubject: 'bare',
  subjects: [
    { id: 'bare', label: 'express 5, no limiter', library: 'express', setup: () => serve() },
    {
      id: 'ours',
      label: '@resilience/express rateLimit(new RateLimiter(…))',
      library: '@resilience/express',
      setup: async () => {
        const core = await loadCore();
        const adapter = await importOurs('@resilience/express').catch(() => undefined);
        if (adapter === undefined) return unavailable('@resilience/express is not built yet');
        const RateLimiter = core.RateLimiter as (new (config: object) => object) | undefined;
        const rateLimit = adapter.rateLimit as ((limiter: object) => RequestHandler) | undefined;
        if (typeof RateLimiter !== 'function') return unavailable('@resilience/core has no RateLimiter export yet');
        if (typeof rateLimit !== 'function') return unavailable('@resilience/express has no rateLimit export yet');
        return serve(rateLimit(new RateLimiter({ rate: LIMIT, interval: 60_000, burst: LIMIT })));
      },
    },
    {
      id: 'express-rate-limit',
      label: 'express-rate-limit',
      library: 'express-rate-limit',
      setup: async () => {
        const { rateLimit } = await import('express-rate-limit');
        return serve(rateLimit({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-7', legacyHeaders: false }));
      },
    },
  ],
  targets: [],
};

type Construct = new (config: object) => object;

/** One of our Express middlewares around a core pattern, or why it cannot run yet. */
async function ourMiddleware(
  exportName: 'circuitBreaker' | 'timeout' | 'bulkhead',
  make: (core: Record<string, Construct | undefined>) => object | number | string,
): Promise<Prepared> {
  const core = (await loadCore()) as Record<string, Construct | undefined>;
  const adapter = await importOurs('@resilience/express').catch(() => undefined);
  if (adapter === undefined) return unavailable('@resilience/express is not built yet');
  const middleware = adapter[exportName] as ((policy: object | number) => RequestHandler) | undefined;
  if (typeof middleware !== 'function') return unavailable(`@resilience/express has no ${exportName} export yet`);
  const policy = make(core);
  if (typeof policy === 'string') return unavailable(policy);
  return serve(middleware(policy));
}

/** Our circuit breaker, timeout and bulkhead middleware, each against Express alone, under autocannon on loopback. */
export const expressMiddleware: ScenarioDef = {
  id: 'express-middleware',
  title: 'Express circuit breaker, timeout and bulkhead middleware under autocannon',
  kind: 'http',
  config:
    '`circuitBreaker(new CircuitBreaker({}))` (closed: every request succeeds), `timeout(1000)` (every request ' +
    'answers in time), `bulkhead(new Bulkhead({ maxConcurrent: 20, maxQueue: 100 }))` (never full at 10 ' +
    'connections), each mounted with `app.use` before the route; `GET /` answers `ok`; 10 connections, loopback',
  baselineLabel: 'the same app without middleware (its own child process)',
  baselineSubject: 'bare',
  subjects: [
    { id: 'bare', label: 'express 5, no middleware', library: 'express', setup: () => serve() },
    {
      id: 'ours',
      label: '@resilience/express circuitBreaker(new CircuitBreaker({}))',
      library: '@resilience/express',
      setup: () =>
        ourMiddleware('circuitBreaker', (core) =>
          core.CircuitBreaker === undefined ? '@resilience/core has no CircuitBreaker' : new core.CircuitBreaker({}),
        ),
    },
    {
      id: 'ours-timeout',
      label: '@resilience/express timeout(1000)',
      library: '@resilience/express',
      setup: () => ourMiddleware('timeout', () => 1000),
    },
    {
      id: 'ours-bulkhead',
      label: '@resilience/express bulkhead(new Bulkhead({ maxConcurrent: 20, maxQueue: 100 }))',
      library: '@resilience/express',
      setup: () =>
        ourMiddleware('bulkhead', (core) =>
          core.Bulkhead === undefined
            ? '@resilience/core has no Bulkhead'
            : new core.Bulkhead({ maxConcurrent: 20, maxQueue: 100 }),
        ),
    },
  ],
  targets: [],
};
