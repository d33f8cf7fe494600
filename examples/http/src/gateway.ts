import {
  type Bulkhead,
  type CircuitBreaker,
  type CircuitState,
  findInChain,
  isTimeoutError,
  type Logger,
  PolicyRegistry,
  type RateLimiter,
} from '@resilience/core';
import { bulkhead, circuitBreaker, healthHandler, rateLimit, timeout } from '@resilience/express';
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
  /** Every pattern above, by name: `GET /health` answers from its `health()`. */
  readonly policies: PolicyRegistry;
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
  // One registry names every pattern: `GET /health` reads it, and one logger and one recorder reach them all
  // (the recorder's `policies` option attaches it to every policy, those created below included).
  const policies = new PolicyRegistry({ logger });
  new PrometheusRecorder({ registry, policies });
  const limiter = policies.rateLimiter('gateway', { rate, interval: 1000 });
  const bh = policies.bulkhead('gateway', { maxConcurrent, maxQueue: maxConcurrent, queueTimeout: 200 });
  // Critical: while it is open the gateway cannot serve quotes, so /health answers 503.
  const breaker = policies.circuitBreaker(
    'upstream',
    {
      timeout: settings.breakerOpenTime ?? 2000,
      maxRequests: 3,
      readyToTrip: (counts) => counts.consecutiveFailures >= 5,
      onStateChange: (from, to) => {
        logger.warn('breaker state changed', { breaker: 'upstream', from, to });
        settings.onBreakerChange?.(from, to);
      },
    },
    { critical: true },
  );
  const attempt = policies.timeout('upstream_attempt', { defaultTimeout: settings.attemptTimeout ?? 250 });
  const retry = policies.retry('upstream', { maxAttempts: 2, initialDelay: 50, backoff: 'constant' });

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
    timeout(policies.timeout('request', { defaultTimeout: settings.requestTimeout ?? 500 })),
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
  // 200 with every breaker's state and bulkhead's load; 503 while the critical breaker is open.
  app.get('/health', healthHandler(policies));
  return { app, breaker, bulkhead: bh, limiter, registry, policies, maxConcurrent };
}
