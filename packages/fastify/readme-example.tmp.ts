import { setTimeout as sleep } from 'node:timers/promises';
import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import { bulkhead, circuitBreaker, rateLimit, routeHooks, timeout } from '@resilience/fastify';
import Fastify from 'fastify';

const app = Fastify();

// Every route of the app: 3 requests per 10 s per client (IPv6 grouped by /56), with RateLimit headers.
await app.register(rateLimit(new RateLimiter({ rate: 3, interval: 10_000 }), { validate: false }));

// One route: at most 2 at once (2 more wait), a breaker, and 100 ms to answer.
const guard = routeHooks(
  bulkhead(new Bulkhead({ maxConcurrent: 2, maxQueue: 2, queueTimeout: 500 })), // 503 when full
  circuitBreaker(new CircuitBreaker({ timeout: 10_000 })), // 503 while open
  timeout(100), // 503 when the handler takes longer; request.signal aborts
);
app.get('/report', { ...guard }, async (request) => {
  const delay = Number((request.query as { delay?: string }).delay ?? 0);
  // Slow work that stops when the time is up or the client leaves.
  await sleep(delay, undefined, { signal: request.signal });
  return { ok: true };
});

const url = await app.listen({ port: 0, host: '127.0.0.1' });
for (const delay of [0, 500, 0, 0]) {
  const res = await fetch(`${url}/report?delay=${delay}`);
  console.log(res.status, res.headers.get('ratelimit'), res.headers.get('retry-after') ?? '-');
}
// 200 limit=3, remaining=2, reset=4 -
// 503 limit=3, remaining=1, reset=7 -      (the timeout answered)
// 200 limit=3, remaining=0, reset=10 -
// 429 limit=3, remaining=0, reset=10 4     (refused: Retry-After in seconds)
await app.close();
