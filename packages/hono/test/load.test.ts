import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bulkhead, circuitBreaker, type RateLimiterLike, rateLimit, signalOf, timeout } from '../src/index.js';
import { memoryLogger } from './helpers.js';

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('under load', () => {
  it('5,000 requests through all four guards settle, each once, and leave no slot or timer behind', async () => {
    const bh = new Bulkhead({ maxConcurrent: 50, maxQueue: 10_000 });
    const breaker = new CircuitBreaker({ readyToTrip: () => false });
    const inner = new RateLimiter({ rate: 1e9, burst: 1e9, interval: 60_000 });
    let consumed = 0;
    const remote: RateLimiterLike = {
      rate: inner.rate,
      burst: inner.burst,
      interval: inner.interval,
      consume: (key, tokens) =>
        consumed++ % 2 === 0 ? inner.consume(key, tokens) : Promise.resolve(inner.consume(key, tokens)),
    };
    const app = new Hono();
    app.onError((_err, c) => c.text('error', 500));
    app.use(rateLimit(remote, { key: () => 'k' }), bulkhead(bh), circuitBreaker(breaker), timeout(10_000));
    let handled = 0;
    app.get('/', (c) => {
      handled++;
      if (handled % 3 === 0) throw new Error('sometimes');
      return c.json({ aborted: signalOf(c).aborted });
    });
    const timersBefore = activeTimers();
    const answers = await Promise.all(Array.from({ length: 5_000 }, () => app.request('/')));
    const counts = new Map<number, number>();
    for (const res of answers) counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
    expect(counts.get(200)).toBe(5_000 - Math.floor(5_000 / 3));
    expect(counts.get(500)).toBe(Math.floor(5_000 / 3));
    expect(answers[0]?.headers.get('ratelimit')).toMatch(/^limit=1000000000, remaining=\d+, reset=\d+$/);
    expect(bh.active + bh.queued).toBe(0);
    expect(breaker.counts.totalFailures).toBe(Math.floor(5_000 / 3));
    expect(breaker.counts.totalSuccesses).toBe(5_000 - Math.floor(5_000 / 3));
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('survives 5,000 limiters that throw synchronously', async () => {
    const log = memoryLogger();
    const broken: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () => {
        throw new Error('down');
      },
    };
    const app = new Hono();
    app.use(rateLimit(broken, { key: () => 'k', logger: log.logger }));
    app.get('/', (c) => c.text('ok'));
    const answers = await Promise.all(Array.from({ length: 5_000 }, () => app.request('/')));
    expect(answers.every((res) => res.status === 200)).toBe(true);
    expect(log.records.filter((r) => r.level === 'error').length).toBeLessThanOrEqual(2);
  });
});
