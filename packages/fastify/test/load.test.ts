import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { bulkhead, circuitBreaker, type RateLimiterLike, rateLimit, timeout } from '../src/index.js';
import { memoryLogger } from './helpers.js';

/** Timers the process holds (Node's own bookkeeping of active handles). */
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
      // Every other decision comes in a promise, as from Redis.
      consume: (key, tokens) =>
        consumed++ % 2 === 0 ? inner.consume(key, tokens) : Promise.resolve(inner.consume(key, tokens)),
    };
    const app = Fastify();
    await app.register(rateLimit(remote, { validate: false }));
    await app.register(bulkhead(bh));
    await app.register(circuitBreaker(breaker));
    await app.register(timeout(10_000));
    let handled = 0;
    app.get('/', async (request) => {
      handled++;
      if (handled % 3 === 0) throw new Error('sometimes');
      return { aborted: request.signal.aborted };
    });
    await app.ready();
    const timersBefore = activeTimers();
    const answers = await Promise.all(Array.from({ length: 5_000 }, () => app.inject({ url: '/' })));
    const counts = new Map<number, number>();
    for (const res of answers) counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
    expect(counts.get(200)).toBe(5_000 - Math.floor(5_000 / 3));
    expect(counts.get(500)).toBe(Math.floor(5_000 / 3));
    expect(handled).toBe(5_000);
    expect(bh.active + bh.queued).toBe(0);
    expect(breaker.counts.totalFailures).toBe(Math.floor(5_000 / 3));
    expect(breaker.counts.totalSuccesses).toBe(5_000 - Math.floor(5_000 / 3));
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    await app.close();
  });

  it('survives 5,000 limiters that throw synchronously: every request answered, the failures logged once a second', async () => {
    const log = memoryLogger();
    const broken: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: () => {
        throw new Error('down');
      },
    };
    const app = Fastify();
    await app.register(rateLimit(broken, { logger: log.logger, failMode: 'closed', validate: false }));
    app.get('/', async () => 'ok');
    await app.ready();
    const answers = await Promise.all(Array.from({ length: 5_000 }, () => app.inject({ url: '/' })));
    expect(answers.every((res) => res.statusCode === 503)).toBe(true);
    expect(log.records.filter((r) => r.level === 'error').length).toBeLessThanOrEqual(2);
    await app.close();
  });
});
