import type { AddressInfo } from 'node:net';
import type { Prepared } from '../harness/types.js';
import { unavailable } from './fixtures.js';
import { importOurs, loadCore } from './ours.js';
import type { ScenarioDef } from './types.js';

/** Requests allowed per minute: high enough that no request is limited. */
const LIMIT = 1_000_000_000;

const CONFIG =
  `one key (the client IP), ${LIMIT.toExponential(0)} requests per 60 s (no request is limited), standard ` +
  '`RateLimit` headers on, legacy `X-RateLimit-*` off; `GET /` answers `ok`; 10 connections, loopback';

/** Our limiter with the scenario's settings, from the built core. */
async function limiter(): Promise<object | string> {
  const core = await loadCore();
  const RateLimiter = core.RateLimiter as (new (config: object) => object) | undefined;
  if (typeof RateLimiter !== 'function') return '@resilience/core has no RateLimiter export yet';
  return new RateLimiter({ rate: LIMIT, interval: 60_000, burst: LIMIT });
}

/** A Fastify app answering `GET /` with `ok`, with `plugin` registered when given. */
async function serveFastify(plugin?: unknown): Promise<Prepared> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (plugin !== undefined) await app.register(plugin as Parameters<typeof app.register>[0]);
  app.get('/', async () => 'ok');
  return {
    kind: 'server',
    listen: async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  };
}

/** Our Fastify rate-limit plugin against Fastify alone, under autocannon on loopback. */
export const fastifyRateLimit: ScenarioDef = {
  id: 'fastify-rate-limit',
  title: 'Fastify rate-limit plugin under autocannon',
  kind: 'http',
  config: CONFIG,
  baselineLabel: 'the same app without a limiter (its own child process)',
  baselineSubject: 'bare',
  subjects: [
    { id: 'bare', label: 'fastify 5, no limiter', library: 'fastify', setup: () => serveFastify() },
    {
      id: 'ours',
      label: '@resilience/fastify rateLimit(new RateLimiter(…))',
      library: '@resilience/fastify',
      setup: async () => {
        const adapter = await importOurs('@resilience/fastify').catch(() => undefined);
        if (adapter === undefined) return unavailable('@resilience/fastify is not built yet');
        const made = await limiter();
        if (typeof made === 'string') return unavailable(made);
        const rateLimit = adapter.rateLimit as (limiter: object, options: object) => unknown;
        return serveFastify(rateLimit(made, { validate: false }));
      },
    },
  ],
  targets: [],
};

/** A Hono app on @hono/node-server answering `GET /` with `ok`, behind `middleware` when given. */
async function serveHono(middleware?: unknown): Promise<Prepared> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono();
  if (middleware !== undefined) app.use(middleware as Parameters<typeof app.use>[0]);
  app.get('/', (c) => c.text('ok'));
  return {
    kind: 'server',
    listen: () =>
      new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
          resolve({
            port: info.port,
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      }),
  };
}

/** Our Hono rate-limit middleware against Hono alone (on @hono/node-server), under autocannon on loopback. */
export const honoRateLimit: ScenarioDef = {
  id: 'hono-rate-limit',
  title: 'Hono rate-limit middleware (@hono/node-server) under autocannon',
  kind: 'http',
  config: `${CONFIG}; the key comes from \`getConnInfo\` of \`@hono/node-server/conninfo\``,
  baselineLabel: 'the same app without a limiter (its own child process)',
  baselineSubject: 'bare',
  subjects: [
    { id: 'bare', label: 'hono 4 on @hono/node-server, no limiter', library: 'hono', setup: () => serveHono() },
    {
      id: 'ours',
      label: '@resilience/hono rateLimit(new RateLimiter(…), { getConnInfo })',
      library: '@resilience/hono',
      setup: async () => {
        const adapter = await importOurs('@resilience/hono').catch(() => undefined);
        if (adapter === undefined) return unavailable('@resilience/hono is not built yet');
        const made = await limiter();
        if (typeof made === 'string') return unavailable(made);
        const { getConnInfo } = await import('@hono/node-server/conninfo');
        const rateLimit = adapter.rateLimit as (limiter: object, options: object) => unknown;
        return serveHono(rateLimit(made, { getConnInfo }));
      },
    },
  ],
  targets: [],
};
