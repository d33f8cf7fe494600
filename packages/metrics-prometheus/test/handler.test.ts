import http, { type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType, register } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { prefersOpenMetrics } from '../src/exposition.js';
import { metricsHandler, PrometheusRecorder } from '../src/index.js';

/** What Prometheus 2.42 sends when it scrapes. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const servers: Server[] = [];

async function serve(listener: RequestListener): Promise<string> {
  const server = http.createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  register.clear();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A registry with every metric of the recorder holding values, and a summary and a gauge of the user's own. */
function filledRegistry(registry = new Registry()): Registry {
  const metrics = new PrometheusRecorder({ registry });
  metrics.recordCircuitBreakerState('payments', 'open');
  metrics.recordCircuitBreakerCall('payments', 'rejected');
  metrics.recordRetryAttempt('fetch', 1, false);
  metrics.recordRateLimitHit('api');
  metrics.recordBulkheadUtilization('pool', 3, 1);
  metrics.recordTimeout('db');
  metrics.recordCallDuration('payments', 'circuit_breaker', 'success', 0.042);
  new Gauge({ name: 'app_info', help: 'Help with "quotes" and a \\ backslash', registers: [registry] }).set(1);
  return registry;
}

describe('metricsHandler on node:http', () => {
  it('serves the Prometheus text format by default, exactly what the registry renders', async () => {
    const registry = filledRegistry();
    const url = await serve(metricsHandler(registry));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TEXT);
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.text();
    expect(body).toBe(await registry.metrics());
    expect(body).toContain('resilience_circuit_breaker_state{name="payments",state="open"} 1');
    expect(body).toContain('resilience_circuit_breaker_calls_total{name="payments",outcome="rejected"} 1');
  });

  it('serves OpenMetrics when the Accept header prefers it, as a Prometheus scrape does', async () => {
    const url = await serve(metricsHandler(filledRegistry()));
    const res = await fetch(url, { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(res.headers.get('content-type')).toBe(OPENMETRICS);
    const body = await res.text();
    expect(body.endsWith('\n# EOF\n')).toBe(true);
    // Counter families lose _total, their samples keep it.
    expect(body).toContain('# TYPE resilience_timeouts counter\n');
    expect(body).toContain('resilience_timeouts_total{name="db"} 1\n');
    expect(body).toContain('# TYPE resilience_call_duration_seconds histogram\n');
    expect(body).toContain(
      'resilience_call_duration_seconds_bucket{le="0.05",name="payments",pattern="circuit_breaker",outcome="success"} 1\n',
    );
    expect(body).toContain(
      'resilience_call_duration_seconds_bucket{le="+Inf",name="payments",pattern="circuit_breaker",outcome="success"} 1\n',
    );
    expect(body).toContain('# HELP app_info Help with \\"quotes\\" and a \\\\ backslash\n');
    expect(body).not.toContain('\n\n');
  });

  it('leaves the registry as it was: text after OpenMetrics still names counters with _total', async () => {
    const registry = filledRegistry();
    const before = await registry.metrics();
    const url = await serve(metricsHandler(registry));
    await (await fetch(url, { headers: { accept: 'application/openmetrics-text' } })).text();
    expect(await (await fetch(url)).text()).toBe(before);
  });

  it('serves an OpenMetrics registry in both formats, with the same series names', async () => {
    const openMetricsRegistry = new Registry() as unknown as Registry<RegistryContentType>;
    openMetricsRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registry = filledRegistry(openMetricsRegistry as Registry);
    expect(registry.contentType).toBe(OPENMETRICS);
    new Counter({ name: 'jobs', help: 'Jobs done.', registers: [registry] }).inc(2);
    const url = await serve(metricsHandler(registry));
    const om = await fetch(url, { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(om.headers.get('content-type')).toBe(OPENMETRICS);
    const omBody = await om.text();
    expect(omBody).toContain('resilience_timeouts_total{name="db"} 1\n');
    expect(omBody).toContain('jobs_total 2\n');

    const text = await fetch(url, { headers: { accept: 'text/plain' } });
    expect(text.headers.get('content-type')).toBe(TEXT);
    const textBody = await text.text();
    expect(textBody).toContain('# TYPE resilience_timeouts_total counter\nresilience_timeouts_total{name="db"} 1\n');
    expect(textBody).toContain('# TYPE jobs_total counter\njobs_total 2\n');
    expect(textBody).not.toContain('# EOF');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const url = await serve(metricsHandler(filledRegistry()));
    const get = await fetch(url);
    const length = get.headers.get('content-length');
    await get.text();
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(TEXT);
    expect(head.headers.get('content-length')).toBe(length);
    expect(await head.text()).toBe('');
  });

  it('answers other methods with 405 and Allow', async () => {
    const url = await serve(metricsHandler(new Registry()));
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(url, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.text()).toBe('Method Not Allowed: use GET or HEAD\n');
    }
  });

  it('answers a plain 500 that does not reveal the error when collecting fails', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken',
      help: 'A gauge whose collect throws.',
      registers: [registry],
      collect() {
        throw new Error('secret connection string');
      },
    });
    const url = await serve(metricsHandler(registry));
    for (const accept of ['text/plain', 'application/openmetrics-text']) {
      const res = await fetch(url, { headers: { accept } });
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toBe('Collecting metrics failed\n');
    }
  });

  it('writes nothing when the client left before collecting finished', async () => {
    const registry = new Registry();
    let finish = (): void => {};
    const collecting = new Promise<void>((resolve) => (finish = resolve));
    let collects = 0;
    new Gauge({
      name: 'slow',
      help: 'A gauge whose collect waits.',
      registers: [registry],
      async collect() {
        collects++;
        await collecting;
        this.set(1);
      },
    });
    const handler = metricsHandler(registry);
    let response: http.ServerResponse | undefined;
    const closed = new Promise<void>((resolve) => {
      void serve((req, res) => {
        response = res;
        res.on('close', () => resolve());
        handler(req, res);
      }).then((url) => {
        const aborted = new AbortController();
        fetch(url, { signal: aborted.signal }).catch(() => {});
        const waitForCollect = setInterval(() => {
          if (collects > 0) {
            clearInterval(waitForCollect);
            aborted.abort();
          }
        }, 5);
      });
    });
    await closed;
    finish();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(response?.headersSent).toBe(false);
    expect(response?.writableEnded).toBe(false);
  });

  it('serves a registry-like object without a contentType in the text format instead of crashing', async () => {
    // It passes the check (metrics() and getMetricsAsJSON()); its undefined content type used to make
    // setHeader throw outside any catch: an unhandled rejection that ended the process.
    const real = filledRegistry();
    const merged = { metrics: () => real.metrics(), getMetricsAsJSON: () => real.getMetricsAsJSON() };
    const url = await serve(metricsHandler(merged as never));
    const text = await fetch(url, { signal: AbortSignal.timeout(5000) });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe(TEXT);
    expect(await text.text()).toBe(await real.metrics());
    const om = await fetch(url, { headers: { accept: PROMETHEUS_ACCEPT }, signal: AbortSignal.timeout(5000) });
    expect(om.headers.get('content-type')).toBe(OPENMETRICS);
    expect(await om.text()).toMatch(/# EOF\n$/);
  });

  it('answers 500 when a registry-like object renders something that is not text', async () => {
    const odd = { metrics: async () => undefined, getMetricsAsJSON: async () => [], contentType: TEXT };
    const url = await serve(metricsHandler(odd as never));
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Collecting metrics failed\n');
  });

  it("serves prom-client's global register by default", async () => {
    new PrometheusRecorder().recordTimeout('global');
    const url = await serve(metricsHandler());
    expect(await (await fetch(url)).text()).toContain('resilience_timeouts_total{name="global"} 1');
  });

  it('refuses something that is not a registry, at once', () => {
    expect(() => metricsHandler({} as never)).toThrow(
      new TypeError('metricsHandler: registry must be a prom-client Registry (with metrics()), got an object'),
    );
    expect(() => metricsHandler(null as never)).toThrow('got null');
    expect(() => metricsHandler('register' as never)).toThrow('got "register"');
  });
});

describe('metricsHandler on Express', () => {
  it('serves /metrics as a route, both formats', async () => {
    const registry = filledRegistry();
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    const url = await serve(app);
    const text = await fetch(`${url}/metrics`);
    expect(text.headers.get('content-type')).toBe(TEXT);
    expect(await text.text()).toBe(await registry.metrics());
    const om = await fetch(`${url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(om.headers.get('content-type')).toBe(OPENMETRICS);
    expect(await om.text()).toMatch(/# EOF\n$/);
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });

  it("hands a collecting failure to next(err), so the app's error handler answers", async () => {
    const registry = new Registry();
    new Histogram({
      name: 'broken_seconds',
      help: 'A histogram whose collect rejects.',
      registers: [registry],
      collect: () => Promise.reject(new Error('collector down')),
    });
    const seen: unknown[] = [];
    const app = express();
    app.use('/metrics', metricsHandler(registry));
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(err);
      res.status(503).send('metrics unavailable');
    });
    const url = await serve(app);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('metrics unavailable');
    expect(seen).toEqual([new Error('collector down')]);
    // Mounted with use(), other methods still get 405.
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('metricsHandler on Express, attacked', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['0', 0],
    ['an empty string', ''],
    ["'route'", 'route'],
    ["'router'", 'router'],
  ])('hands a collect that throws %s to the error handler, never to the next route', async (_, thrown) => {
    // Express reads next() with a falsy value as "no error", next('route') as "skip to the next route"
    // and next('router') as "leave the router": the scrape used to fall through to another handler.
    const registry = new Registry();
    new Gauge({
      name: 'broken',
      help: 'A gauge whose collect throws a value that is not an Error.',
      registers: [registry],
      collect() {
        throw thrown;
      },
    });
    const seen: unknown[] = [];
    const app = express();
    app.get('/metrics', metricsHandler(registry));
    app.get('/metrics', (_req, res) => {
      res.send('the next route');
    });
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(err);
      res.status(503).send('metrics unavailable');
    });
    const url = await serve(app);
    const res = await fetch(`${url}/metrics`);
    expect(await res.text()).toBe('metrics unavailable');
    expect(res.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(Error);
    expect((seen[0] as Error).message).toMatch(/^metricsHandler: collecting metrics failed with /);
    expect((seen[0] as Error).cause).toBe(thrown);
  });
});

describe('prefersOpenMetrics', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/plain', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ['application/openmetrics-text', true],
    ['Application/OpenMetrics-Text; version=1.0.0', true],
    [PROMETHEUS_ACCEPT, true],
    ['application/openmetrics-text;q=0', false],
    ['application/openmetrics-text;q=0.4, text/plain;q=0.5', false],
    ['text/plain;q=0.5, application/openmetrics-text;q=0.5', true],
    ['application/openmetrics-text;q=abc', false],
    ['application/openmetrics-text;q=7', true],
  ])('%j → %s', (accept, expected) => {
    expect(prefersOpenMetrics(accept)).toBe(expected);
  });
});
