import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeValue } from '@resilience/core/validate';
import { type Registry, type RegistryContentType, register } from 'prom-client';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, prefersOpenMetrics, render } from './exposition.js';

/**
 * A request handler that serves a registry's metrics. It has both shapes:
 * a `node:http` request listener `(req, res)` and Express middleware
 * `(req, res, next)`.
 */
export type MetricsHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

async function exposition(
  registry: Registry<RegistryContentType>,
  openMetrics: boolean,
): Promise<{ body: string; contentType: string }> {
  // Anything but OpenMetrics (a registry-like object may have no contentType) renders the text format.
  const own = registry.contentType === OPENMETRICS_TEXT;
  const contentType = openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
  if (own !== openMetrics) return { body: render(await registry.getMetricsAsJSON(), openMetrics), contentType };
  const body: unknown = await registry.metrics();
  if (typeof body !== 'string') {
    throw new TypeError(`metricsHandler: registry.metrics() must give a string, got ${describeValue(body)}`);
  }
  return { body, contentType };
}

/**
 * `err` as Express' `next()` reads it as an error: a falsy value would mean
 * "no error" and `'route'` / `'router'` "skip the rest of this route / router",
 * so those are wrapped in an `Error` with the value as its `cause`.
 */
function asExpressError(err: unknown): unknown {
  if (err && err !== 'route' && err !== 'router') return err;
  return new Error(`metricsHandler: collecting metrics failed with ${describeValue(err)}`, { cause: err });
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Serves the metrics of `registry` for Prometheus to scrape, as a `node:http`
 * request listener or as Express middleware (the same function works as both).
 *
 * - `GET` and `HEAD` answer 200 with the Prometheus text format
 *   (`text/plain; version=0.0.4`), or OpenMetrics 1.0.0 when the `Accept`
 *   header prefers `application/openmetrics-text` (as Prometheus' own scrapes
 *   do); `Vary: Accept` and `Cache-Control: no-store` are set.
 * - Any other method answers 405 with `Allow: GET, HEAD`.
 * - When collecting fails (a collect callback of the registry throws), the
 *   error goes to Express' `next(err)`, or, with no `next`, the answer is a
 *   plain 500 that does not reveal the error. A thrown value Express would not
 *   read as an error (`undefined`, `null`, `0`, `''`, `'route'`, `'router'`)
 *   reaches `next` wrapped in an `Error` whose `cause` is that value.
 * - Any object with `metrics()` and `getMetricsAsJSON()` is served; one
 *   without prom-client's OpenMetrics `contentType` renders the text format,
 *   and a `metrics()` that gives no string is a collecting failure.
 *
 * It does not look at the path: mount it where it belongs
 * (`app.get('/metrics', metricsHandler(registry))`).
 *
 * @param registry The registry to serve. @default prom-client's global `register`
 * @throws {TypeError} when `registry` is not a prom-client `Registry`.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { metricsHandler } from '@resilience/metrics-prometheus';
 *
 * const serve = metricsHandler(registry);
 * http.createServer((req, res) => (req.url === '/metrics' ? serve(req, res) : res.writeHead(404).end())).listen(9464);
 * ```
 */
export function metricsHandler(registry?: Registry<RegistryContentType>): MetricsHandler {
  const reg = registry === undefined ? register : registry;
  for (const method of ['metrics', 'getMetricsAsJSON']) {
    if (
      reg === null ||
      typeof reg !== 'object' ||
      typeof (reg as unknown as Record<string, unknown>)[method] !== 'function'
    ) {
      throw new TypeError(
        `metricsHandler: registry must be a prom-client Registry (with ${method}()), got ${describeValue(registry)}`,
      );
    }
  }
  return function serveMetrics(req, res, next): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      plain(res, 405, 'Method Not Allowed: use GET or HEAD\n');
      return;
    }
    const openMetrics = prefersOpenMetrics(req.headers.accept);
    void (async () => {
      let answer: { body: string; contentType: string };
      try {
        answer = await exposition(reg, openMetrics);
      } catch (err) {
        if (next !== undefined) next(asExpressError(err));
        else if (!res.headersSent && !res.destroyed) plain(res, 500, 'Collecting metrics failed\n');
        return;
      }
      if (res.headersSent || res.destroyed) return;
      res.statusCode = 200;
      res.setHeader('Content-Type', answer.contentType);
      res.setHeader('Content-Length', Buffer.byteLength(answer.body));
      res.setHeader('Vary', 'Accept');
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    })().catch(() => {
      // Answering failed (a response something else half wrote): close it, never an unhandled rejection.
      if (!res.destroyed) res.destroy();
    });
  };
}
