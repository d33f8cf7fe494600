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
