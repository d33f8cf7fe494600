import {
  Bulkhead,
  CircuitBreaker,
  type CircuitState,
  findInChain,
  isTimeoutError,
  type Logger,
  RateLimiter,
  Retry,
  Timeout,
} from '@resilience/core';
import { bulkhead, circuitBreaker, rateLimit, timeout } from '@resilience/express';
import { metricsHandler, PrometheusRecorder } from '@resilience/metrics-prometheus';
import express, { type Express } from 'express';
import { Registry } from 'prom-client';

/** Settings of the gateway; the demo shortens the breaker's open time for short runs. */
export interface GatewaySettings {
  /** Where the upstream listens, e.g. `http://127.0.0.1:4001`. */
  readonly upstreamUrl: string;
  /** Structured logs of every pattern. */
  readonly logger: Logger;
  /** Requests per second per client. @default 50 */
  readonly ratePerSecond?: number;
  /** Requests handled at once; as many more may wait. @default 8 */
  readonly maxConcurrent?: number;
  /** The whole request's time limit, in ms. @default 500 */
  readonly requestTimeout?: number;
  /** One upstream attempt's time limit, in ms. @default 250 */
  readonly attemptTimeout?: number;
  /** How long the breaker stays open before a probe, in ms. @default 2000 */
  readonly breakerOpenTime?: number;
  /** Told about every breaker transition. */
  readonly onBreakerChange?: (from: CircuitState, to: CircuitState) => void;
}

/** The gateway app and the pattern instances behind it (the demo watches them). */
export interface Gateway {
  readonly app: Express;
  readonly breaker: CircuitBreaker;
  readonly bulkhead: Bulkhead;
  readonly limiter: RateLimiter;
  /** The registry every pattern reports to, served at `GET /metrics`. */
  readonly registry: Registry;
  /** The bulkhead's `maxConcurrent`. */
  readonly maxConcurrent: number;
}

/** The upstream answered with a server error. */
class UpstreamError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`upstream answered ${status}`);
    this.name = 'UpstreamError';
    this.status = status;
  }
}

/**
 * The gateway: `GET /api/quote` fetches a quote from the upstream.
 *
 * - `rateLimit`: 50 requests a second per client IP; 429 with `Retry-After`
 *   and `RateLimit` headers beyond that.
 * - `bulkhead`: at most 8 requests at once, 8 more waiting up to 200 ms;
 *   503 beyond that. Outside the breaker, so shedding load never trips it.
 * - `circuitBreaker`: 5 failed answers in a row open it; while open,
 *   requests fail fast with 503 and `Retry-After`; after the open time it
 *   lets 3 probes through, and 3 successes close it again.
 * - `timeout`: a core `Timeout` named `request` (logged like every pattern),
 *   500 ms for the whole request, 503 when it runs out; its
 *   `req.signal` cancels the upstream call.
 * - Around the upstream call: core `Retry` (2 attempts, 50 ms apart) of a
 *   core `Timeout` (250 ms per attempt).
 * - `GET /metrics`: every pattern's Prometheus metrics
 *   (`@resilience/metrics-prometheus`), for Prometheus to scrape.
 */
export function createGateway(settings: GatewaySettings): Gateway {
  const { logger } = settings;
  const rate = settings.ratePerSecond ?? 50;
  const maxConcurrent = settings.maxConcurrent ?? 8;
  const registry = new Registry();
  const metrics = new PrometheusRecorder({ registry });

  const limiter = new RateLimiter({ name: 'gateway', rate, interval: 1000, logger, metrics });
  const bh = new Bulkhead({
    name: 'gateway',
    maxConcurrent,
    maxQueue: maxConcurrent,
    queueTimeout: 200,
    logger,
    metrics,
  });
  const breaker = new CircuitBreaker({
    name: 'upstream',
    logger,
    metrics,
    timeout: settings.breakerOpenTime ?? 2000,
    maxRequests: 3,
    readyToTrip: (counts) => counts.consecutiveFailures >= 5,
    onStateChange: (from, to) => {
      logger.warn('breaker state changed', { breaker: 'upstream', from, to });
      settings.onBreakerChange?.(from, to);
    },
  });
  const attempt = new Timeout({
    name: 'upstream_attempt',
    defaultTimeout: settings.attemptTimeout ?? 250,
    logger,
    metrics,
  });
  const retry = new Retry({ name: 'upstream', maxAttempts: 2, initialDelay: 50, backoff: 'constant', logger, metrics });

  const fetchQuote = (signal: AbortSignal | undefined): Promise<unknown> =>
    retry.execute(
      (ctx) =>
        attempt.execute(async (attemptCtx) => {
          const res = await fetch(`${settings.upstreamUrl}/quote`, { signal: attemptCtx.signal });
          if (res.status >= 500) {
            await res.body?.cancel();
            throw new UpstreamError(res.status);
          }
          return res.json();
        }, ctx),
      signal === undefined ? undefined : { signal },
    );

  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(registry));
  app.use(
    '/api',
    rateLimit(limiter, { logger }),
    bulkhead(bh),
    circuitBreaker(breaker),
    timeout(new Timeout({ name: 'request', defaultTimeout: settings.requestTimeout ?? 500, logger, metrics })),
  );
  app.get('/api/quote', async (req, res) => {
    try {
      res.json(await fetchQuote(req.signal));
    } catch (err) {
      if (req.signal?.aborted) return; // timeout() answered already, or the client left
      const timedOut = findInChain(err, isTimeoutError) !== undefined;
      logger.warn('upstream call failed', { err, timedOut });
      res
        .status(timedOut ? 504 : 502)
        .json(timedOut ? { error: 'upstream_timeout' } : { error: 'upstream_failed', message: 'Upstream error' });
    }
  });
  app.get('/health', (_req, res) => {
    res.json({ breaker: breaker.state, bulkhead: { active: bh.active, queued: bh.queued } });
  });
  return { app, breaker, bulkhead: bh, limiter, registry, maxConcurrent };
}
