import http from 'node:http';
import { Bulkhead, CircuitBreaker, isTimeoutError, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bulkhead,
  type CircuitBreakerLike,
  type CircuitPermitLike,
  circuitBreaker,
  signalOf,
  timeout,
} from '../src/index.js';
import { gate, type Served, serveApp, until } from './helpers.js';

type Report = 'success' | 'failure' | 'ignore';

function recordingBreaker(reports: Report[]): CircuitBreakerLike {
  return {
    acquire: (): CircuitPermitLike => ({
      success: () => reports.push('success'),
      failure: () => reports.push('failure'),
      ignore: () => reports.push('ignore'),
    }),
  };
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

describe('circuitBreaker', () => {
  it('counts 5xx and thrown errors as failures, opens, and answers 503 with Retry-After without running the handler', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      clock,
      timeout: 30_000,
      readyToTrip: (counts) => counts.consecutiveFailures >= 2,
    });
    const app = new Hono();
    app.use(circuitBreaker(breaker));
    app.onError((_err, c) => c.text('internal error', 500));
    let calls = 0;
    app.get('/bad', (c) => {
      calls++;
      return c.text('bad gateway', 502);
    });
    app.get('/throw', () => {
      calls++;
      throw new Error('boom');
    });
    expect((await app.request('/bad')).status).toBe(502);
    expect((await app.request('/throw')).status).toBe(500);
    expect(breaker.state).toBe('open');
    const rejected = await app.request('/bad');
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('30');
    expect(await rejected.json()).toEqual({
      error: 'service_unavailable',
      message: 'The service is temporarily unavailable. Try again later.',
    });
    expect(calls).toBe(2);
  });

  it('counts 4xx as success, failureStatuses as given, and an error as a failure whatever onError answers', async () => {
    const reports: Report[] = [];
    const app = new Hono();
    app.use(circuitBreaker(recordingBreaker(reports), { failureStatuses: [429, 500] }));
    app.onError((_err, c) => c.text('handled', 400));
    app.get('/404', (c) => c.text('nope', 404));
    app.get('/429', (c) => c.text('busy', 429));
    app.get('/503', (c) => c.text('down', 503));
    app.get('/throw', () => {
      throw new Error('boom');
    });
    for (const url of ['/404', '/429', '/503', '/throw']) await app.request(url);
    expect(reports).toEqual(['success', 'failure', 'success', 'failure']);
  });

  it('counts a timeout answer inside it as a failure', async () => {
    const reports: Report[] = [];
    const app = new Hono();
    app.get('/', circuitBreaker(recordingBreaker(reports)), timeout(20), async (c) => {
      await aborted(c.var.signal);
      return c.text('late');
    });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('"error":"timeout"');
    expect(reports).toEqual(['failure']);
  });

  it('ignores a call whose client disconnected, over real HTTP', async () => {
    const reports: Report[] = [];
    const app = new Hono();
    const started = gate();
    app.use(circuitBreaker(recordingBreaker(reports)));
    app.get('/', async (c) => {
      started.open();
      await aborted(c.req.raw.signal);
      return c.text('nobody listens', 500);
    });
    served = await serveApp(app);
    const req = http.get(served.url);
    req.on('error', () => {});
    await started.promise;
    req.destroy();
    await until(() => reports.length === 1);
    expect(reports).toEqual(['ignore']);
  });

  it('refuses bad arguments', () => {
    expect(() => circuitBreaker({} as CircuitBreakerLike)).toThrow(
      'circuitBreaker: breaker must have an acquire() method, got an object',
    );
    expect(() => circuitBreaker(new CircuitBreaker({}), { threshold: 3 } as never)).toThrow(
      'circuitBreaker: unknown option "threshold"',
    );
  });
});

describe('timeout', () => {
  it('answers 503 when time is up, aborts c.var.signal with a TimeoutError, and the late answer goes nowhere', async () => {
    const app = new Hono();
    let reason: unknown;
    const finished = gate();
    app.use(async (c, next) => {
      c.header('x-before', 'kept');
      await next();
    });
    app.get('/', timeout(20), async (c) => {
      c.header('cache-control', 'max-age=3600');
      await aborted(c.var.signal);
      reason = c.var.signal.reason;
      c.header('x-late', '1');
      setTimeout(() => finished.open(), 5);
      return c.text('late', 200);
    });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
    expect(res.headers.get('x-before')).toBe('kept');
    expect(res.headers.get('cache-control')).toBeNull();
    expect(res.headers.get('x-late')).toBeNull();
    await finished.promise;
    expect(isTimeoutError(reason)).toBe(true);
  });

  it('keeps its 503 when the handler throws once its signal aborts (Hono answers errors with onError)', async () => {
    const app = new Hono();
    const errors: unknown[] = [];
    app.onError((err, c) => {
      errors.push(err);
      return c.text('error page', 500);
    });
    app.get('/', timeout(20), async (c) => {
      await aborted(c.var.signal);
      throw c.var.signal.reason;
    });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('"error":"timeout"');
    expect(errors).toHaveLength(1);
  });

  it('lets a request in time through, with a live signal; a Timeout instance and statusCode work', async () => {
    const app = new Hono();
    app.get('/', timeout(new Timeout({ defaultTimeout: 5_000 }), { statusCode: 504 }), (c) =>
      c.json({ aborted: c.var.signal.aborted, same: signalOf(c) === c.var.signal }),
    );
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ aborted: false, same: true });
  });

  it('aborts the signal when the client disconnects, over real HTTP', async () => {
    const app = new Hono();
    const started = gate();
    let reason: unknown;
    app.get('/', timeout(5_000), async (c) => {
      started.open();
      await aborted(c.var.signal);
      reason = c.var.signal.reason;
      return c.text('gone');
    });
    served = await serveApp(app);
    const req = http.get(served.url);
    req.on('error', () => {});
    await started.promise;
    req.destroy();
    await until(() => reason !== undefined);
    expect(isTimeoutError(reason)).toBe(false);
  });

  it('answers over real HTTP', async () => {
    const app = new Hono();
    app.get('/', timeout(20), async (c) => {
      await aborted(c.var.signal);
      return c.text('late');
    });
    served = await serveApp(app);
    const res = await fetch(served.url);
    expect(res.status).toBe(503);
  });

  it('refuses bad arguments', () => {
    expect(() => timeout(0)).toThrow('timeout: ms must be a finite number > 0, got 0');
    expect(() => timeout(Number.POSITIVE_INFINITY)).toThrow('got Infinity');
    expect(() => timeout({} as never)).toThrow('timeout: msOrTimeout must have an execute() method, got an object');
    expect(() => timeout(10, { statusCode: 200 })).toThrow('statusCode');
  });
});

describe('bulkhead', () => {
  it('runs maxConcurrent at once, queues maxQueue, answers the rest 503 with Retry-After, and frees every slot', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const app = new Hono();
    const release = gate();
    let running = 0;
    let most = 0;
    app.get('/', bulkhead(bh), async (c) => {
      running++;
      most = Math.max(most, running);
      await release.promise;
      running--;
      return c.text('ok');
    });
    const first = app.request('/');
    const second = app.request('/');
    await until(() => bh.active === 1 && bh.queued === 1);
    const third = await app.request('/');
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toEqual({ error: 'overloaded', message: 'The service is busy. Try again later.' });
    release.open();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(most).toBe(1);
    expect(bh.active + bh.queued).toBe(0);
  });

  it('bounds the queue wait with an outer timeout', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const app = new Hono();
    const release = gate();
    app.get('/', timeout(30), bulkhead(bh, { retryAfter: false }), async (c) => {
      await release.promise;
      return c.text('ok');
    });
    const first = app.request('/');
    await until(() => bh.active === 1);
    const queued = await app.request('/');
    expect(queued.status).toBe(503);
    expect(((await queued.json()) as { error: string }).error).toBe('timeout');
    expect(bh.queued).toBe(0);
    release.open();
    await first;
  });

  it('lets a queued client that disconnects leave the queue at once, over real HTTP', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const app = new Hono();
    const release = gate();
    app.get('/', bulkhead(bh), async (c) => {
      await release.promise;
      return c.text('ok');
    });
    served = await serveApp(app);
    const first = fetch(served.url);
    await until(() => bh.active === 1);
    const req = http.get(served.url);
    req.on('error', () => {});
    await until(() => bh.queued === 1);
    req.destroy();
    await until(() => bh.queued === 0);
    release.open();
    expect((await first).status).toBe(200);
    await until(() => bh.active === 0);
  });

  it('refuses bad arguments', () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    expect(() => bulkhead(undefined as never)).toThrow('bulkhead: bh must have an execute() method, got undefined');
    expect(() => bulkhead(bh, { retryAfter: 1.5 })).toThrow('retryAfter must be an integer >= 0 or false, got 1.5');
  });
});

describe('circuitBreaker and predicates that return promises', () => {
  it('counts the call as a failure and never leaves a rejection unhandled', async () => {
    const reports: Report[] = [];
    const app = new Hono();
    app.use(
      circuitBreaker(recordingBreaker(reports), {
        failureStatuses: (async () => Promise.reject(new Error('lookup failed'))) as never,
      }),
    );
    app.get('/', (c) => c.text('ok'));
    expect((await app.request('/')).status).toBe(200);
    expect(reports).toEqual(['failure']);
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
